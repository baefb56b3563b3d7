import Foundation
import HTTP
import Hub
import StandIns
import Support
import Testing

private let repo = "alice/ticks"

@Test func uploadDownloadRoundTrip() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    harness.hub.lfsThreshold = 64 * 1024
    let files = [
        "README.md": Data("# ticks\n".utf8),
        "data/day-1.csv": patterned(5000),
        "models/scaler.pkl": patterned(3000, seed: 7),
        "data/big.parquet.part": patterned(200_000, seed: 3),
        "empty.txt": Data(),
    ]
    let source = try harness.directory("source", files)

    let report = try harness.upload(source, repo: repo, message: "nightly sync")

    #expect(report.uploaded == files.count)
    #expect(report.commits.count == 1)
    #expect(report.bytesSent == Int64(files.values.reduce(0) { $0 + $1.count }))
    let stored = try #require(harness.hub.files(repo: repo, type: .dataset))
    for (path, data) in files {
        #expect(stored[path] == data, "\(path) differs on the Hub")
    }
    let downloaded = try harness.download(repo: repo, to: "copy")
    #expect(downloaded.downloaded == files.count + 1)
    for (path, data) in files {
        #expect(harness.read("copy", path) == data, "\(path) differs after download")
    }
    let storageRequests = harness.hub.requests.filter(\.isStorage)
    #expect(!storageRequests.isEmpty)
    #expect(storageRequests.allSatisfy { !$0.hasAuthorization })
    #expect(!rawText(harness.capture).contains(testToken))
}

@Test func multipartUploadRoundTrip() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    harness.hub.multipartThreshold = 100_000
    harness.hub.multipartChunkSize = 64 * 1024
    let content = patterned(300_000, seed: 9)
    let source = try harness.directory("source", ["weights.bin": content])

    let report = try harness.upload(source, repo: repo)

    #expect(report.uploaded == 1)
    #expect(harness.hub.files(repo: repo, type: .dataset)?["weights.bin"] == content)
    let parts = harness.hub.requests.filter { $0.isStorage && $0.path.hasPrefix("/multipart/") }
    #expect(parts.count == 5)
    #expect(parts.allSatisfy { $0.status == 200 })
    #expect(harness.hub.requests.contains { $0.path.contains("/objects/complete/") && $0.status == 200 })
}

@Test func unchangedUploadSendsNothing() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    let source = try harness.directory("source", ["a.csv": patterned(1000), "w.bin": patterned(4000, seed: 2)])
    _ = try harness.upload(source, repo: repo, message: "first")
    let requestsBefore = harness.hub.requests.count

    let second = try harness.upload(source, repo: repo, message: "second")

    #expect(second.nothingToDo)
    #expect(second.unchanged == 2)
    #expect(second.bytesSent == 0)
    let later = harness.hub.requests.dropFirst(requestsBefore)
    #expect(!later.contains { $0.isStorage })
    #expect(!later.contains { $0.path.contains("/commit/") })
    // The listing already shows both files unchanged, so no sample goes to preupload.
    #expect(!later.contains { $0.path.contains("/preupload/") })
    #expect(later.contains { $0.path.contains("/tree/") })
    #expect(harness.hub.commits(repo: repo, type: .dataset).map(\.title) == ["first", "initial commit"])
}

@Test func changedFileAloneIsSent() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    let source = try harness.directory("source", ["a.csv": patterned(1000), "b.csv": patterned(1000, seed: 5)])
    _ = try harness.upload(source, repo: repo, message: "first")
    try patterned(1200, seed: 8).write(to: URL(fileURLWithPath: source + "/b.csv"))

    let second = try harness.upload(source, repo: repo, message: "second")

    #expect(second.uploaded == 1)
    #expect(second.unchanged == 1)
    #expect(second.bytesSent == 1200)
    #expect(harness.hub.commits(repo: repo, type: .dataset).first?.paths == ["b.csv"])
}

@Test func droppedDownloadResumes() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    // Each attempt gets 700,000 more bytes, so the file is big enough that the client's attempts run out first.
    let content = patterned(8_000_000, seed: 4)
    harness.hub.seed(repo: repo, type: .dataset, files: ["ticks.bin": content], message: "seed")
    harness.hub.inject(.dropConnection(afterBodyBytes: 700_000, count: 10, pathContains: "/objects/"))

    #expect(throws: HubError.self) { try harness.download(repo: repo, to: "copy") }
    #expect(harness.read("copy", "ticks.bin") == nil)
    let partial = try #require(harness.read("copy", "ticks.bin" + HubSync.partialSuffix))
    // The drop resets the connection, which can discard bytes still in flight, so only a prefix is certain.
    #expect(partial.count > 0)
    #expect(partial.count < content.count)
    #expect(partial == content.prefix(partial.count))

    harness.hub.clearFaults()
    let state = harness.hub.requests.count
    let report = try harness.download(repo: repo, to: "copy")

    #expect(report.resumed == 1)
    #expect(report.bytesReceived == Int64(content.count - partial.count))
    #expect(harness.read("copy", "ticks.bin") == content)
    #expect(harness.read("copy", "ticks.bin" + HubSync.partialSuffix) == nil)
    let gets = harness.hub.requests.dropFirst(state).filter { $0.isStorage && $0.method == "GET" }
    #expect(gets.map(\.status) == [206])
}

