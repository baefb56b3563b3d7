import Foundation
import StandIns
import Support
import Testing

/// Drives `HubStandIn` with the official `hf` CLI and `huggingface_hub` in child processes, without Xet.
///
/// Serialized because each child process takes most of a core for its start-up.
@Suite(.serialized) struct HubStandInCLITests {
    @Test func downloadGetsSeededFiles() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        let large = Data((0..<11_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) })
        let files = [
            "README.md": Data("# corpus\n".utf8),
            "data/train/part-0.jsonl": Data("{\"x\": 1}\n".utf8),
            "data/weights.bin": Data([0, 1, 2, 3]),
            "large/blob.dat": large,
        ]
        hub.seed(repo: "demo/corpus", type: .dataset, files: files, message: "add corpus")
        let target = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: target) }

        let result = try hf(hub, ["download", "demo/corpus", "--repo-type", "dataset", "--local-dir", target.path])

        #expect(result.status == 0, "hf download failed: \(result.stderr)")
        for (path, data) in files {
            let downloaded = try? Data(contentsOf: target.appendingPathComponent(path))
            #expect(downloaded == data, "\(path) differs after download")
        }
        #expect(hub.requests.contains { $0.status == 302 && $0.path.hasSuffix("/large/blob.dat") })
        #expect(hub.requests.contains { $0.isStorage && $0.method == "GET" && !$0.hasAuthorization })
    }

    @Test func uploadCreatesRepoWithOneCommit() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        let weights = Data((0..<4096).map { UInt8($0 % 256) })
        let files = [
            "config.json": Data("{\"layers\": 2}\n".utf8),
            "nested/notes/a.txt": Data("notes\n".utf8),
            "model.safetensors": weights,
        ]
        let source = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: source) }
        try write(files, to: source)

        let arguments = ["upload", "demo/model-x", source.path, ".", "--repo-type", "model", "--commit-message", "m"]
        let result = try hf(hub, arguments)

        #expect(result.status == 0, "hf upload failed: \(result.stderr)")
        let stored = try #require(hub.files(repo: "demo/model-x", type: .model))
        for (path, data) in files {
            #expect(stored[path] == data, "\(path) differs after upload")
        }
        #expect(Set(stored.keys) == Set(files.keys).union([".gitattributes"]))
        let commits = hub.commits(repo: "demo/model-x", type: .model)
        #expect(commits.map(\.title) == ["m", "initial commit"])
        #expect(Set(commits.first?.paths ?? []) == Set(files.keys))
        let sha256 = Digest.sha256(weights).hexString
        #expect(hub.requests.contains { $0.isStorage && $0.method == "PUT" && $0.path.hasSuffix(sha256) })
    }

    @Test func unchangedUploadMakesNoCommit() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        let source = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: source) }
        try write(["a.txt": Data("a\n".utf8), "w.bin": Data([9, 8, 7])], to: source)
        let arguments = ["upload", "demo/same", source.path, ".", "--commit-message"]

        let first = try hf(hub, arguments + ["first"])
        let commitPosts = hub.requests.filter { $0.path.hasSuffix("/commit/main") }.count
        let second = try hf(hub, arguments + ["second"])

        #expect(first.status == 0, "first upload failed: \(first.stderr)")
        #expect(second.status == 0, "second upload failed: \(second.stderr)")
        #expect(hub.commits(repo: "demo/same", type: .model).map(\.title) == ["first", "initial commit"])
        #expect(hub.requests.filter { $0.path.hasSuffix("/commit/main") }.count == commitPosts)
        #expect(hub.requests.filter { $0.isStorage && $0.method == "PUT" }.count == 1)
    }

    @Test func singleFileUploadsToPath() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        hub.seed(repo: "demo/docs", type: .model, files: ["keep.txt": Data("keep".utf8)], message: "add keep")
        let source = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: source) }
        let file = source.appendingPathComponent("local-name.txt")
        try Data("moved\n".utf8).write(to: file)

        let result = try hf(hub, ["upload", "demo/docs", file.path, "docs/renamed.txt", "--commit-message", "single"])

        #expect(result.status == 0, "hf upload failed: \(result.stderr)")
        let stored = try #require(hub.files(repo: "demo/docs", type: .model))
        #expect(stored["docs/renamed.txt"] == Data("moved\n".utf8))
        #expect(stored["keep.txt"] == Data("keep".utf8))
        #expect(stored["local-name.txt"] == nil)
        #expect(hub.commits(repo: "demo/docs", type: .model).first?.paths == ["docs/renamed.txt"])
    }

    @Test func wrongTokenFailsWithCredentialsError() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        let source = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: source) }
        try write(["a.txt": Data("a".utf8)], to: source)

        let result = try hf(hub, ["upload", "demo/denied", source.path, ".", "--commit-message", "m"], token: "wrong")

        #expect(result.status != 0)
        #expect((result.stdout + result.stderr).contains("Invalid credentials in Authorization header"))
        #expect(hub.files(repo: "demo/denied", type: .model) == nil)
    }

    @Test func paginatedTreeListsEveryFile() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        hub.pageSize = 4
        var files: [String: Data] = [:]
        for index in 0..<23 {
            files["shard-\(index / 5)/file-\(index).txt"] = Data("\(index)".utf8)
        }
        hub.seed(repo: "demo/many", type: .dataset, files: files, message: "add many")
        let script = """
            import json
            from huggingface_hub import HfApi
            print(json.dumps(HfApi().list_repo_files("demo/many", repo_type="dataset")))
            """

        let result = try python(hub, script)

        #expect(result.status == 0, "list_repo_files failed: \(result.stderr)")
        let listed = try #require(
            result.stdout.split(separator: "\n").last.flatMap { line in
                try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String]
            }
        )
        #expect(Set(listed) == Set(files.keys).union([".gitattributes"]))
        #expect(listed.count == files.count + 1)
        // 24 files and 5 directories in pages of 4 make 8 pages, 7 of them reached through a cursor.
        #expect(hub.requests.filter { $0.path.contains("/tree/") && $0.query.contains("cursor=") }.count == 7)
    }

    @Test func retryAfterFaultIsRetried() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        hub.inject(.status(429, retryAfter: 1, count: 1, pathContains: "/preupload/"))
        let source = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: source) }
        try write(["a.txt": Data("a".utf8)], to: source)

        let result = try hf(hub, ["upload", "demo/retried", source.path, ".", "--commit-message", "m"])

        #expect(result.status == 0, "hf upload failed: \(result.stderr)")
        let preuploads = hub.requests.filter { $0.path.contains("/preupload/") }.map(\.status)
        #expect(preuploads == [429, 200])
        #expect(hub.files(repo: "demo/retried", type: .model)?["a.txt"] == Data("a".utf8))
    }
}

