import Foundation
import Support
import Testing

@testable import Remote

#if canImport(Glibc)
    import Glibc
#endif

/// A raised stop signal ends the running tool, so Ctrl-C or SIGTERM never leaves scp or rsync copying on its own.
@Suite struct CancelTests {
    @Test func raisedSignalStopsTool() throws {
        let stop = Signal()
        let marker = NSTemporaryDirectory() + "nightshift-cancel-\(UUID().uuidString.prefix(8))"
        defer { unlink(marker) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { stop.raise() }
        let started = Date()

        var caught: Error?
        do {
            // The child writes the marker only if it outlives the cancellation by two seconds.
            _ = try ToolRunner(cancel: stop).run(["sh", "-c", "sleep 2; touch \(marker)"])
        } catch {
            caught = error
        }

        let elapsed = Date().timeIntervalSince(started)
        let error = try #require(caught as? RemoteTransferError)
        guard case .cancelled = error else {
            Issue.record("expected cancelled, got \(error)")
            return
        }
        #expect(elapsed < 1.9)
        Thread.sleep(forTimeInterval: 2.2)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
