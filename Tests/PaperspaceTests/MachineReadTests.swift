import Foundation
import HTTP
import Paperspace
import StandIns
import Support
import Testing

@Test func getSendsBearerKeyAndAccept() throws {
    let server = try ScriptedServer { _ in .json(200, machineJSON(id: "psabc123", name: "nightshift-run-1")) }
    defer { server.stop() }
    let harness = makeHarness(server)

    _ = try harness.client.getMachine(id: "psabc123")

    let request = try #require(server.received("GET", "/v1/machines/psabc123").first)
    #expect(request.header("Authorization") == "Bearer \(testAPIKey)")
    #expect(request.header("Accept") == "application/json")
    #expect(request.header("Content-Type") == nil)
    #expect(request.body.isEmpty)
}

@Test func getDecodesFullMachine() throws {
    let server = try ScriptedServer { _ in .json(200, machineJSON(id: "psabc123", name: "nightshift-run-1")) }
    defer { server.stop() }
    let harness = makeHarness(server)

    let machine = try #require(try harness.client.getMachine(id: "psabc123"))

    #expect(machine.id == "psabc123")
    #expect(machine.name == "nightshift-run-1")
    #expect(machine.state == .ready)
    #expect(machine.machineType == "A4000")
    #expect(machine.region == "East Coast (NY2)")
    #expect(machine.publicIp == "184.105.6.21")
    #expect(machine.privateIp == "10.41.0.7")
    #expect(machine.cpus == 8)
    #expect(machine.ram == 48_318_382_080)
    #expect(machine.autoShutdownEnabled == true)
    #expect(machine.autoShutdownTimeout == 8)
    #expect(machine.autoShutdownForce == true)
    #expect(machine.usageRate == 0.76)
    #expect(machine.dtCreated == Date(timeIntervalSince1970: 1_772_442_942.118))
    #expect(machine.dtDeleted == nil)
}

@Test func machineDecodesLeniently() throws {
    let body: [String: Any] = [
        "id": "psx0001",
        "name": "loose",
        "state": "hibernating",
        "publicIp": NSNull(),
        "autoShutdownTimeout": "6",
        "autoShutdownEnabled": "true",
        "usageRate": "Air hourly",
        "dtCreated": "2026-03-02T09:15:42Z",
        "somethingNew": ["nested": [1, 2, 3]],
    ]
    let response = HTTPResponse.json(200, body)
    let server = try ScriptedServer { _ in response }
    defer { server.stop() }
    let harness = makeHarness(server)

    let machine = try #require(try harness.client.getMachine(id: "psx0001"))

    #expect(machine.state == .unknown("hibernating"))
    #expect(machine.publicIp == nil)
    #expect(machine.machineType == "")
    #expect(machine.region == "")
    #expect(machine.autoShutdownTimeout == 6)
    #expect(machine.autoShutdownEnabled == true)
    #expect(machine.usageRate == nil)
    #expect(machine.dtCreated == Date(timeIntervalSince1970: 1_772_442_942))
}

@Test func getMissingMachineReturnsNil() throws {
    let server = try ScriptedServer { _ in errorResponse(404, "NOT_FOUND", "Machine not found") }
    defer { server.stop() }
    let harness = makeHarness(server)

    let machine = try harness.client.getMachine(id: "psgone01")

    #expect(machine == nil)
    #expect(server.requests.current.count == 1)
    #expect(harness.sleeps.current.isEmpty)
}

@Test func getDeletedMachineReturnsNil() throws {
    let deleted = machineJSON(id: "psdel001", name: "old", state: "off", dtDeleted: "2026-03-02T11:00:00.000Z")
    let response = HTTPResponse.json(200, deleted)
    let server = try ScriptedServer { _ in response }
    defer { server.stop() }
    let harness = makeHarness(server)

    #expect(try harness.client.getMachine(id: "psdel001") == nil)
}

@Test func getUnreadableBodyIsInvalidResponse() throws {
    let server = try ScriptedServer { _ in .json(200, ["unexpected": true]) }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.getMachine(id: "psabc123") }
    guard case .invalidResponse = error else {
        Issue.record("expected invalidResponse, got \(error)")
        return
    }
}