/// Runs the `hf` CLI against `hub` with its own empty `HF_HOME`.
private func hf(_ hub: HubStandIn, _ arguments: [String], token: String = "good") throws -> ProcessResult {
    let executable = try #require(findExecutable("hf"), "the hf CLI (huggingface_hub) must be on PATH")
    let home = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: home) }
    return try run(executable, arguments, environment: hubEnvironment(hub, home: home, token: token))
}

/// Runs a Python script with `huggingface_hub` against `hub`.
private func python(_ hub: HubStandIn, _ script: String) throws -> ProcessResult {
    let executable = try #require(findExecutable("python3"), "python3 with huggingface_hub must be on PATH")
    let home = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: home) }
    return try run(executable, ["-c", script], environment: hubEnvironment(hub, home: home, token: "good"))
}

/// Returns the environment of this process without Hub settings or proxies, plus the settings that aim the
/// client at `hub`. Xet is disabled so that uploads take the LFS path.
private func hubEnvironment(_ hub: HubStandIn, home: URL, token: String) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment.filter { name, _ in
        !name.hasPrefix("HF_") && !name.hasPrefix("HUGGING") && !name.lowercased().hasSuffix("_proxy")
    }
    environment["HF_ENDPOINT"] = hub.baseURL
    environment["HF_HOME"] = home.path
    environment["HF_TOKEN"] = token
    environment["HF_HUB_DISABLE_XET"] = "1"
    environment["HF_HUB_DISABLE_TELEMETRY"] = "1"
    environment["NO_COLOR"] = "1"
    return environment
}
