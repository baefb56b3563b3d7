import Foundation
import HTTP
import Hub
import StandIns
import Support
import Testing

private let repo = "alice/nightly-model"
private let commitPath = "/api/models/alice/nightly-model/commit/main"

/// Returns the documented commit response for `oid`.
private func commitResponse(_ oid: String, base: String) -> HTTPResponse {
    .json(200, ["commitOid": oid, "commitUrl": "\(base)/\(repo)/commit/\(oid)", "pullRequestUrl": NSNull()])
}

/// Returns the first page of `GET /api/models/{repo}/commits/main`, newest first.
private func commitsPage(_ commits: [(id: String, title: String)]) -> HTTPResponse {
    let items: [[String: Any]] = commits.map { commit in
        [
            "id": commit.id,
            "title": commit.title,
            "message": commit.title,
            "authors": [["user": "alice", "avatar": "https://example.invalid/a.png"]],
            "date": "2026-03-02T09:40:00.000Z",
        ]
    }
    return .json(200, items)
}

/// Decodes each NDJSON line of `body` as a JSON object.
private func ndjsonLines(_ body: Data) throws -> [[String: Any]] {
    let text = String(decoding: body, as: UTF8.self)
    return try text.split(separator: "\n").map { line in
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }
}

@Test func commitBodyIsDocumentedNDJSON() throws {
    let server = try ScriptedServer { _, base in commitResponse(newSHA, base: base) }
    defer { server.stop() }
    let hub = makeHub(server)
    let metrics = Data("{\"loss\": 0.12}\n".utf8)
    let binary = Data([0x00, 0xFF, 0x10, 0x80, 0x7F])

    let oid = try hub.client.commitFiles(
        repo: repo,
        type: .model,
        files: [(path: "metrics.json", content: metrics), (path: "/out/weights.bin", content: binary)],
        deletions: ["old/notes.txt", "stale/"],
        message: "Upload results of run 42\nLoss 0.12 after 3 epochs",
        parentCommit: headSHA
    )

    #expect(oid == newSHA)
    #expect(server.log == ["POST \(commitPath)"])
    let post = try #require(server.requests.current.first)
    #expect(post.header("Content-Type") == "application/x-ndjson")
    #expect(post.header("Authorization") == "Bearer \(testToken)")
    let text = String(decoding: post.body, as: UTF8.self)
    #expect(text.hasSuffix("}\n"))
    #expect(!text.contains("\\/"))
    let lines = try ndjsonLines(post.body)
    #expect(lines.count == 5)
    #expect(lines[0]["key"] as? String == "header")
    let header = try #require(lines[0]["value"] as? [String: Any])
    #expect(header["summary"] as? String == "Upload results of run 42")
    #expect(header["description"] as? String == "Loss 0.12 after 3 epochs")
    #expect(header["parentCommit"] as? String == headSHA)
    for (index, expected) in [(1, ("metrics.json", metrics)), (2, ("out/weights.bin", binary))] {
        #expect(lines[index]["key"] as? String == "file")
        let value = try #require(lines[index]["value"] as? [String: Any])
        #expect(value["path"] as? String == expected.0)
        #expect(value["encoding"] as? String == "base64")
        let content = try #require(value["content"] as? String)
        #expect(Data(base64Encoded: content) == expected.1)
    }
    #expect(lines[3]["key"] as? String == "deletedFile")
    #expect((lines[3]["value"] as? [String: Any])?["path"] as? String == "old/notes.txt")
    #expect(lines[4]["key"] as? String == "deletedFolder")
    #expect((lines[4]["value"] as? [String: Any])?["path"] as? String == "stale")
}

