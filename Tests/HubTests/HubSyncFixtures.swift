import Foundation
import HTTP
import Hub
import StandIns
import Support

/// A started stand-in with a sync engine aimed at it, a private cache directory and a scratch directory.
final class SyncHarness: @unchecked Sendable {
    let hub: HubStandIn
    let sync: HubSync
    let scratch: String
    let capture: LogCapture
    let sleeps = Protected<[Double]>([])

    init(token: String? = testToken, retry: RetryPolicy = RetryPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 2))
        throws
    {
        self.hub = HubStandIn(tokens: [testToken])
        try self.hub.start()
        self.scratch = NSTemporaryDirectory() + "nightshift-sync-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.scratch, withIntermediateDirectories: true)
        self.capture = LogCapture()
        let logger = Logger(label: "hub-sync-test", logLevel: .debug, sink: self.capture.sink)
        let sleeps = self.sleeps
        let http = HTTPClient(
            connectTimeout: 2,
            totalTimeout: 20,
            logger: logger,
            sleep: { seconds, _ in
                sleeps.withLock { $0.append(seconds) }
                Thread.sleep(forTimeInterval: min(seconds, 1.5))
                return true
            }
        )
        let client = HubClient(endpoint: self.hub.baseURL, token: token, http: http, logger: logger, retry: retry)
        self.sync = HubSync(client: client, cacheDirectory: self.scratch + "/cache")
    }

    func stop() {
        self.hub.stop()
        try? FileManager.default.removeItem(atPath: self.scratch)
    }

    /// Writes `files` under `scratch/name` and returns the directory.
    func directory(_ name: String, _ files: [String: Data]) throws -> String {
        let root = self.scratch + "/" + name
        for (path, data) in files {
            let url = URL(fileURLWithPath: root + "/" + path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try data.write(to: url)
        }
        return root
    }

    func upload(_ directory: String, repo: String, message: String = "sync", deletions: [String] = []) throws
        -> HubUploadReport
    {
        try self.sync.upload(
            HubUploadRequest(
                repo: repo,
                files: try HubSync.localFiles(in: directory),
                message: message,
                deletions: deletions
            )
        )
    }

    func download(repo: String, to name: String, folder: String? = nil) throws -> HubDownloadReport {
        try self.sync.download(HubDownloadRequest(repo: repo, folder: folder, destination: self.scratch + "/" + name))
    }

    func read(_ name: String, _ path: String) -> Data? {
        FileManager.default.contents(atPath: self.scratch + "/" + name + "/" + path)
    }
}

/// Returns `count` bytes of a pattern that differs per `seed`, so files are not all alike.
func patterned(_ count: Int, seed: UInt8 = 1) -> Data {
    Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 9) &+ Int(seed)) })
}

/// Returns the resident set size of this process in KiB, from `VmRSS` in /proc/self/status.
func residentKiB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}
