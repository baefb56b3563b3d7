import Foundation
import HTTP
import Hub
import StandIns
import Support
import Testing

@Test func headCommitReadsSha() throws {
    let server = try ScriptedServer { _, _ in revisionInfo(repo: "alice/nightly-model", sha: headSHA) }
    defer { server.stop() }
    let hub = makeHub(server)

    let sha = try hub.client.headCommit(repo: "alice/nightly-model", type: .model)

    #expect(sha == headSHA)
    #expect(server.log == ["GET /api/models/alice/nightly-model/revision/main"])
    #expect(server.requests.current.first?.header("Authorization") == "Bearer \(testToken)")
}

@Test func headCommitEncodesRevisionWhole() throws {
    let server = try ScriptedServer { _, _ in revisionInfo(repo: "alice/data", sha: headSHA) }
    defer { server.stop() }
    let hub = makeHub(server)

    _ = try hub.client.headCommit(repo: "alice/data", type: .dataset, revision: "refs/pr/1")

    #expect(server.log == ["GET /api/datasets/alice/data/revision/refs%2Fpr%2F1"])
}

@Test func headCommitRejectsMissingSha() throws {
    let server = try ScriptedServer { _, _ in .json(200, ["id": "alice/data"]) }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) { try hub.client.headCommit(repo: "alice/data", type: .dataset) }
    guard case .invalidResponse = error else {
        Issue.record("expected invalidResponse, got \(error)")
        return
    }
}

@Test func treeFollowsAbsoluteLinkPages() throws {
    let server = try ScriptedServer { request, base in
        let next = "\(base)/api/datasets/alice/data/tree/main?recursive=true&expand=false&cursor="
        switch request.queryValue("cursor") {
        case nil:
            let entries: [[String: Any]] = [
                ["type": "directory", "path": "data", "oid": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "size": 0],
                [
                    "type": "file", "path": "data/train.parquet", "size": 497_764_107,
                    "oid": "8095a62ccb8a4a2c1c5b6e3d8f09a1b2c3d4e5f6",
                    "lfs": [
                        "oid": "d88b0d6a6b0a1c2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c", "size": 497_764_107,
                        "pointerSize": 134,
                    ],
                ],
            ]
            return .json(200, entries, headers: [("Link", "<\(next)eyJwIjoxfQ>; rel=\"next\"")])
        case "eyJwIjoxfQ":
            let entries: [[String: Any]] = [
                ["type": "file", "path": "README.md", "size": 812, "oid": "a1b2c3d4e5f60718293a4b5c6d7e8f9011223344"]
            ]
            return .json(200, entries, headers: [("Link", "<\(next)eyJwIjoyfQ>; rel=\"next\"")])
        default:
            let entries: [[String: Any]] = [
                [
                    "type": "file", "path": ".gitattributes", "size": 2_464,
                    "oid": "c7d8e9f00112233445566778899aabbccddeeff0",
                ]
            ]
            return .json(200, entries)
        }
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let entries = try hub.client.listFiles(repo: "alice/data", type: .dataset)

    #expect(entries.map(\.path) == ["data", "data/train.parquet", "README.md", ".gitattributes"])
    #expect(entries[0].type == .directory)
    #expect(entries[1].type == .file)
    #expect(entries[1].size == 497_764_107)
    #expect(entries[1].lfsOid == "d88b0d6a6b0a1c2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c")
    #expect(entries[2].lfsOid == nil)
    #expect(entries[2].oid == "a1b2c3d4e5f60718293a4b5c6d7e8f9011223344")
    let requests = server.requests.current
    #expect(requests.count == 3)
    #expect(requests.map { $0.queryValue("cursor") } == [nil, "eyJwIjoxfQ", "eyJwIjoyfQ"])
    #expect(requests.allSatisfy { $0.queryValue("recursive") == "true" })
    #expect(requests.allSatisfy { $0.header("Authorization") == "Bearer \(testToken)" })
}

@Test func treePathIsEncodedWhole() throws {
    let server = try ScriptedServer { _, _ in .json(200, [Any]()) }
    defer { server.stop() }
    let hub = makeHub(server)

    let entries = try hub.client.listFiles(repo: "alice/data", type: .dataset, revision: "v1.0", path: "data/train/")

    #expect(entries.isEmpty)
    #expect(server.log == ["GET /api/datasets/alice/data/tree/v1.0/data%2Ftrain"])
}

@Test func treeRejectsRepeatedLink() throws {
    let server = try ScriptedServer { _, base in
        .json(200, [Any](), headers: [("Link", "<\(base)/api/models/alice/m/tree/main?cursor=x>; rel=\"next\"")])
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) { try hub.client.listFiles(repo: "alice/m", type: .model) }
    #expect(error.description.contains("links to a page already read"))
    #expect(server.requests.current.count == 2)
}

@Test func downloadRedirectDropsTokenElsewhere() throws {
    let content = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    let digest = Digest.sha256(content).hexString
    let storage = try ScriptedServer { _, _ in
        HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: content)
    }
    defer { storage.stop() }
    let storageURL = storage.baseURL
    let hubServer = try ScriptedServer { _, _ in
        HTTPResponse(
            status: 302,
            headers: [
                ("Location", "\(storageURL)/lfs/\(digest)?X-Amz-Signature=abc123&X-Amz-Expires=3600"),
                ("X-Repo-Commit", headSHA),
                ("X-Linked-Etag", "\"\(digest)\""),
                ("X-Linked-Size", "\(content.count)"),
                ("ETag", "\"\(digest)\""),
            ]
        )
    }
    defer { hubServer.stop() }
    let hub = makeHub(hubServer)

    let data = try hub.client.downloadFile(repo: "alice/nightly-model", type: .model, path: "weights/model.bin")

    #expect(data == content)
    #expect(hubServer.log == ["GET /alice/nightly-model/resolve/main/weights/model.bin"])
    #expect(hubServer.requests.current.first?.header("Authorization") == "Bearer \(testToken)")
    let stored = try #require(storage.requests.current.first)
    #expect(stored.rawPath == "/lfs/\(digest)")
    #expect(stored.queryValue("X-Amz-Signature") == "abc123")
    #expect(stored.header("Authorization") == nil)
    #expect(storage.requests.current.count == 1)
}

