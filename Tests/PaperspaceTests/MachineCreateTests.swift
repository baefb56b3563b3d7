import Foundation
import HTTP
import Paperspace
import StandIns
import Support
import Testing

private let request = MachineCreateRequest(
    name: "nightshift-nightly-20260302-0915",
    machineType: "A4000",
    templateId: "t0nspur5",
    diskSize: 100,
    region: "East Coast (NY2)",
    startupScriptId: "scr8a2kq",
    autoShutdownTimeoutHours: 6
)

/// A stateful create server: `POST /machines` passes each request's index to `onPost`, which may store a machine
/// and returns the response. `GET /machines` lists what is stored.
private func startCreateServer(
    stored initial: [StoredMachine] = [],
    onPost: @escaping @Sendable (Int, Protected<[StoredMachine]>) -> HTTPResponse
) throws -> (ScriptedServer, Protected<[StoredMachine]>) {
    let machines = Protected(initial)
    let posts = Protected(0)
    let server = try ScriptedServer { incoming in
        switch (incoming.method, incoming.path) {
        case ("GET", "/v1/machines"):
            return listing(machines.current, for: incoming)
        case ("POST", "/v1/machines"):
            let index = posts.withLock { count -> Int in
                count += 1
                return count
            }
            return onPost(index, machines)
        default:
            return errorResponse(404, "NOT_FOUND", "no route")
        }
    }
    return (server, machines)
}

/// Stores the machine a create of `request` makes and returns it.
@discardableResult
private func store(_ machines: Protected<[StoredMachine]>, id: String) -> StoredMachine {
    let machine = StoredMachine(id: id, name: request.name)
    machines.withLock { $0.append(machine) }
    return machine
}

@Test func createSendsDocumentedBody() throws {
    let (server, _) = try startCreateServer { _, machines in
        mutationResponse(store(machines, id: "psnew001").json, event: "create")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let machine = try harness.client.createMachine(request)

    #expect(machine.id == "psnew001")
    #expect(machine.state == .provisioning)
    let post = try #require(server.received("POST", "/v1/machines").first)
    #expect(post.header("Content-Type") == "application/json")
    #expect(post.header("Authorization") == "Bearer \(testAPIKey)")
    let text = String(decoding: post.body, as: UTF8.self)
    #expect(text.contains("\"diskSize\":100"))
    #expect(text.contains("\"autoShutdownTimeout\":6"))
    #expect(text.contains("\"startOnCreate\":true"))
    #expect(text.contains("\"autoShutdownEnabled\":true"))
    #expect(text.contains("\"autoShutdownForce\":true"))
    #expect(text.contains("\"emailPassword\":false"))
    let body = try #require(post.jsonBody as? [String: Any])
    #expect(body["name"] as? String == request.name)
    #expect(body["machineType"] as? String == "A4000")
    #expect(body["templateId"] as? String == "t0nspur5")
    #expect(body["region"] as? String == "East Coast (NY2)")
    #expect(body["startupScriptId"] as? String == "scr8a2kq")
    #expect(body["publicIpType"] as? String == "dynamic")
    #expect(body.count == 12)
}

@Test func createWithoutAutoShutdownOmitsIt() throws {
    let (server, _) = try startCreateServer { _, machines in
        mutationResponse(store(machines, id: "psnew001").json, event: "create")
    }
    defer { server.stop() }
    let harness = makeHarness(server)
    var plain = request
    plain.autoShutdownTimeoutHours = nil
    plain.startupScriptId = nil

    _ = try harness.client.createMachine(plain)

    let body = try #require(server.received("POST", "/v1/machines").first?.jsonBody as? [String: Any])
    #expect(body["autoShutdownEnabled"] == nil)
    #expect(body["autoShutdownTimeout"] == nil)
    #expect(body["autoShutdownForce"] == nil)
    #expect(body["startupScriptId"] == nil)
}

@Test func createIsNeverRetried() throws {
    let (server, _) = try startCreateServer { _, _ in errorResponse(500, "INTERNAL_SERVER_ERROR", "upstream failed") }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.createMachine(request) }

    #expect(error.status == 500)
    #expect(server.received("POST", "/v1/machines").count == 1)
    #expect(harness.sleeps.current.isEmpty)
}

@Test func createRejectsInvalidRequestUnsent() throws {
    let server = try ScriptedServer { _ in errorResponse(500, "INTERNAL_SERVER_ERROR", "unexpected") }
    defer { server.stop() }
    let harness = makeHarness(server)
    var invalid = request
    invalid.autoShutdownTimeoutHours = 0

    let error = try #require(throws: PaperspaceError.self) { try harness.client.ensureMachine(invalid) }

    guard case .invalidRequest = error else {
        Issue.record("expected invalidRequest, got \(error)")
        return
    }
    #expect(error.description.contains("autoShutdownTimeoutHours 0"))
    #expect(server.requests.current.isEmpty)
}