@Test func dropMidBodyIsResumedInOneRun() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    let content = patterned(1_500_000, seed: 6)
    harness.hub.seed(repo: repo, type: .dataset, files: ["ticks.bin": content], message: "seed")
    harness.hub.inject(.dropConnection(afterBodyBytes: 500_000, count: 1, pathContains: "/objects/"))

    let report = try harness.download(repo: repo, to: "copy")

    #expect(report.resumed == 1)
    #expect(harness.read("copy", "ticks.bin") == content)
    let gets = harness.hub.requests.filter { $0.isStorage && $0.method == "GET" }
    #expect(gets.map(\.status) == [200, 206])
}

@Test func hashMismatchDeletesPartial() throws {
    let served = Data("not the content\n".utf8)
    let announced = Digest.sha256(Data("the content\n".utf8)).hexString
    let server = try ScriptedServer { request, _ in
        if request.path.contains("/revision/") { return revisionInfo(repo: repo, sha: headSHA) }
        if request.path.contains("/tree/") {
            let entry: [String: Any] = [
                "type": "file", "path": "x.bin", "size": served.count, "oid": newSHA,
                "lfs": ["oid": announced, "size": served.count, "pointerSize": 130],
            ]
            return .json(200, [entry])
        }
        return HTTPResponse(status: 200, body: served)
    }
    defer { server.stop() }
    let hub = makeHub(server)
    let destination = NSTemporaryDirectory() + "nightshift-mismatch-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: destination) }
    let sync = HubSync(client: hub.client, cacheDirectory: destination + "/.cache")

    let error = try #require(throws: HubError.self) {
        try sync.download(HubDownloadRequest(repo: repo, destination: destination))
    }

    guard case .integrity = error else {
        Issue.record("expected integrity, got \(error)")
        return
    }
    #expect(error.description.contains(announced))
    #expect(!FileManager.default.fileExists(atPath: destination + "/x.bin"))
    #expect(!FileManager.default.fileExists(atPath: destination + "/x.bin" + HubSync.partialSuffix))
}

@Test func interruptedUploadKeepsHead() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    let first = try harness.directory("first", ["a.csv": patterned(100)])
    _ = try harness.upload(first, repo: repo, message: "first")
    let headBefore = harness.hub.commits(repo: repo, type: .dataset).first?.id
    harness.hub.inject(.resetConnection(count: 20, pathContains: "/upload/"))
    let second = try harness.directory("second", ["a.csv": patterned(100), "w.bin": patterned(50_000)])

    #expect(throws: HubError.self) { try harness.upload(second, repo: repo, message: "second") }

    #expect(harness.hub.commits(repo: repo, type: .dataset).first?.id == headBefore)
    #expect(harness.hub.commits(repo: repo, type: .dataset).count == 2)
    #expect(harness.hub.requests.filter { $0.method == "POST" && $0.path.contains("/commit/") }.count == 1)
}

@Test func retryAfterIsWaited() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    harness.hub.inject(.status(429, retryAfter: 1, count: 1, pathContains: "/preupload/"))
    let source = try harness.directory("source", ["a.csv": patterned(10)])

    let report = try harness.upload(source, repo: repo)

    #expect(report.uploaded == 1)
    #expect(harness.sleeps.current.contains(1.0))
    #expect(harness.hub.requests.filter { $0.path.contains("/preupload/") }.map(\.status) == [429, 200])
}

@Test func concurrentChangeGivesConflict() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    let source = try harness.directory("source", ["a.csv": patterned(10)])
    harness.hub.inject(.status(412, count: 1, pathContains: "/commit/"))

    let error = try #require(throws: HubError.self) { try harness.upload(source, repo: repo) }

    guard case .commitConflict = error else {
        Issue.record("expected commitConflict, got \(error)")
        return
    }
    #expect(error.description.contains("412"))
    #expect(error.description.contains(repo))
}

