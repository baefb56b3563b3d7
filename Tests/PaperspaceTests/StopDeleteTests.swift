import Foundation
import HTTP
import Paperspace
import StandIns
import Support
import Testing

/// Starts a server that returns `stopResponse` to `PATCH .../stop` and a machine in `state` to `GET`.
private func startStopServer(stopResponse: HTTPResponse, state: String) throws -> ScriptedServer {
    try ScriptedServer { incoming in
        switch (incoming.method, incoming.path) {
        case ("PATCH", "/v1/machines/psabc123/stop"):
            return stopResponse
        case ("GET", "/v1/machines/psabc123"):
            return .json(200, machineJSON(id: "psabc123", name: "nightshift-run-1", state: state))
        default:
            return errorResponse(404, "NOT_FOUND", "no route")
        }
    }
}

@Test func stopSendsPatchWithoutBody() throws {
    let stopped = mutationResponse(
        machineJSON(id: "psabc123", name: "nightshift-run-1", state: "stopping"),
        event: "stop"
    )
    let server = try startStopServer(stopResponse: stopped, state: "stopping")
    defer { server.stop() }
    let harness = makeHarness(server)

    try harness.client.stopMachine(id: "psabc123")

    #expect(server.log == ["PATCH /v1/machines/psabc123/stop"])
    let patch = try #require(server.requests.current.first)
    #expect(patch.body.isEmpty)
    #expect(patch.header("Content-Type") == nil)
    #expect(patch.header("Authorization") == "Bearer \(testAPIKey)")
}

@Test(arguments: ["off", "stopping"])
func stopRejectedWhenAlreadyStoppedSucceeds(state: String) throws {
    let rejection = errorResponse(400, "BAD_REQUEST", "This machine is already \(state == "off" ? "off" : "stopping").")
    let server = try startStopServer(stopResponse: rejection, state: state)
    defer { server.stop() }
    let harness = makeHarness(server)

    try harness.client.stopMachine(id: "psabc123")

    #expect(server.log == ["PATCH /v1/machines/psabc123/stop", "GET /v1/machines/psabc123"])
}

@Test func stopConflictStatusIsCheckedToo() throws {
    let rejection = errorResponse(409, "CONFLICT", "Invalid state transition")
    let server = try startStopServer(stopResponse: rejection, state: "off")
    defer { server.stop() }
    let harness = makeHarness(server)

    try harness.client.stopMachine(id: "psabc123")

    #expect(server.log.count == 2)
}

@Test func stopRefusedWhileStartingThrows() throws {
    let rejection = errorResponse(400, "BAD_REQUEST", "This machine is currently starting.")
    let server = try startStopServer(stopResponse: rejection, state: "starting")
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.stopMachine(id: "psabc123") }

    #expect(
        error.description
            == "stop machine psabc123: Paperspace returned 400 BAD_REQUEST: This machine is currently starting."
    )
    #expect(server.log == ["PATCH /v1/machines/psabc123/stop", "GET /v1/machines/psabc123"])
}

@Test func stopMissingMachineThrowsNotFound() throws {
    let server = try ScriptedServer { _ in errorResponse(404, "NOT_FOUND", "Machine not found") }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.stopMachine(id: "psgone01") }

    guard case .notFound(_, let id) = error else {
        Issue.record("expected notFound, got \(error)")
        return
    }
    #expect(id == "psgone01")
}

@Test func stopRetriesServerErrors() throws {
    let calls = Protected(0)
    let server = try ScriptedServer { _ in
        let call = calls.withLock { count -> Int in
            count += 1
            return count
        }
        if call == 1 {
            return errorResponse(502, "INTERNAL_SERVER_ERROR", "Bad gateway")
        }
        return mutationResponse(machineJSON(id: "psabc123", name: "n", state: "stopping"), event: "stop")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    try harness.client.stopMachine(id: "psabc123")

    #expect(server.requests.current.count == 2)
    #expect(harness.sleeps.current.count == 1)
}

@Test func deleteSendsDelete() throws {
    let server = try ScriptedServer { _ in
        mutationResponse(machineJSON(id: "psabc123", name: "n", state: "off"), event: "deactivate")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    try harness.client.deleteMachine(id: "psabc123")

    #expect(server.log == ["DELETE /v1/machines/psabc123"])
    #expect(server.requests.current.first?.header("Authorization") == "Bearer \(testAPIKey)")
}

@Test func deleteTreatsNotFoundAsSuccess() throws {
    let server = try ScriptedServer { _ in errorResponse(404, "NOT_FOUND", "Machine not found") }
    defer { server.stop() }
    let harness = makeHarness(server)

    try harness.client.deleteMachine(id: "psgone01")

    #expect(server.requests.current.count == 1)
}

@Test func deleteRetriesServerErrors() throws {
    let calls = Protected(0)
    let server = try ScriptedServer { _ in
        let call = calls.withLock { count -> Int in
            count += 1
            return count
        }
        if call == 1 {
            return errorResponse(503, "INTERNAL_SERVER_ERROR", "Service unavailable")
        }
        return errorResponse(404, "NOT_FOUND", "Machine not found")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    try harness.client.deleteMachine(id: "psabc123")

    #expect(server.requests.current.count == 2)
    #expect(harness.sleeps.current.count == 1)
}

@Test func deleteRejectionThrows() throws {
    let server = try ScriptedServer { _ in
        errorResponse(400, "BAD_REQUEST", "Machine must be off before it can be deactivated")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let error = try #require(throws: PaperspaceError.self) { try harness.client.deleteMachine(id: "psabc123") }

    #expect(
        error.description
            == "delete machine psabc123: Paperspace returned 400 BAD_REQUEST: "
            + "Machine must be off before it can be deactivated"
    )
}

@Test func exhaustedRetriesBecomeTransportError() throws {
    let server = try ScriptedServer { _ in errorResponse(500, "INTERNAL_SERVER_ERROR", "Internal error") }
    defer { server.stop() }
    let harness = makeHarness(server, retry: RetryPolicy(maxAttempts: 2, baseDelay: 1, maxDelay: 1))

    let error = try #require(throws: PaperspaceError.self) { try harness.client.deleteMachine(id: "psabc123") }

    guard case .transport(let operation, _) = error else {
        Issue.record("expected transport, got \(error)")
        return
    }
    #expect(operation == "delete machine psabc123")
    #expect(error.description.contains("failed after 2 attempts"))
}