@Test func downloadRelativeRedirectKeepsToken() throws {
    let server = try ScriptedServer { request, _ in
        if request.path.hasPrefix("/api/resolve-cache/") {
            return HTTPResponse(status: 200, headers: [("ETag", "\"e3b0c4\"")], body: Data("{\"hidden\": 64}".utf8))
        }
        let target = "/api/resolve-cache/datasets/alice/data/\(headSHA)/configs%2Fbase.json?etag=%22e3b0c4%22"
        return HTTPResponse(status: 307, headers: [("Location", target), ("X-Repo-Commit", headSHA)])
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let data = try hub.client.downloadFile(
        repo: "alice/data",
        type: .dataset,
        revision: "refs/pr/2",
        path: "configs/base.json"
    )

    #expect(data == Data("{\"hidden\": 64}".utf8))
    #expect(server.requests.current.first?.rawPath == "/datasets/alice/data/resolve/refs%2Fpr%2F2/configs/base.json")
    #expect(server.requests.current.count == 2)
    #expect(server.requests.current.allSatisfy { $0.header("Authorization") == "Bearer \(testToken)" })
}

@Test func downloadDetectsChecksumMismatch() throws {
    let announced = Digest.sha256(Data("expected".utf8)).hexString
    let server = try ScriptedServer { _, _ in
        HTTPResponse(status: 200, headers: [("X-Linked-Etag", "\"\(announced)\"")], body: Data("tampered".utf8))
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) {
        try hub.client.downloadFile(repo: "alice/m", type: .model, path: "w.bin")
    }
    guard case .integrity = error else {
        Issue.record("expected integrity, got \(error)")
        return
    }
}

@Test func downloadMissingEntryReturnsNil() throws {
    let server = try ScriptedServer { _, _ in hubErrorResponse(404, code: "EntryNotFound", message: "Entry not found") }
    defer { server.stop() }
    let hub = makeHub(server)

    let data = try hub.client.downloadFile(repo: "alice/m", type: .model, path: "missing.txt")

    #expect(data == nil)
    #expect(server.requests.current.count == 1)
}

@Test(arguments: ["RepoNotFound", "RevisionNotFound", "GatedRepo"])
func downloadNotFoundKindsThrow(code: String) throws {
    let server = try ScriptedServer { _, _ in
        hubErrorResponse(code == "GatedRepo" ? 401 : 404, code: code, message: "\(code) message")
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) {
        try hub.client.downloadFile(repo: "alice/m", type: .model, revision: "v2", path: "config.json")
    }

    switch (code, error) {
    case ("RepoNotFound", .repoNotFound(_, let repo, let type, let tokenSent)):
        #expect(repo == "alice/m")
        #expect(type == .model)
        #expect(tokenSent)
    case ("RevisionNotFound", .revisionNotFound(_, let repo, let revision)):
        #expect(repo == "alice/m")
        #expect(revision == "v2")
    case ("GatedRepo", .gatedRepo(_, let repo, let message)):
        #expect(repo == "alice/m")
        #expect(message == "GatedRepo message")
    default:
        Issue.record("code \(code) became \(error)")
    }
}

@Test func treeMissingPathIsEntryNotFound() throws {
    let server = try ScriptedServer { _, _ in hubErrorResponse(404, code: "EntryNotFound", message: "Entry not found") }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) {
        try hub.client.listFiles(repo: "alice/data", type: .dataset, path: "nope")
    }

    guard case .entryNotFound(_, _, let revision, let path) = error else {
        Issue.record("expected entryNotFound, got \(error)")
        return
    }
    #expect(path == "nope")
    #expect(revision == "main")
}

