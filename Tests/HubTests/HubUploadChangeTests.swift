import Foundation
import HTTP
import Hub
import StandIns
import Support
import Testing

/// An upload whose file changes after it was hashed must not commit: the Hub stores an LFS object under the
/// oid the client announces, and object storage may not check the content against it.
@Suite struct HubUploadChangeTests {
    @Test func fileChangedDuringUploadIsNotCommitted() throws {
        let scratch = NSTemporaryDirectory() + "nightshift-changed-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch + "/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let file = scratch + "/data/ticks.bin"
        try Data(repeating: 7, count: 300_000).write(to: URL(fileURLWithPath: file))

        let server = try ScriptedServer { request, base in
            switch (request.method, request.path) {
            case ("POST", "/api/repos/create"):
                return .json(409, ["url": base + "/datasets/alice/data"])
            case ("GET", "/api/datasets/alice/data/revision/main"):
                return .json(200, ["sha": headSHA])
            case ("GET", "/api/datasets/alice/data/tree/main"):
                return .json(200, [Any]())
            case ("POST", "/api/datasets/alice/data/preupload/main"):
                return .json(200, ["files": [["path": "ticks.bin", "uploadMode": "lfs", "shouldIgnore": false]]])
            case ("POST", "/datasets/alice/data.git/info/lfs/objects/batch"):
                let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any]
                let object = ((body?["objects"] as? [[String: Any]]) ?? []).first ?? [:]
                var answer = object
                answer["actions"] = ["upload": ["href": base + "/storage/object"]]
                return .json(200, ["transfer": "basic", "objects": [answer]])
            case ("PUT", "/storage/object"):
                // The file is rewritten while its bytes are on the way, as a collector appending ticks would.
                if let handle = FileHandle(forWritingAtPath: file) {
                    handle.seekToEndOfFile()
                    handle.write(Data("late tick\n".utf8))
                    try? handle.close()
                }
                return HTTPResponse(status: 200)
            default:
                return .json(200, ["commitOid": newSHA])
            }
        }
        defer { server.stop() }
        let sync = HubSync(client: makeHub(server).client, cacheDirectory: scratch + "/cache")

        var caught: HubError?
        do {
            _ = try sync.upload(
                HubUploadRequest(repo: "alice/data", files: try HubSync.localFiles(in: scratch + "/data"), message: "m")
            )
        } catch let error as HubError {
            caught = error
        }

        let error = try #require(caught)
        guard case .localFileChanged = error else {
            Issue.record("expected a local file error, got \(error)")
            return
        }
        #expect(error.description.contains("changed"))
        #expect(server.received("POST", "/api/datasets/alice/data/commit/main").isEmpty)
    }
}
