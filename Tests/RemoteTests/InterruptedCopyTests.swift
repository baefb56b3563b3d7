import Foundation
import Support
import Testing

@testable import Remote

/// A download stopped midway must leave nothing at the final name, and running it again must finish it.
@Suite(.sshServer)
struct InterruptedCopyTests {
    @Test(arguments: TransferMethod.allCases)
    func stoppedDownloadLeavesNoFinalName(method: TransferMethod) throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("remote")
        let local = try server.makeDirectory("local")
        let name = "results_20261204_030000.tar.gz"
        let sent = try writeRandomFile(remote + "/" + name, count: 256 << 20)
        let stop = Signal()
        let logger = Logger(label: "t", sink: .discard)
        let stopping = RemoteTransfer(destination: try server.destination(), logger: logger, cancel: stop)
        // The stop comes once the first bytes have arrived, wherever the tool keeps its partial file.
        Thread.detachNewThread {
            let deadline = Date(timeIntervalSinceNow: 10)
            while Date() < deadline && receivedBytes(under: local) == 0 {
                Thread.sleep(forTimeInterval: 0.01)
            }
            stop.raise()
        }

        #expect(throws: RemoteTransferError.self) {
            try stopping.download(remotePath: remote + "/" + name, toDirectory: local, method: method)
        }

        #expect(!FileManager.default.fileExists(atPath: local + "/" + name))
        let transfer = RemoteTransfer(destination: try server.destination(), logger: logger)
        try transfer.download(remotePath: remote + "/" + name, toDirectory: local, method: method)
        let received = try Data(contentsOf: URL(fileURLWithPath: local + "/" + name))
        #expect(received == sent)
    }
}

/// Returns the bytes of every regular file under `directory`, hidden ones included.
private func receivedBytes(under directory: String) -> Int {
    guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return 0 }
    var total = 0
    for case let path as String in enumerator {
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + path)
        if attributes?[.type] as? FileAttributeType == .typeRegular {
            total += (attributes?[.size] as? Int) ?? 0
        }
    }
    return total
}