@Test func unauthorizedNamesTheSetting() throws {
    let server = try ScriptedServer { _, _ in
        hubErrorResponse(401, code: nil, message: "Invalid credentials in Authorization header")
    }
    defer { server.stop() }
    let hub = makeHub(server)

    let error = try #require(throws: HubError.self) { try hub.client.headCommit(repo: "alice/m", type: .model) }

    #expect(
        error.description
            == "read the head of alice/m@main: the Hub rejected the token (invalid, expired or missing); "
            + "check --token / HF_TOKEN or hub.token (Hub message: Invalid credentials in Authorization header)"
    )
}

@Test func missingTokenSendsNoAuthorization() throws {
    let server = try ScriptedServer { _, _ in
        hubErrorResponse(401, code: "RepoNotFound", message: "Repository not found")
    }
    defer { server.stop() }
    let hub = makeHub(server, token: nil)

    let error = try #require(throws: HubError.self) { try hub.client.headCommit(repo: "alice/private", type: .dataset) }

    #expect(server.requests.current.first?.header("Authorization") == nil)
    guard case .repoNotFound(_, _, _, let tokenSent) = error else {
        Issue.record("expected repoNotFound, got \(error)")
        return
    }
    #expect(!tokenSent)
    #expect(error.description.hasSuffix("pass --token or set HF_TOKEN"))
}

@Test func commitURLUsesWebPrefix() throws {
    let server = try ScriptedServer { _, _ in .json(200, [Any]()) }
    defer { server.stop() }
    let hub = makeHub(server)
    let base = server.baseURL

    #expect(hub.client.commitURL(repo: "alice/m", type: .model, commit: newSHA) == "\(base)/alice/m/commit/\(newSHA)")
    #expect(
        hub.client.commitURL(repo: "alice/d", type: .dataset, commit: newSHA)
            == "\(base)/datasets/alice/d/commit/\(newSHA)"
    )
    #expect(
        hub.client.commitURL(repo: "alice/s", type: .space, commit: newSHA) == "\(base)/spaces/alice/s/commit/\(newSHA)"
    )
}

@Test func invalidRepoIDIsRejectedUnsent() throws {
    let server = try ScriptedServer { _, _ in .json(200, [Any]()) }
    defer { server.stop() }
    let hub = makeHub(server)

    for repo in ["", "a/b/c", "../etc", "alice/", "alice/na me"] {
        #expect(throws: HubError.self) { try hub.client.headCommit(repo: repo, type: .model) }
    }
    #expect(server.requests.current.isEmpty)
}
