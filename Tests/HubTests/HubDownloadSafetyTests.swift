import Foundation
import HTTP
import Hub
import StandIns
import Support
import Testing

/// Downloads that must fail safely: a listing that points outside the destination, and a local disk that
/// rejects the write.
@Suite struct HubDownloadSafetyTests {
    @Test(arguments: ["ticks/../../escaped.txt", "ticks/../escaped.txt", "ticks//escaped.txt"])
    func unsafeListedPathIsRejected(path: String) throws {
        let content = Data("outside\n".utf8)
        let server = try ScriptedServer { request, _ in
            if request.path.hasSuffix("/revision/main") {
                return .json(200, ["sha": headSHA])
            }
            if request.path.contains("/tree/") {
                return .json(200, [["type": "file", "path": path, "size": content.count, "oid": gitBlobSHA1(content)]])
            }
            return HTTPResponse(status: 200, body: content)
        }
        defer { server.stop() }
        let scratch = NSTemporaryDirectory() + "nightshift-unsafe-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let destination = scratch + "/a/b/ticks"
        let sync = HubSync(client: makeHub(server).client, cacheDirectory: scratch + "/cache")

        #expect(throws: HubError.self) {
            try sync.download(
                HubDownloadRequest(repo: "alice/data", folder: "ticks", destination: destination, stripsFolder: true)
            )
        }

        #expect(!FileManager.default.fileExists(atPath: scratch + "/a/escaped.txt"))
        #expect(!FileManager.default.fileExists(atPath: scratch + "/a/b/escaped.txt"))
        #expect(server.requests.current.filter { $0.path.contains("/resolve/") }.isEmpty)
    }

    @Test func unwritablePartialIsLocalError() throws {
        let harness = try SyncHarness()
        defer { harness.stop() }
        harness.hub.seed(repo: "alice/data", type: .dataset, files: ["ticks.bin": patterned(200_000)], message: "seed")
        let destination = harness.scratch + "/copy"
        // A directory in place of the partial file cannot be opened for writing, as in a read-only directory.
        try FileManager.default.createDirectory(
            atPath: destination + "/ticks.bin" + HubSync.partialSuffix,
            withIntermediateDirectories: true
        )

        var caught: HubError?
        do {
            _ = try harness.download(repo: "alice/data", to: "copy")
        } catch let error as HubError {
            caught = error
        }

        let error = try #require(caught)
        guard case .localFile = error else {
            Issue.record("expected a local file error, got \(error)")
            return
        }
        #expect(error.description.contains("Is a directory"))
        #expect(harness.sleeps.current.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: destination + "/ticks.bin"))
    }
}

/// Returns the Git blob SHA-1 of `content`, the id the Hub lists for a file stored without LFS.
private func gitBlobSHA1(_ content: Data) -> String {
    var hasher = SHA1Hasher()
    hasher.update(Data("blob \(content.count)\u{0}".utf8))
    hasher.update(content)
    return hasher.finalize().hexString
}