@Test func missingTokenIsClear() throws {
    let harness = try SyncHarness(token: nil)
    defer { harness.stop() }
    let source = try harness.directory("source", ["a.csv": patterned(10)])

    let error = try #require(throws: HubError.self) { try harness.upload(source, repo: repo) }

    guard case .missingToken = error else {
        Issue.record("expected missingToken, got \(error)")
        return
    }
    #expect(error.description.contains("HF_TOKEN"))
    #expect(harness.hub.requests.isEmpty)
}

@Test func invalidTokenIsClear() throws {
    let harness = try SyncHarness(token: "hf_wrong")
    defer { harness.stop() }
    let source = try harness.directory("source", ["a.csv": patterned(10)])

    let error = try #require(throws: HubError.self) { try harness.upload(source, repo: repo) }

    guard case .unauthorized = error else {
        Issue.record("expected unauthorized, got \(error)")
        return
    }
    #expect(error.description.contains("check --token / HF_TOKEN"))
    #expect(!error.description.contains("hf_wrong"))
}

@Test func tokenResolutionOrder() throws {
    let home = NSTemporaryDirectory() + "nightshift-token-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: home) }
    try FileManager.default.createDirectory(atPath: home + "/hf", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: home + "/xdg/huggingface", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
        atPath: home + "/user/.cache/huggingface",
        withIntermediateDirectories: true
    )
    try "from-path\n".write(toFile: home + "/custom-token", atomically: true, encoding: .utf8)
    try "from-hf-home\n".write(toFile: home + "/hf/token", atomically: true, encoding: .utf8)
    try "from-xdg".write(toFile: home + "/xdg/huggingface/token", atomically: true, encoding: .utf8)
    try "from-user-home".write(toFile: home + "/user/.cache/huggingface/token", atomically: true, encoding: .utf8)
    let full = [
        "HF_TOKEN": "from-env", "HUGGING_FACE_HUB_TOKEN": "from-legacy", "HF_TOKEN_PATH": home + "/custom-token",
        "HF_HOME": home + "/hf", "XDG_CACHE_HOME": home + "/xdg", "HOME": home + "/user",
    ]
    let cases: [(removed: [String], explicit: String?, expected: String?)] = [
        ([], "from-flag", "from-flag"),
        ([], nil, "from-env"),
        (["HF_TOKEN"], nil, "from-legacy"),
        (["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"], nil, "from-path"),
        (["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH"], nil, "from-hf-home"),
        (["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME"], nil, "from-xdg"),
        (["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME", "XDG_CACHE_HOME"], nil, "from-user-home"),
    ]
    for (removed, explicit, expected) in cases {
        var environment = full
        for name in removed { environment[name] = nil }
        #expect(HubToken.resolve(explicit: explicit, environment: environment) == expected, "without \(removed)")
    }
    #expect(HubToken.resolve(explicit: nil, environment: ["HOME": home + "/none"]) == nil)
    #expect(HubToken.endpoint(environment: ["HF_ENDPOINT": "http://127.0.0.1:9/"]) == "http://127.0.0.1:9")
    #expect(HubToken.endpoint(environment: [:]) == "https://huggingface.co")
}

@Test func deleteMakesOneCommit() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    let files = [
        "keep.csv": patterned(10), "old.csv": patterned(11), "logs/a.txt": patterned(12), "logs/b.txt": patterned(13),
    ]
    harness.hub.seed(repo: repo, type: .dataset, files: files, message: "seed")

    let report = try harness.sync.delete(
        repo: repo,
        paths: ["old.csv", "missing.csv"],
        folders: ["logs", "nowhere"],
        message: "prune"
    )

    #expect(report.commit != nil)
    #expect(report.removedFiles == ["logs/a.txt", "logs/b.txt", "old.csv"])
    let stored = try #require(harness.hub.files(repo: repo, type: .dataset))
    #expect(Set(stored.keys) == [".gitattributes", "keep.csv"])
    #expect(harness.hub.commits(repo: repo, type: .dataset).map(\.title) == ["prune", "seed", "initial commit"])

    let again = try harness.sync.delete(repo: repo, paths: ["old.csv"], message: "prune again")
    #expect(again.commit == nil)
    #expect(harness.hub.commits(repo: repo, type: .dataset).count == 3)
}

@Test func localFilesSkipsCacheAndVCS() throws {
    let harness = try SyncHarness()
    defer { harness.stop() }
    let root = try harness.directory(
        "tree",
        [
            "a.csv": Data("a".utf8), "sub/b.csv": Data("b".utf8), ".cache/x": Data(), ".git/HEAD": Data(),
            "c.bin.nightshift-partial": Data(),
        ]
    )

    let files = try HubSync.localFiles(in: root, repoPrefix: "daily")

    #expect(files.map(\.repoPath) == ["daily/a.csv", "daily/sub/b.csv"])
}