@Test func commitWithoutParentOmitsIt() throws {
    let server = try ScriptedServer { request, base in
        request.method == "GET" ? revisionInfo(repo: repo, sha: headSHA) : commitResponse(newSHA, base: base)
    }
    defer { server.stop() }
    let hub = makeHub(server)

    _ = try hub.client.commitFiles(
        repo: repo,
        type: .model,
        files: [(path: "a.txt", content: Data("a".utf8))],
        message: "Add a"
    )

    #expect(server.log == ["GET /api/models/alice/nightly-model/revision/main", "POST \(commitPath)"])
    let lines = try ndjsonLines(try #require(server.received("POST", commitPath).first).body)
    let header = try #require(lines.first?["value"] as? [String: Any])
    #expect(header["parentCommit"] == nil)
    #expect(header["description"] as? String == "")
}

@Test func lostCommitResponseIsAdopted() throws {
    let landed = Protected(false)
    let server = try ScriptedServer { request, _ in
        switch (request.method, request.path) {
        case ("GET", "/api/models/alice/nightly-model/revision/main"):
            return revisionInfo(repo: repo, sha: landed.current ? newSHA : headSHA)
        case ("POST", commitPath):
            landed.withLock { $0 = true }
            return HTTPResponse.text(502, "<html><body>502 Bad Gateway</body></html>")
        case ("GET", "/api/models/alice/nightly-model/commits/main"):
            return commitsPage([(id: newSHA, title: "Upload run 43"), (id: headSHA, title: "initial commit")])
        default:
            return hubErrorResponse(404, code: nil, message: "no route")
        }
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let oid = try hub.client.commitFiles(
        repo: repo,
        type: .model,
        files: [(path: "m.json", content: Data("{}".utf8))],
        message: "Upload run 43"
    )

    #expect(oid == newSHA)
    #expect(server.received("POST", commitPath).count == 1)
    #expect(hub.sleeps.current.isEmpty)
}

@Test func commitBySomeoneElseIsNotAdopted() throws {
    let server = try ScriptedServer { request, _ in
        switch (request.method, request.path) {
        case ("GET", "/api/models/alice/nightly-model/revision/main"):
            return revisionInfo(repo: repo, sha: headSHA)
        case ("POST", commitPath):
            return hubErrorResponse(400, code: nil, message: "Your push was rejected")
        default:
            return commitsPage([(id: newSHA, title: "Upload run 44")])
        }
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) {
        try hub.client.commitFiles(
            repo: repo,
            type: .model,
            files: [(path: "m", content: Data("x".utf8))],
            message: "Upload run 44"
        )
    }

    guard case .http(_, let status, _, let message) = error else {
        Issue.record("expected http, got \(error)")
        return
    }
    #expect(status == 400)
    #expect(message == "Your push was rejected")
    // A 400 cannot have landed, so the commits are not even read.
    #expect(server.log.filter { $0.contains("/commits/") }.isEmpty)
}

@Test func failedCommitRetriesWithParent() throws {
    let posts = Protected(0)
    let server = try ScriptedServer { request, base in
        switch (request.method, request.path) {
        case ("GET", "/api/models/alice/nightly-model/revision/main"):
            return revisionInfo(repo: repo, sha: headSHA)
        case ("POST", commitPath):
            let index = posts.withLock { count -> Int in
                count += 1
                return count
            }
            return index == 1
                ? hubErrorResponse(503, code: nil, message: "Service Unavailable")
                : commitResponse(newSHA, base: base)
        default:
            return commitsPage([(id: headSHA, title: "initial commit")])
        }
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let oid = try hub.client.commitFiles(
        repo: repo,
        type: .model,
        files: [(path: "m.json", content: Data("{}".utf8))],
        message: "Upload run 45"
    )

    #expect(oid == newSHA)
    #expect(hub.sleeps.current.count == 1)
    let bodies = server.received("POST", commitPath).map(\.body)
    #expect(bodies.count == 2)
    let firstHeader = try #require(try ndjsonLines(bodies[0]).first?["value"] as? [String: Any])
    let secondHeader = try #require(try ndjsonLines(bodies[1]).first?["value"] as? [String: Any])
    #expect(firstHeader["parentCommit"] == nil)
    #expect(secondHeader["parentCommit"] as? String == headSHA)
}

@Test func commitWithoutKnownHeadIsNotRetried() throws {
    let server = try ScriptedServer { request, _ in
        switch (request.method, request.path) {
        case ("GET", "/api/models/alice/nightly-model/revision/main"):
            return hubErrorResponse(404, code: "RevisionNotFound", message: "Invalid rev id: main")
        case ("POST", commitPath):
            return hubErrorResponse(500, code: nil, message: "Internal Error")
        default:
            return hubErrorResponse(404, code: "RevisionNotFound", message: "Invalid rev id: main")
        }
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) {
        try hub.client.commitFiles(
            repo: repo,
            type: .model,
            files: [(path: "m", content: Data("x".utf8))],
            message: "Upload"
        )
    }

    guard case .http(_, let status, _, _) = error else {
        Issue.record("expected http, got \(error)")
        return
    }
    #expect(status == 500)
    #expect(server.received("POST", commitPath).count == 1)
}

@Test func commitConflictIsDistinct() throws {
    let server = try ScriptedServer { _, _ in
        hubErrorResponse(
            412,
            code: nil,
            message: "The branch was updated since you opened this page. Please refresh and try again."
        )
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) {
        try hub.client.commitFiles(
            repo: repo,
            type: .model,
            files: [(path: "m", content: Data("x".utf8))],
            message: "Upload",
            parentCommit: "9f1c2e3"
        )
    }

    guard case .commitConflict = error else {
        Issue.record("expected commitConflict, got \(error)")
        return
    }
    #expect(server.requests.current.count == 1)
}

@Test func commitRejectsInvalidInputUnsent() throws {
    let server = try ScriptedServer { _, base in commitResponse(newSHA, base: base) }
    defer { server.stop() }
    let hub = makeHub(server)
    let small = Data("x".utf8)
    let tooLarge = Data(count: HubClient.maxInlineFileSize + 1)

    let cases: [(files: [(path: String, content: Data)], deletions: [String], message: String)] = [
        ([(path: ".git/config", content: small)], [], "Upload"),
        ([(path: "../escape", content: small)], [], "Upload"),
        ([(path: "a//b", content: small)], [], "Upload"),
        // A file large enough for LFS is not uploaded when another part of the commit is invalid.
        ([(path: "big.bin", content: tooLarge), (path: ".cache/x", content: small)], [], "Upload"),
        ([(path: "a", content: small), (path: "./a", content: small)], [], "Upload"),
        ([(path: "a", content: small)], [], "   "),
        ([], [], "Upload"),
    ]
    for example in cases {
        let error = try #require(throws: HubError.self) {
            try hub.client.commitFiles(
                repo: repo,
                type: .model,
                files: example.files,
                deletions: example.deletions,
                message: example.message
            )
        }
        guard case .invalidArgument = error else {
            Issue.record("expected invalidArgument, got \(error)")
            continue
        }
    }
    #expect(server.requests.current.isEmpty)
}

@Test func tokenNeverInLogsOrErrors() throws {
    // A careless server that echoes the Authorization header into its error messages.
    let server = try ScriptedServer { request, _ in
        let echoed = request.header("Authorization") ?? ""
        if request.method == "POST" {
            return HTTPResponse.text(400, "rejected \(echoed)")
        }
        return hubErrorResponse(403, code: nil, message: "Forbidden for \(echoed)")
    }
    defer { server.stop() }
    let hub = makeHub(server)

    var errors: [String] = []
    do { _ = try hub.client.headCommit(repo: repo, type: .model) } catch { errors.append("\(error)") }
    do { _ = try hub.client.listFiles(repo: repo, type: .model) } catch { errors.append("\(error)") }
    do { _ = try hub.client.downloadFile(repo: repo, type: .model, path: "a") } catch { errors.append("\(error)") }
    do {
        _ = try hub.client.commitFiles(
            repo: repo,
            type: .model,
            files: [(path: "a", content: Data("x".utf8))],
            message: "m"
        )
    } catch {
        errors.append("\(error)")
    }

    #expect(errors.count == 4)
    #expect(server.requests.current.allSatisfy { $0.header("Authorization") == "Bearer \(testToken)" })
    for error in errors {
        #expect(!error.contains(testToken))
        #expect(error.contains("[REDACTED]"))
    }
    let logs = rawText(hub.capture)
    #expect(logs.contains("Sending Hub request"))
    #expect(logs.contains("hub.auth=token"))
    #expect(!logs.contains(testToken))
}
