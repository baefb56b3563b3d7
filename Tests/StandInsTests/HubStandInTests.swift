import Foundation
import StandIns
import Support
import Testing

/// HTTP-level checks of `HubStandIn`, sent with curl so that the exact status codes and headers are visible.
@Suite struct HubStandInTests {
    @Test func createExistingRepoReturnsURL() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        let body = #"{"name": "corpus", "organization": "demo", "type": "dataset", "visibility": "private"}"#

        let first = try curl("POST", hub.baseURL + "/api/repos/create", token: "good", json: body)
        let second = try curl("POST", hub.baseURL + "/api/repos/create", token: "good", json: body)

        #expect(first.status == 200)
        #expect(second.status == 409)
        #expect(second.jsonObject?["url"] as? String == hub.baseURL + "/datasets/demo/corpus")
        #expect(hub.commits(repo: "demo/corpus", type: .dataset).map(\.title) == ["initial commit"])
        let anonymous = try curl("GET", hub.baseURL + "/api/datasets/demo/corpus")
        #expect(anonymous.status == 401)
        #expect(anonymous.header("X-Error-Code") == "RepoNotFound")
    }

    @Test func errorsCarryHubErrorCodes() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        hub.seed(repo: "demo/model", type: .model, files: ["a.txt": Data("a".utf8)], message: "add a")
        let base = hub.baseURL

        let missingRepo = try curl("GET", base + "/api/models/demo/absent", token: "good")
        let anonymousMissing = try curl("GET", base + "/api/models/demo/absent")
        let missingFile = try curl("GET", base + "/demo/model/resolve/main/absent.txt")
        let missingRevision = try curl("GET", base + "/api/models/demo/model/tree/0123456789abcdef?recursive=true")
        let badToken = try curl("GET", base + "/api/models/demo/model", token: "wrong")
        let anonymousWrite = try curl("POST", base + "/api/models/demo/model/preupload/main", json: #"{"files": []}"#)

        #expect(missingRepo.status == 404)
        #expect(missingRepo.header("X-Error-Code") == "RepoNotFound")
        #expect(anonymousMissing.status == 401)
        #expect(anonymousMissing.header("X-Error-Code") == "RepoNotFound")
        #expect(missingFile.status == 404)
        #expect(missingFile.header("X-Error-Code") == "EntryNotFound")
        #expect(missingFile.header("X-Repo-Commit") == hub.commits(repo: "demo/model", type: .model).first?.id)
        #expect(missingRevision.status == 404)
        #expect(missingRevision.header("X-Error-Code") == "RevisionNotFound")
        #expect(badToken.status == 401)
        #expect(badToken.header("X-Error-Message") == "Invalid credentials in Authorization header")
        #expect(anonymousWrite.status == 401)
    }

    @Test func resolveServesHeadersAndRanges() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        let content = Data("0123456789".utf8)
        hub.seed(repo: "demo/model", type: .model, files: ["dir/digits.txt": content], message: "add digits")
        let commit = try #require(hub.commits(repo: "demo/model", type: .model).first)
        let url = hub.baseURL + "/demo/model/resolve/main/dir/digits.txt"

        let head = try curl("HEAD", url)
        let whole = try curl("GET", url)
        let part = try curl("GET", url, headers: ["Range: bytes=2-5"])
        let suffix = try curl("GET", url, headers: ["Range: bytes=-3"])
        let outside = try curl("GET", url, headers: ["Range: bytes=50-"])

        #expect(head.status == 200)
        #expect(head.header("X-Repo-Commit") == commit.id)
        #expect(head.header("ETag") == "\"\(gitBlobID(content))\"")
        #expect(head.header("Content-Length") == "10")
        #expect(head.header("Accept-Ranges") == "bytes")
        #expect(whole.body == content)
        #expect(part.status == 206)
        #expect(part.body == Data("2345".utf8))
        #expect(part.header("Content-Range") == "bytes 2-5/10")
        #expect(suffix.body == Data("789".utf8))
        #expect(outside.status == 416)
        #expect(outside.header("Content-Range") == "bytes */10")
    }

    @Test func lfsFileRedirectsToStorage() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        let weights = Data((0..<2000).map { UInt8($0 % 256) })
        hub.seed(repo: "demo/model", type: .model, files: ["model.safetensors": weights], message: "add weights")
        let sha256 = Digest.sha256(weights).hexString

        let head = try curl("HEAD", hub.baseURL + "/demo/model/resolve/main/model.safetensors")
        let location = try #require(head.header("Location"))
        let object = try curl("GET", location, headers: ["Range: bytes=1000-"])

        #expect(head.status == 302)
        #expect(head.header("X-Linked-Etag") == "\"\(sha256)\"")
        #expect(head.header("X-Linked-Size") == "2000")
        #expect(head.header("X-Repo-Commit") == hub.commits(repo: "demo/model", type: .model).first?.id)
        #expect(location.hasPrefix(hub.storageBaseURL))
        #expect(hub.storageBaseURL != hub.baseURL)
        #expect(object.status == 206)
        #expect(object.body == weights.suffix(1000))
    }

    @Test func lfsUploadAcceptsChunkedBody() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        hub.createRepo(repo: "demo/model", type: .model)
        let content = Data((0..<300_000).map { UInt8($0 % 199) })
        let oid = Digest.sha256(content).hexString
        let batchURL = hub.baseURL + "/demo/model.git/info/lfs/objects/batch"
        let batchBody = #"""
            {"operation": "upload", "transfers": ["basic"], "objects": [{"oid": "\#(oid)", "size": 300000}]}
            """#

        let batch = try curl("POST", batchURL, token: "good", json: batchBody)
        let actions = try #require(firstObject(batch)?["actions"] as? [String: Any])
        let upload = try #require((actions["upload"] as? [String: Any])?["href"] as? String)
        let verify = try #require((actions["verify"] as? [String: Any])?["href"] as? String)
        let put = try curl(
            "PUT",
            upload,
            headers: ["Transfer-Encoding: chunked", "Expect: 100-continue"],
            body: content
        )
        let verified = try curl("POST", verify, token: "good", json: #"{"oid": "\#(oid)", "size": 300000}"#)
        let again = try curl("POST", batchURL, token: "good", json: batchBody)
        let commit = try curl(
            "POST",
            hub.baseURL + "/api/models/demo/model/commit/main",
            token: "good",
            ndjson: [
                #"{"key": "header", "value": {"summary": "add blob"}}"#,
                #"{"key": "lfsFile", "value": {"path": "blob.dat", "algo": "sha256", "#
                    + #""oid": "\#(oid)", "size": 300000}}"#,
            ]
        )

        #expect(upload.hasPrefix(hub.storageBaseURL))
        #expect(put.status == 200)
        #expect(verified.status == 200)
        #expect(firstObject(again)?["actions"] == nil)
        #expect(commit.status == 200)
        #expect(hub.files(repo: "demo/model", type: .model)?["blob.dat"] == content)
        #expect(hub.requests.contains { $0.isStorage && $0.method == "PUT" && !$0.hasAuthorization })
    }

    @Test func badCommitLineChangesNothing() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        hub.seed(repo: "demo/model", type: .model, files: ["keep.txt": Data("keep".utf8)], message: "add keep")
        let before = hub.files(repo: "demo/model", type: .model)
        let url = hub.baseURL + "/api/models/demo/model/commit/main"
        let header = #"{"key": "header", "value": {"summary": "change"}}"#
        let addFile = #"{"key": "file", "value": {"path": "new.txt", "content": "bmV3", "encoding": "base64"}}"#
        let deleteKeep = #"{"key": "deletedFile", "value": {"path": "keep.txt"}}"#

        let malformed = try curl("POST", url, token: "good", ndjson: [header, addFile, deleteKeep, "{not json"])
        let missingDelete = try curl(
            "POST",
            url,
            token: "good",
            ndjson: [header, addFile, deleteKeep, #"{"key": "deletedFile", "value": {"path": "absent.txt"}}"#]
        )
        let badPath = try curl(
            "POST",
            url,
            token: "good",
            ndjson: [header, addFile, #"{"key": "file", "value": {"path": "../x", "content": "eA=="}}"#]
        )

        #expect(malformed.status == 400)
        #expect(missingDelete.status == 404)
        #expect(missingDelete.header("X-Error-Code") == "EntryNotFound")
        #expect(badPath.status == 422)
        #expect(hub.files(repo: "demo/model", type: .model) == before)
        #expect(hub.commits(repo: "demo/model", type: .model).count == 2)

        let valid = try curl("POST", url, token: "good", ndjson: [header, addFile, deleteKeep])
        #expect(valid.status == 200)
        #expect(hub.files(repo: "demo/model", type: .model)?["new.txt"] == Data("new".utf8))
        #expect(hub.files(repo: "demo/model", type: .model)?["keep.txt"] == nil)
        #expect(valid.jsonObject?["commitOid"] as? String == hub.commits(repo: "demo/model", type: .model).first?.id)
    }

    @Test func staleParentCommitIsRejected() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        hub.seed(repo: "demo/model", type: .model, files: ["a.txt": Data("a".utf8)], message: "add a")
        let stale = try #require(hub.commits(repo: "demo/model", type: .model).last?.id)
        let head = try #require(hub.commits(repo: "demo/model", type: .model).first?.id)
        let url = hub.baseURL + "/api/models/demo/model/commit/main"
        let addFile = #"{"key": "file", "value": {"path": "b.txt", "content": "b", "encoding": "utf-8"}}"#

        let rejected = try curl(
            "POST",
            url,
            token: "good",
            ndjson: [#"{"key": "header", "value": {"summary": "s", "parentCommit": "\#(stale)"}}"#, addFile]
        )
        let accepted = try curl(
            "POST",
            url,
            token: "good",
            ndjson: [#"{"key": "header", "value": {"summary": "s", "parentCommit": "\#(head.prefix(12))"}}"#, addFile]
        )

        #expect(rejected.status == 412)
        #expect(accepted.status == 200)
        #expect(hub.files(repo: "demo/model", type: .model)?["b.txt"] == Data("b".utf8))
    }

    @Test func preuploadReportsModeAndOid() throws {
        let hub = try startedHub()
        hub.lfsThreshold = 100
        defer { hub.stop() }
        let text = Data("same".utf8)
        hub.seed(repo: "demo/model", type: .model, files: ["same.txt": text], message: "add same")
        let body = #"""
            {"files": [{"path": "same.txt", "size": 4, "sample": "c2FtZQ=="},
                       {"path": "big.txt", "size": 101, "sample": ""},
                       {"path": "w.pt", "size": 3, "sample": "AAAA"},
                       {"path": "logs/x.log", "size": 3, "sample": ""}],
             "gitIgnore": "logs/\n"}
            """#

        let url = hub.baseURL + "/api/models/demo/model/preupload/main"
        let response = try curl("POST", url, token: "good", json: body)
        let files = try #require(response.jsonObject?["files"] as? [[String: Any]])
        let byPath = Dictionary(uniqueKeysWithValues: files.map { ($0["path"] as? String ?? "", $0) })

        #expect(byPath["same.txt"]?["uploadMode"] as? String == "regular")
        #expect(byPath["same.txt"]?["oid"] as? String == gitBlobID(text))
        #expect(byPath["big.txt"]?["uploadMode"] as? String == "lfs")
        #expect(byPath["big.txt"]?["oid"] == nil)
        #expect(byPath["w.pt"]?["uploadMode"] as? String == "lfs")
        #expect(byPath["logs/x.log"]?["shouldIgnore"] as? Bool == true)
        #expect(byPath["same.txt"]?["shouldIgnore"] as? Bool == false)
    }

    @Test func preuploadMatchesAttributePatterns() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        hub.createRepo(repo: "demo/model", type: .model)
        let paths = [
            "saved_model/v1/variables/data": "lfs",
            "runs/events.out.tfevents.123": "lfs",
            "archive.tar.gz": "lfs",
            "notes.txt": "regular",
            "My Docs/report.md": "lfs",
        ]
        let files = paths.keys.map { #"{"path": "\#($0)", "size": 10, "sample": ""}"# }.joined(separator: ", ")
        let body = #"{"files": [\#(files)], "gitAttributes": "My[[:space:]]Docs/*.md filter=lfs -text\n"}"#

        let url = hub.baseURL + "/api/models/demo/model/preupload/main"
        let response = try curl("POST", url, token: "good", json: body)
        let answers = try #require(response.jsonObject?["files"] as? [[String: Any]])

        #expect(answers.count == paths.count)
        for answer in answers {
            let path = answer["path"] as? String ?? ""
            #expect(answer["uploadMode"] as? String == paths[path], "upload mode of \(path)")
        }
    }

    @Test func treeAndPathsInfoListEntries() throws {
        let hub = try startedHub()
        defer { hub.stop() }
        let files = [
            "a.txt": Data("a".utf8),
            "dir/b.txt": Data("b".utf8),
            "dir/sub/c.txt": Data("c".utf8),
            "dir/w.bin": Data([1, 2]),
        ]
        hub.seed(repo: "demo/data", type: .dataset, files: files, message: "add files")
        let base = hub.baseURL + "/api/datasets/demo/data"

        let oneLevel = try curl("GET", base + "/tree/main/dir")
        let encoded = try curl("GET", base + "/tree/main/dir%2Fsub?recursive=true")
        let info = try curl(
            "POST",
            base + "/paths-info/main",
            headers: ["Content-Type: application/x-www-form-urlencoded"],
            body: Data("paths=dir%2Fw.bin&paths=dir&paths=absent.txt&expand=false".utf8)
        )
        let missing = try curl("GET", base + "/tree/main/absent")

        let levelPaths = (oneLevel.json as? [[String: Any]])?.compactMap { $0["path"] as? String }
        #expect(levelPaths == ["dir/b.txt", "dir/sub", "dir/w.bin"])
        let encodedPaths = (encoded.json as? [[String: Any]])?.compactMap { $0["path"] as? String }
        #expect(encodedPaths == ["dir/sub/c.txt"])
        let entries = try #require(info.json as? [[String: Any]])
        #expect(entries.count == 2)
        #expect(entries.first?["type"] as? String == "file")
        let lfs = entries.first?["lfs"] as? [String: Any]
        #expect(lfs?["oid"] as? String == Digest.sha256(Data([1, 2])).hexString)
        #expect(entries.last?["type"] as? String == "directory")
        #expect(missing.status == 404)
        #expect(missing.header("X-Error-Code") == "EntryNotFound")
    }

    @Test func objectIdsMatchGit() throws {
        let git = try #require(findExecutable("git"), "git is needed to compute the expected ids")
        let hub = try startedHub()
        defer { hub.stop() }
        let files = ["top.txt": Data("top\n".utf8), "nested/inner/a.json": Data("{}".utf8)]
        hub.seed(repo: "demo/model", type: .model, files: files, message: "add files")
        let gitAttributes = try #require(hub.files(repo: "demo/model", type: .model)?[".gitattributes"])
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try write(files.merging([".gitattributes": gitAttributes]) { first, _ in first }, to: directory)
        for arguments in [["init", "-q"], ["add", "-A"]] {
            _ = try run(git, arguments, directory: directory)
        }
        let expectedTree = try run(git, ["write-tree"], directory: directory).stdout
        let expectedNested = try run(git, ["rev-parse", "\(expectedTree.trimmed):nested"], directory: directory).stdout

        let listing = try curl("GET", hub.baseURL + "/api/models/demo/model/tree/main")
        let entries = try #require(listing.json as? [[String: Any]])
        let nested = entries.first { $0["path"] as? String == "nested" }
        let top = entries.first { $0["path"] as? String == "top.txt" }

        #expect(nested?["type"] as? String == "directory")
        #expect(nested?["oid"] as? String == expectedNested.trimmed)
        #expect(top?["oid"] as? String == gitBlobID(Data("top\n".utf8)))
        #expect(hub.commits(repo: "demo/model", type: .model).allSatisfy { $0.id.count == 40 })
    }
}

// MARK: - Helpers shared by the Hub stand-in tests

/// Starts a stand-in that accepts the token `good`.
func startedHub() throws -> HubStandIn {
    let hub = HubStandIn(tokens: ["good"])
    try hub.start()
    return hub
}

/// Returns the Git blob id of `data`, computed here independently of the stand-in.
func gitBlobID(_ data: Data) -> String {
    var object = Data("blob \(data.count)\0".utf8)
    object.append(data)
    return Digest.sha1(object).hexString
}

/// One HTTP response as curl received it.
struct CurlResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data

    func header(_ name: String) -> String? {
        self.headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }

    var json: Any? { try? JSONSerialization.jsonObject(with: self.body) }
    var jsonObject: [String: Any]? { self.json as? [String: Any] }
}

private func firstObject(_ response: CurlResponse) -> [String: Any]? {
    (response.jsonObject?["objects"] as? [[String: Any]])?.first
}

/// Sends one request with curl. `json` and `ndjson` set the body and its content type.
func curl(
    _ method: String,
    _ url: String,
    token: String? = nil,
    headers: [String] = [],
    json: String? = nil,
    ndjson: [String]? = nil,
    body: Data? = nil
) throws -> CurlResponse {
    let curl = try #require(findExecutable("curl"), "curl is needed to send raw requests")
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let headerFile = directory.appendingPathComponent("headers")
    let bodyFile = directory.appendingPathComponent("body")
    var arguments = ["-s", "-S", "-D", headerFile.path, "-o", bodyFile.path, "-X", method, url]
    if method == "HEAD" {
        arguments = ["-s", "-S", "-I", "-D", headerFile.path, "-o", bodyFile.path, url]
    }
    var allHeaders = headers
    if let token {
        allHeaders.append("Authorization: Bearer \(token)")
    }
    var payload = body
    if let json {
        payload = Data(json.utf8)
        allHeaders.append("Content-Type: application/json")
    }
    if let ndjson {
        payload = Data(ndjson.joined(separator: "\n").utf8)
        allHeaders.append("Content-Type: application/x-ndjson")
    }
    if let payload {
        let payloadFile = directory.appendingPathComponent("payload")
        try payload.write(to: payloadFile)
        arguments += ["--data-binary", "@" + payloadFile.path]
    }
    for header in allHeaders {
        arguments += ["-H", header]
    }
    let result = try run(curl, arguments)
    #expect(result.status == 0, "curl failed: \(result.stderr)")

    // With `Expect: 100-continue` the header file starts with the interim response; keep the last block.
    let rawHeaders = String(decoding: (try? Data(contentsOf: headerFile)) ?? Data(), as: UTF8.self)
    let block = rawHeaders.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }.last ?? ""
    var lines = block.components(separatedBy: "\r\n")
    let statusLine = lines.isEmpty ? "" : lines.removeFirst()
    let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    let parsed: [(name: String, value: String)] = lines.compactMap { line in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    return CurlResponse(status: status, headers: parsed, body: (try? Data(contentsOf: bodyFile)) ?? Data())
}

/// The result of a finished child process.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var seconds: Double
}

/// Runs `executable` with `arguments` and waits for it, killing it after `timeout` seconds. Output goes to files
/// rather than pipes, so a chatty child cannot block on a full pipe.
func run(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String]? = nil,
    directory: URL? = nil,
    timeout: Double = 120
) throws -> ProcessResult {
    let outputDirectory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: outputDirectory) }
    let stdoutURL = outputDirectory.appendingPathComponent("stdout")
    let stderrURL = outputDirectory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
    let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
    let stderrHandle = try FileHandle(forWritingTo: stderrURL)
    defer {
        try? stdoutHandle.close()
        try? stderrHandle.close()
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment {
        process.environment = environment
    }
    if let directory {
        process.currentDirectoryURL = directory
    }
    process.standardOutput = stdoutHandle
    process.standardError = stderrHandle
    process.standardInput = FileHandle.nullDevice
    let started = Date()
    try process.run()
    let deadline = started.addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline {
        Thread.sleep(forTimeInterval: 0.02)
    }
    if process.isRunning {
        process.terminate()
        process.waitUntilExit()
        Issue.record("\(executable) \(arguments.joined(separator: " ")) timed out after \(timeout) s")
    }
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: (try? Data(contentsOf: stdoutURL)) ?? Data(), as: UTF8.self),
        stderr: String(decoding: (try? Data(contentsOf: stderrURL)) ?? Data(), as: UTF8.self),
        seconds: Date().timeIntervalSince(started)
    )
}

/// Returns the full path of `name` found on `PATH`, or nil.
func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
    }
    return nil
}

/// Creates a fresh directory under the system temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hubstandin-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `files` (relative path to content) below `directory`, creating folders as needed.
func write(_ files: [String: Data], to directory: URL) throws {
    for (path, data) in files {
        let url = directory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }
}

extension String {
    var trimmed: String { self.trimmingCharacters(in: .whitespacesAndNewlines) }
}