@Test func listFollowsThreeCursorPages() throws {
    let server = try ScriptedServer { request in
        switch request.queryValue("after") {
        case nil:
            return pageResponse([machineJSON(id: "ps1", name: "a"), machineJSON(id: "ps2", name: "b")], nextPage: "c2")
        case "c2":
            return pageResponse([machineJSON(id: "ps3", name: "c")], nextPage: "c3")
        case "c3":
            return pageResponse([machineJSON(id: "ps4", name: "d")], nextPage: nil)
        default:
            return errorResponse(400, "BAD_REQUEST", "unknown cursor")
        }
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let machines = try harness.client.listMachines()

    #expect(machines.map(\.id) == ["ps1", "ps2", "ps3", "ps4"])
    let requests = server.received("GET", "/v1/machines")
    #expect(requests.count == 3)
    #expect(requests.map { $0.queryValue("after") } == [nil, "c2", "c3"])
    #expect(requests.allSatisfy { $0.queryValue("limit") == "120" })
}

@Test func listByNameMatchesExactly() throws {
    let server = try ScriptedServer { _ in
        // A server whose name filter matches substrings, and a deleted machine that still lists.
        pageResponse(
            [
                machineJSON(id: "ps1", name: "nightshift-run-1"),
                machineJSON(id: "ps10", name: "nightshift-run-10"),
                machineJSON(id: "ps1old", name: "nightshift-run-1", dtDeleted: "2026-03-01T00:00:00.000Z"),
            ],
            nextPage: nil
        )
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let machines = try harness.client.listMachines(name: "nightshift-run-1")

    #expect(machines.map(\.id) == ["ps1"])
    #expect(server.requests.current.first?.queryValue("name") == "nightshift-run-1")
}

@Test func listWithoutHasMoreEndsOnNullCursor() throws {
    let server = try ScriptedServer { _ in
        .json(200, ["items": [machineJSON(id: "ps1", name: "a")], "nextPage": NSNull()])
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    #expect(try harness.client.listMachines().map(\.id) == ["ps1"])
    #expect(server.requests.current.count == 1)
}

@Test func listRejectsMoreWithoutCursor() throws {
    let server = try ScriptedServer { _ in
        .json(200, ["hasMore": true, "items": [machineJSON(id: "ps1", name: "a")], "nextPage": NSNull()])
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.listMachines() }
    #expect(error.description.contains("no nextPage cursor"))
}

@Test func listRejectsRepeatedCursor() throws {
    let server = try ScriptedServer { _ in pageResponse([machineJSON(id: "ps1", name: "a")], nextPage: "same") }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.listMachines() }
    #expect(error.description.contains("repeats the nextPage cursor"))
    #expect(server.requests.current.count == 2)
}

@Test func rateLimitWaitsRetryAfterThenSucceeds() throws {
    let calls = Protected(0)
    let server = try ScriptedServer { _ in
        let call = calls.withLock { count -> Int in
            count += 1
            return count
        }
        if call == 1 {
            return errorResponse(429, "TOO_MANY_REQUESTS", "Rate limit exceeded", headers: [("Retry-After", "3")])
        }
        return .json(200, machineJSON(id: "psabc123", name: "nightshift-run-1"))
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let machine = try harness.client.getMachine(id: "psabc123")

    #expect(machine?.id == "psabc123")
    #expect(harness.sleeps.current == [3])
    #expect(server.requests.current.count == 2)
}

@Test func rateLimitWithoutRetryAfterBacksOff() throws {
    let calls = Protected(0)
    let server = try ScriptedServer { _ in
        let call = calls.withLock { count -> Int in
            count += 1
            return count
        }
        if call == 1 {
            return errorResponse(429, "TOO_MANY_REQUESTS", "Rate limit exceeded")
        }
        return pageResponse([], nextPage: nil)
    }
    defer { server.stop() }
    let harness = makeHarness(server, retry: RetryPolicy(maxAttempts: 3, baseDelay: 10, maxDelay: 60))

    #expect(try harness.client.listMachines().isEmpty)
    let sleeps = harness.sleeps.current
    #expect(sleeps.count == 1)
    #expect((5...10).contains(sleeps.first ?? -1))
}

@Test func errorBodyBecomesClearError() throws {
    let server = try ScriptedServer { _ in errorResponse(401, "UNAUTHORIZED", "Invalid API key") }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.listMachines() }

    #expect(error.status == 401)
    #expect(error.code == "UNAUTHORIZED")
    #expect(
        error.description
            == "list machines: Paperspace returned 401 UNAUTHORIZED: Invalid API key "
            + "(check that paperspace.api_key is a valid API key of the team)"
    )
}

@Test func errorIssuesJoinTheMessage() throws {
    let server = try ScriptedServer { _ in
        .json(400, ["code": "BAD_REQUEST", "message": "Invalid input", "issues": [["message": "diskSize is invalid"]]])
    }
    defer { server.stop() }
    let harness = makeHarness(server)
    let request = MachineCreateRequest(
        name: "n",
        machineType: "A4000",
        templateId: "t0nspur5",
        diskSize: 77,
        region: "ny2"
    )

    let error = try #require(throws: PaperspaceError.self) { try harness.client.createMachine(request) }

    #expect(
        error.description
            == "create machine n: Paperspace returned 400 BAD_REQUEST: Invalid input (diskSize is invalid)"
    )
}

@Test func nonJSONErrorShowsStatusAndStart() throws {
    let page =
        "<html><head><title>403 Forbidden</title></head><body>Denied for Bearer \(testAPIKey). "
        + String(repeating: "padding ", count: 60) + "</body></html>"
    let server = try ScriptedServer { _ in
        HTTPResponse(status: 403, headers: [("Content-Type", "text/html")], body: Data(page.utf8))
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.deleteMachine(id: "psabc123") }

    guard case .api(_, let status, let code, let message) = error else {
        Issue.record("expected an api error, got \(error)")
        return
    }
    #expect(status == 403)
    #expect(code == nil)
    #expect(message.hasPrefix("<html><head><title>403 Forbidden</title>"))
    #expect(message.count == 200)
    #expect(message.contains("[REDACTED]"))
    #expect(!error.description.contains(testAPIKey))
    #expect(error.description.hasPrefix("delete machine psabc123: Paperspace returned 403: <html>"))
}
