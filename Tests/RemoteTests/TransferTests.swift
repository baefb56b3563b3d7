import Foundation
import Support
import Testing

@testable import Remote

/// Uploads, downloads and listings against one real sshd on 127.0.0.1.
@Suite(.sshServer)
struct TransferTests {
    @Test(arguments: TransferMethod.allCases)
    func uploadKeepsBytes(method: TransferMethod) throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local")
        let remote = try server.makeDirectory("remote")
        let sent = try writeRandomFile(local + "/archive.tar.gz", count: 1_048_576 + 17)
        let capture = LogCapture()
        let transfer = RemoteTransfer(destination: try server.destination(), logger: captureLogger(capture))

        let result = try transfer.upload(localFile: local + "/archive.tar.gz", to: remote + "/", method: method)

        let received = try Data(contentsOf: URL(fileURLWithPath: remote + "/archive.tar.gz"))
        #expect(received == sent)
        #expect(result.bytes == Int64(sent.count))
        #expect(result.remotePath == remote + "/archive.tar.gz")
        #expect(result.method == method)
        let finished = try #require(capture.records.first { $0.message == "Upload finished" })
        #expect(finished.metadata["host"] == "127.0.0.1")
        #expect(finished.metadata["path"] == remote + "/archive.tar.gz")
        #expect(finished.metadata["method"] == method.rawValue)
        #expect(finished.metadata["bytes"] == "\(sent.count)")
    }

    @Test(arguments: TransferMethod.allCases)
    func uploadCreatesRemoteDirectories(method: TransferMethod) throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local")
        let remote = try server.makeDirectory("remote")
        let sent = try writeRandomFile(local + "/weights.bin", count: 4096)
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        try transfer.upload(localFile: local + "/weights.bin", to: remote + "/runs/2026/renamed.bin", method: method)

        let received = try Data(contentsOf: URL(fileURLWithPath: remote + "/runs/2026/renamed.bin"))
        #expect(received == sent)
    }

    @Test(arguments: TransferMethod.allCases)
    func downloadCopiesDirectoryTree(method: TransferMethod) throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("remote")
        let local = try server.makeDirectory("local")
        let manager = FileManager.default
        try manager.createDirectory(atPath: remote + "/results/checkpoints/step-100", withIntermediateDirectories: true)
        let metrics = try writeRandomFile(remote + "/results/metrics.json", count: 300)
        let checkpoint = try writeRandomFile(remote + "/results/checkpoints/step-100/model.pt", count: 200_000)
        try manager.createDirectory(atPath: remote + "/results/empty", withIntermediateDirectories: true)
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        let result = try transfer.download(
            remotePath: remote + "/results/",
            toDirectory: local + "/fetched",
            method: method
        )

        #expect(result.localPath == local + "/fetched/results")
        #expect(result.bytes == Int64(metrics.count + checkpoint.count))
        #expect(try Data(contentsOf: URL(fileURLWithPath: local + "/fetched/results/metrics.json")) == metrics)
        let fetchedCheckpoint = local + "/fetched/results/checkpoints/step-100/model.pt"
        #expect(try Data(contentsOf: URL(fileURLWithPath: fetchedCheckpoint)) == checkpoint)
        var isDirectory: ObjCBool = false
        #expect(manager.fileExists(atPath: local + "/fetched/results/empty", isDirectory: &isDirectory))
        #expect(isDirectory.boolValue)
    }

    @Test(arguments: [RemoteListing.Mode.automatic, .portable])
    func listReportsEntries(mode: RemoteListing.Mode) throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("remote")
        let manager = FileManager.default
        try writeRandomFile(remote + "/data.tar", count: 12_345)
        try writeRandomFile(remote + "/.hidden", count: 3)
        try manager.createDirectory(atPath: remote + "/logs", withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: remote + "/latest", withDestinationPath: "data.tar")
        let stamp = Date(timeIntervalSince1970: 1_767_225_600)
        try manager.setAttributes([.modificationDate: stamp], ofItemAtPath: remote + "/data.tar")
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        let entries = try transfer.list(remotePath: remote, mode: mode)

        #expect(entries.map(\.name) == [".hidden", "data.tar", "latest", "logs"])
        let data = try #require(entries.first { $0.name == "data.tar" })
        #expect(data.kind == .file)
        #expect(data.size == 12_345)
        #expect(abs(data.modified.timeIntervalSince(stamp)) < 1)
        #expect(entries.first { $0.name == "logs" }?.kind == .directory)
        #expect(entries.first { $0.name == "latest" }?.kind == .symlink)
        #expect(entries.first { $0.name == ".hidden" }?.size == 3)
    }

    @Test(arguments: [RemoteListing.Mode.automatic, .portable])
    func listOfFileReturnsItself(mode: RemoteListing.Mode) throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("remote")
        try writeRandomFile(remote + "/only.bin", count: 77)
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        let entries = try transfer.list(remotePath: remote + "/only.bin", mode: mode)

        #expect(entries.map(\.name) == ["only.bin"])
        #expect(entries.first?.size == 77)
    }

    @Test(arguments: [RemoteListing.Mode.automatic, .portable])
    func listOfEmptyDirectoryIsEmpty(mode: RemoteListing.Mode) throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("remote")
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        #expect(try transfer.list(remotePath: remote, mode: mode).isEmpty)
    }

    @Test func listOfMissingPathThrowsNotFound() throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("remote")
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.list(remotePath: remote + "/nothing-here")
        }

        #expect(error == .remotePathNotFound(path: remote + "/nothing-here", host: "127.0.0.1"))
    }

    @Test(arguments: TransferMethod.allCases)
    func downloadOfMissingPathThrowsNotFound(method: TransferMethod) throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("remote")
        let local = try server.makeDirectory("local")
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.download(remotePath: remote + "/missing.tar", toDirectory: local, method: method)
        }

        #expect(error == .remotePathNotFound(path: remote + "/missing.tar", host: "127.0.0.1"))
        #expect(error.description.contains("list the parent directory"))
    }

    @Test func uploadOfMissingLocalFileThrows() throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local")
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.upload(localFile: local + "/absent.tar", to: "/tmp/", method: .scp)
        }

        #expect(error == .localFileNotFound(path: local + "/absent.tar"))
    }

    @Test func scpUploadToFullDeviceReportsDiskFull() throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local")
        try writeRandomFile(local + "/big.bin", count: 65_536)
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        // /dev/full fails every write with ENOSPC, which SFTP reports as a generic write failure.
        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.upload(localFile: local + "/big.bin", to: "/dev/full", method: .scp)
        }

        #expect(error == .diskFull(path: "/dev/full", host: "127.0.0.1"))
    }

    @Test func rsyncProgressReachesMeter() throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local")
        let remote = try server.makeDirectory("remote")
        let sent = try writeRandomFile(local + "/archive.bin", count: 3_000_000)
        let screen = try server.makeDirectory("screen") + "/meter.txt"
        let descriptor = open(screen, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let meter = ProgressMeter(label: "upload", output: descriptor, enabled: true, minimumInterval: 0)
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        try transfer.upload(localFile: local + "/archive.bin", to: remote + "/", method: .rsync, progress: meter)

        let drawn = try String(contentsOfFile: screen, encoding: .utf8)
        #expect(drawn.contains("upload"))
        #expect(drawn.contains("(100%)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: remote + "/archive.bin")) == sent)
    }

    @Test func quietMeterDrawsNothing() throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local")
        let remote = try server.makeDirectory("remote")
        try writeRandomFile(local + "/archive.bin", count: 10_000)
        let screen = try server.makeDirectory("screen") + "/meter.txt"
        let descriptor = open(screen, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(descriptor) }
        // Without `enabled`, the meter draws only on a terminal, and a regular file is not one.
        let meter = ProgressMeter(label: "upload", output: descriptor)
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        try transfer.upload(localFile: local + "/archive.bin", to: remote + "/", method: .rsync, progress: meter)

        #expect(try String(contentsOfFile: screen, encoding: .utf8).isEmpty)
    }
}
