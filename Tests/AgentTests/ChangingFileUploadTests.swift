import Config
import Foundation
import HTTP
import Hub
import StandIns
import Support
import Testing

@testable import Agent

/// A tick collector can still be appending to a file when the nightly upload reads it. The upload must not commit
/// the changed file under its old hash, and the daemon's uploader tries again instead of failing the night.
@Suite struct ChangingFileUploadTests {
    @Test func changedFileIsRetriedThenCommitted() throws {
        let scratch = NSTemporaryDirectory() + "nightshift-changing-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch + "/ticks", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let file = scratch + "/ticks/today.csv"
        try Data(repeating: 55, count: 200_000).write(to: URL(fileURLWithPath: file))

        let puts = Protected(0)
        let commits = Protected(0)
        let base = Protected("")
        let server = LoopbackHTTPServer { request in
            let root = base.current
            switch (request.method, request.path) {
            case ("POST", "/api/repos/create"):
                return .json(409, ["url": root + "/datasets/trader/ticks"])
            case ("GET", "/api/datasets/trader/ticks/revision/main"):
                return .json(200, ["sha": String(repeating: "a", count: 40)])
            case ("GET", "/api/datasets/trader/ticks/tree/main"),
                ("GET", "/api/datasets/trader/ticks/tree/main/ticks"):
                return .json(200, [Any]())
            case ("POST", "/api/datasets/trader/ticks/preupload/main"):
                let file: [String: Any] = ["path": "ticks/today.csv", "uploadMode": "lfs", "shouldIgnore": false]
                return .json(200, ["files": [file]])
            case ("POST", "/datasets/trader/ticks.git/info/lfs/objects/batch"):
                let body = (try? JSONSerialization.jsonObject(with: request.body)) as? [String: Any]
                var object = ((body?["objects"] as? [[String: Any]]) ?? []).first ?? [:]
                object["actions"] = ["upload": ["href": root + "/storage/object"]]
                return .json(200, ["transfer": "basic", "objects": [object]])
            case ("PUT", "/storage/object"):
                // Only the first attempt finds the collector still writing.
                if puts.withLock({ count in count += 1; return count }) == 1,
                    let handle = FileHandle(forWritingAtPath: file)
                {
                    handle.seekToEndOfFile()
                    handle.write(Data("late tick\n".utf8))
                    try? handle.close()
                }
                return HTTPResponse(status: 200)
            case ("POST", "/api/datasets/trader/ticks/commit/main"):
                commits.withLock { $0 += 1 }
                return .json(200, ["commitOid": String(repeating: "b", count: 40), "commitUrl": root + "/c"])
            default:
                return .json(404, ["error": "no route"])
            }
        }
        try server.start()
        defer { server.stop() }
        base.withLock { $0 = server.baseURL }

        let capture = LogCapture()
        let logger = Logger(label: "test", logLevel: .debug, sink: capture.sink)
        let http = HTTPClient(connectTimeout: 2, totalTimeout: 10, logger: logger, sleep: { _, _ in true })
        let client = HubClient(endpoint: server.baseURL, token: "hf_changingFileToken123", http: http, logger: logger)
        let uploader = HubDataUploader(
            sync: HubSync(client: client, cacheDirectory: scratch + "/cache"),
            logger: logger,
            changedFileDelay: 0.1
        )
        let job = UploadJob(
            name: "ticks",
            schedule: "0 1 * * *",
            localDirectory: scratch + "/ticks",
            repo: "trader/ticks"
        )

        let summary = try uploader.upload(job, cancel: Signal())

        #expect(summary.filesUploaded == 1)
        #expect(puts.current == 2)
        #expect(commits.current == 1)
        #expect(capture.text.contains("Upload retried because a file changed while it was uploaded"))
    }
}