@Test func ensureAdoptsExistingWithoutPost() throws {
    let existing = StoredMachine(id: "psold001", name: request.name, state: "ready")
    let (server, _) = try startCreateServer(stored: [existing]) { _, _ in
        errorResponse(500, "INTERNAL_SERVER_ERROR", "must not be called")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let result = try harness.client.ensureMachine(request)

    #expect(result.machine.id == "psold001")
    #expect(result.created == false)
    #expect(server.received("POST", "/v1/machines").isEmpty)
}

@Test func ensureCreatesWhenNameIsFree() throws {
    let other = StoredMachine(id: "psother1", name: "someone-else")
    let (server, _) = try startCreateServer(stored: [other]) { _, machines in
        mutationResponse(store(machines, id: "psnew001").json, event: "create")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let result = try harness.client.ensureMachine(request)

    #expect(result.machine.id == "psnew001")
    #expect(result.created == true)
    #expect(server.log == ["GET /v1/machines", "POST /v1/machines"])
}

@Test func lostCreateAfterServerErrorIsAdopted() throws {
    let (server, machines) = try startCreateServer { _, machines in
        store(machines, id: "pslanded")
        return errorResponse(500, "INTERNAL_SERVER_ERROR", "gateway lost the upstream response")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let result = try harness.client.ensureMachine(request)

    #expect(result.machine.id == "pslanded")
    #expect(result.created == true)
    #expect(server.received("POST", "/v1/machines").count == 1)
    #expect(machines.current.count == 1)
    #expect(harness.sleeps.current.isEmpty)
}

@Test func lostCreateAfterTimeoutIsAdopted() throws {
    let (server, machines) = try startCreateServer { _, machines in
        store(machines, id: "psslow01")
        // Respond only after the client's total timeout, so the client sees a transport error.
        Thread.sleep(forTimeInterval: 1.5)
        return mutationResponse(machines.current[0].json, event: "create")
    }
    defer { server.stop() }
    let harness = makeHarness(server, totalTimeout: 0.5)

    let result = try harness.client.ensureMachine(request)

    #expect(result.machine.id == "psslow01")
    #expect(result.created == true)
    #expect(server.received("POST", "/v1/machines").count == 1)
    #expect(machines.current.count == 1)
    #expect(rawText(harness.capture).contains("Adopting a resource whose create response was lost"))
}

@Test func failedCreateIsRepostedAfterEmptyLookup() throws {
    let (server, _) = try startCreateServer { index, machines in
        if index == 1 {
            return errorResponse(503, "INTERNAL_SERVER_ERROR", "Service temporarily unavailable")
        }
        return mutationResponse(store(machines, id: "psnew002").json, event: "create")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let result = try harness.client.ensureMachine(request)

    #expect(result.machine.id == "psnew002")
    #expect(result.created == true)
    #expect(harness.sleeps.current.count == 1)
    // Every post follows a lookup that found nothing.
    #expect(
        server.log == [
            "GET /v1/machines", "POST /v1/machines", "GET /v1/machines", "GET /v1/machines", "POST /v1/machines",
        ]
    )
}

@Test func createRetryHonoursRetryAfter() throws {
    let (server, _) = try startCreateServer { index, machines in
        if index == 1 {
            return errorResponse(429, "TOO_MANY_REQUESTS", "Slow down", headers: [("Retry-After", "4")])
        }
        return mutationResponse(store(machines, id: "psnew003").json, event: "create")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let result = try harness.client.ensureMachine(request)

    #expect(result.machine.id == "psnew003")
    #expect(harness.sleeps.current == [4])
    #expect(server.received("POST", "/v1/machines").count == 2)
}

@Test func ensureGivesUpAfterMaxAttempts() throws {
    let (server, machines) = try startCreateServer { _, _ in
        errorResponse(502, "INTERNAL_SERVER_ERROR", "Bad gateway")
    }
    defer { server.stop() }
    let harness = makeHarness(server, retry: RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 30))

    let error = try #require(throws: PaperspaceError.self) { try harness.client.ensureMachine(request) }

    #expect(error.status == 502)
    #expect(server.received("POST", "/v1/machines").count == 3)
    #expect(harness.sleeps.current.count == 2)
    #expect(machines.current.isEmpty)
}

@Test func ensureDoesNotRetryClientErrors() throws {
    let (server, _) = try startCreateServer { _, _ in
        errorResponse(400, "BAD_REQUEST", "Machine type A4000 is not available in region East Coast (NY2)")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.ensureMachine(request) }

    #expect(error.code == "BAD_REQUEST")
    #expect(server.log == ["GET /v1/machines", "POST /v1/machines"])
}

@Test func unreadableCreateSuccessIsNotReposted() throws {
    let (server, _) = try startCreateServer { _, _ in .json(200, ["event": ["id": "evt1"]]) }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.ensureMachine(request) }

    guard case .invalidResponse = error else {
        Issue.record("expected invalidResponse, got \(error)")
        return
    }
    #expect(server.log == ["GET /v1/machines", "POST /v1/machines", "GET /v1/machines"])
}

@Test func duplicateNamesAdoptOldest() throws {
    let stored = [
        StoredMachine(id: "psmid002", name: request.name, dtCreated: "2026-03-02T09:20:00.000Z"),
        StoredMachine(id: "psold001", name: request.name, dtCreated: "2026-03-02T09:15:00.000Z"),
        StoredMachine(id: "psnew003", name: request.name, dtCreated: "2026-03-02T09:25:00.000Z"),
    ]
    let (server, _) = try startCreateServer(stored: stored) { _, _ in
        errorResponse(500, "INTERNAL_SERVER_ERROR", "must not be called")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let result = try harness.client.ensureMachine(request)

    #expect(result.machine.id == "psold001")
    #expect(result.created == false)
    let warning = try #require(harness.capture.records.first { $0.level == .warning })
    #expect(warning.metadata["machine.ids"] == "psmid002,psold001,psnew003")
    #expect(warning.metadata["machine.id"] == "psold001")
}

@Test func failedLookupPreventsPost() throws {
    let server = try ScriptedServer { incoming in
        incoming.method == "GET"
            ? errorResponse(403, "FORBIDDEN", "Team access denied")
            : errorResponse(500, "INTERNAL_SERVER_ERROR", "must not be called")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.ensureMachine(request) }

    #expect(error.status == 403)
    #expect(server.received("POST", "/v1/machines").isEmpty)
}
