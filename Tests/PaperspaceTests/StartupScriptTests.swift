import Foundation
import HTTP
import Paperspace
import StandIns
import Support
import Testing

private let scriptText = "#!/bin/bash\nset -euo pipefail\necho started > /var/log/nightshift.log\n"

/// Starts a startup-script server. `POST` passes each request's index and body to `onPost`, and `GET` lists
/// what is stored.
private func startScriptServer(
    onPost: @escaping @Sendable (Int, [String: Any], Protected<[[String: String]]>) -> HTTPResponse
) throws -> (ScriptedServer, Protected<[[String: String]]>) {
    let scripts = Protected<[[String: String]]>([])
    let posts = Protected(0)
    let server = try ScriptedServer { incoming in
        switch (incoming.method, incoming.path) {
        case ("GET", "/v1/startup-scripts"):
            let name = incoming.queryValue("name")
            let items = scripts.current.filter { name == nil || $0["name"] == name }
            return pageResponse(items.map { scriptJSON(id: $0["id"] ?? "", name: $0["name"] ?? "") }, nextPage: nil)
        case ("POST", "/v1/startup-scripts"):
            let index = posts.withLock { count -> Int in
                count += 1
                return count
            }
            return onPost(index, incoming.jsonBody as? [String: Any] ?? [:], scripts)
        default:
            return errorResponse(404, "NOT_FOUND", "no route")
        }
    }
    return (server, scripts)
}

@Test func scriptCreateSendsNameTextRunOnce() throws {
    let (server, _) = try startScriptServer { _, body, scripts in
        let name = body["name"] as? String ?? ""
        scripts.withLock { $0.append(["id": "scr8a2kq", "name": name]) }
        return .json(200, scriptJSON(id: "scr8a2kq", name: name))
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let script = try harness.client.createStartupScript(name: "nightshift-run-1", script: scriptText, runOnce: true)

    #expect(script.id == "scr8a2kq")
    #expect(script.name == "nightshift-run-1")
    #expect(script.isRunOnce == true)
    #expect(script.isEnabled == true)
    #expect(script.assignedMachineIds.isEmpty)
    let post = try #require(server.received("POST", "/v1/startup-scripts").first)
    #expect(post.header("Content-Type") == "application/json")
    let body = try #require(post.jsonBody as? [String: Any])
    #expect(body["name"] as? String == "nightshift-run-1")
    #expect(body["script"] as? String == scriptText)
    #expect(body["isRunOnce"] as? Bool == true)
    #expect(String(decoding: post.body, as: UTF8.self).contains("\"isRunOnce\":true"))
    #expect(!rawText(harness.capture).contains("set -euo pipefail"))
}

@Test func scriptCreatePostsWithoutLookup() throws {
    let (server, _) = try startScriptServer { _, _, _ in .json(200, scriptJSON(id: "scr1", name: "s")) }
    defer { server.stop() }
    let harness = makeHarness(server)

    _ = try harness.client.createStartupScript(name: "s", script: scriptText, runOnce: false)

    #expect(server.log == ["POST /v1/startup-scripts"])
    let body = try #require(server.requests.current.first?.jsonBody as? [String: Any])
    #expect(body["isRunOnce"] as? Bool == false)
}

@Test func lostScriptCreateIsAdopted() throws {
    let (server, scripts) = try startScriptServer { _, body, scripts in
        scripts.withLock { $0.append(["id": "scrlost1", "name": body["name"] as? String ?? ""]) }
        return HTTPResponse.text(502, "<html><body>502 Bad Gateway</body></html>")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let script = try harness.client.createStartupScript(name: "nightshift-run-2", script: scriptText, runOnce: true)

    #expect(script.id == "scrlost1")
    #expect(server.received("POST", "/v1/startup-scripts").count == 1)
    #expect(scripts.current.count == 1)
}

@Test func failedScriptCreateIsRetried() throws {
    let (server, _) = try startScriptServer { index, body, scripts in
        if index == 1 {
            return errorResponse(500, "INTERNAL_SERVER_ERROR", "Internal error")
        }
        let name = body["name"] as? String ?? ""
        scripts.withLock { $0.append(["id": "scr2", "name": name]) }
        return .json(200, scriptJSON(id: "scr2", name: name))
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let script = try harness.client.createStartupScript(name: "nightshift-run-3", script: scriptText, runOnce: true)

    #expect(script.id == "scr2")
    #expect(harness.sleeps.current.count == 1)
    #expect(
        server.log == [
            "POST /v1/startup-scripts", "GET /v1/startup-scripts", "GET /v1/startup-scripts",
            "POST /v1/startup-scripts",
        ]
    )
}

@Test func scriptListFiltersNameExactly() throws {
    let server = try ScriptedServer { _ in
        pageResponse(
            [scriptJSON(id: "scr1", name: "nightshift-a"), scriptJSON(id: "scr2", name: "nightshift-ab")],
            nextPage: nil
        )
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    let scripts = try harness.client.listStartupScripts(name: "nightshift-a")

    #expect(scripts.map(\.id) == ["scr1"])
    #expect(server.requests.current.first?.queryValue("name") == "nightshift-a")
    #expect(server.requests.current.first?.queryValue("limit") == "120")
}

@Test func scriptDeleteTreatsNotFoundAsSuccess() throws {
    let server = try ScriptedServer { incoming in
        incoming.path == "/v1/startup-scripts/scr1"
            ? .json(200, scriptJSON(id: "scr1", name: "s"))
            : errorResponse(404, "NOT_FOUND", "Startup script not found")
    }
    defer { server.stop() }
    let harness = makeHarness(server)

    try harness.client.deleteStartupScript(id: "scr1")
    try harness.client.deleteStartupScript(id: "scrgone")

    #expect(server.log == ["DELETE /v1/startup-scripts/scr1", "DELETE /v1/startup-scripts/scrgone"])
}

@Test func apiKeyNeverInLogsOrErrors() throws {
    // A careless server that echoes the Authorization header into its error bodies.
    let server = try ScriptedServer { incoming in
        let echoed = incoming.header("Authorization") ?? ""
        switch incoming.method {
        case "GET":
            return errorResponse(400, "BAD_REQUEST", "Rejected header \(echoed)")
        case "DELETE":
            return HTTPResponse.text(418, "teapot saw \(echoed)")
        default:
            return errorResponse(500, "INTERNAL_SERVER_ERROR", "Failed for \(echoed)")
        }
    }
    defer { server.stop() }
    let harness = makeHarness(server)
    let request = MachineCreateRequest(
        name: "n",
        machineType: "C5",
        templateId: "t0nspur5",
        diskSize: 50,
        region: "ny2"
    )

    var errors: [String] = []
    do { _ = try harness.client.getMachine(id: "psabc123") } catch { errors.append("\(error)") }
    do { _ = try harness.client.listMachines() } catch { errors.append("\(error)") }
    do { _ = try harness.client.createMachine(request) } catch { errors.append("\(error)") }
    do { try harness.client.deleteMachine(id: "psabc123") } catch { errors.append("\(error)") }
    do { _ = try harness.client.createStartupScript(name: "s", script: "x", runOnce: true) } catch {
        errors.append("\(error)")
    }

    #expect(errors.count == 5)
    #expect(server.requests.current.allSatisfy { $0.header("Authorization") == "Bearer \(testAPIKey)" })
    for error in errors {
        #expect(!error.contains(testAPIKey))
        #expect(error.contains("[REDACTED]"))
    }
    let logs = rawText(harness.capture)
    #expect(logs.contains("Sending Paperspace request"))
    #expect(logs.contains("operation=get machine psabc123"))
    #expect(!logs.contains(testAPIKey))
}
