import Foundation
import Support
import Testing

@testable import Remote

/// Login and connection failures against a real sshd, and the fix each error message names.
@Suite(.sshServer)
struct ConnectionErrorTests {
    @Test(arguments: TransferMethod.allCases)
    func wrongKeyIsPermissionDenied(method: TransferMethod) throws {
        let server = try sharedServer()
        let keys = try server.makeDirectory("keys")
        let wrongKey = keys + "/unauthorized_ed25519"
        try SSHServerFixture.generateKey(wrongKey)
        let remote = try server.makeDirectory("remote")
        try writeRandomFile(remote + "/file.bin", count: 10)
        let local = try server.makeDirectory("local")
        let transfer = RemoteTransfer(
            destination: try server.destination(identityFile: wrongKey),
            logger: Logger(label: "t", sink: .discard)
        )

        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.download(remotePath: remote + "/file.bin", toDirectory: local, method: method)
        }

        #expect(error == .permissionDenied(account: "root@127.0.0.1", identityFile: wrongKey, port: server.port))
        #expect(error.description.contains("ssh-copy-id -i \(wrongKey).pub -p \(server.port) root@127.0.0.1"))
    }

    @Test func wrongKeyFailsListing() throws {
        let server = try sharedServer()
        let keys = try server.makeDirectory("keys")
        let wrongKey = keys + "/unauthorized_ed25519"
        try SSHServerFixture.generateKey(wrongKey)
        let transfer = RemoteTransfer(
            destination: try server.destination(identityFile: wrongKey),
            logger: Logger(label: "t", sink: .discard)
        )

        let error = try #require(throws: RemoteTransferError.self) { try transfer.list(remotePath: "/tmp") }

        #expect(error == .permissionDenied(account: "root@127.0.0.1", identityFile: wrongKey, port: server.port))
    }

    @Test(arguments: TransferMethod.allCases)
    func changedHostKeyIsReported(method: TransferMethod) throws {
        let server = try sharedServer()
        let keys = try server.makeDirectory("keys")
        try SSHServerFixture.generateKey(keys + "/other_host")
        let otherLine = try SSHServerFixture.publicKeyLine(keys + "/other_host.pub")
        let knownHosts = keys + "/known_hosts"
        try "[127.0.0.1]:\(server.port) \(otherLine)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let local = try server.makeDirectory("local")
        try writeRandomFile(local + "/a.bin", count: 10)
        let remote = try server.makeDirectory("remote")
        // accept-new still rejects a key that differs from the recorded one.
        let transfer = RemoteTransfer(
            destination: try server.destination(knownHostsFile: knownHosts, hostKeyPolicy: .acceptNew),
            logger: Logger(label: "t", sink: .discard)
        )

        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.upload(localFile: local + "/a.bin", to: remote + "/", method: method)
        }

        let name = "[127.0.0.1]:\(server.port)"
        #expect(error == .hostKeyChanged(knownHostsName: name, knownHostsFile: knownHosts))
        #expect(error.description.contains("ssh-keygen -f \(shellQuote(knownHosts)) -R '\(name)'"))
        #expect(!FileManager.default.fileExists(atPath: remote + "/a.bin"))
        // The recorded key is left as it was.
        #expect(try String(contentsOfFile: knownHosts, encoding: .utf8).contains(otherLine))
    }

    @Test func strictPolicyRejectsUnknownHost() throws {
        let server = try sharedServer()
        let keys = try server.makeDirectory("keys")
        let knownHosts = keys + "/known_hosts"
        let transfer = RemoteTransfer(
            destination: try server.destination(knownHostsFile: knownHosts, hostKeyPolicy: .strict),
            logger: Logger(label: "t", sink: .discard)
        )

        let error = try #require(throws: RemoteTransferError.self) { try transfer.list(remotePath: "/tmp") }

        #expect(error == .hostKeyUnknown(knownHostsName: "[127.0.0.1]:\(server.port)", knownHostsFile: knownHosts))
    }

    @Test func acceptNewRecordsHostKey() throws {
        let server = try sharedServer()
        let keys = try server.makeDirectory("keys")
        let knownHosts = keys + "/known_hosts"
        let remote = try server.makeDirectory("remote")
        let transfer = RemoteTransfer(
            destination: try server.destination(knownHostsFile: knownHosts, hostKeyPolicy: .acceptNew),
            logger: Logger(label: "t", sink: .discard)
        )

        #expect(try transfer.list(remotePath: remote).isEmpty)

        let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
        #expect(recorded.contains(server.hostKeyLine))
    }

    @Test(arguments: TransferMethod.allCases)
    func refusedConnectionIsReported(method: TransferMethod) throws {
        let server = try sharedServer()
        let closedPort = try SSHServerFixture.freePort()
        let local = try server.makeDirectory("local")
        try writeRandomFile(local + "/a.bin", count: 10)
        let capture = LogCapture()
        let transfer = RemoteTransfer(
            destination: try server.destination(port: closedPort),
            logger: captureLogger(capture)
        )

        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.download(remotePath: "/tmp/a.bin", toDirectory: local, method: method)
        }

        #expect(error == .connectionRefused(host: "127.0.0.1", port: closedPort))
        #expect(error.description.contains("port \(closedPort) was refused"))
        let failure = try #require(capture.records.first { $0.message == "Download failed" })
        #expect(failure.level == .error)
        #expect(failure.metadata["host"] == "127.0.0.1")
    }

    @Test func refusedConnectionFailsUploadEarly() throws {
        let server = try sharedServer()
        let closedPort = try SSHServerFixture.freePort()
        let local = try server.makeDirectory("local")
        try writeRandomFile(local + "/a.bin", count: 10)
        let transfer = RemoteTransfer(
            destination: try server.destination(port: closedPort),
            logger: Logger(label: "t", sink: .discard)
        )

        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.upload(localFile: local + "/a.bin", to: "/tmp/nightshift-never/", method: .scp)
        }

        #expect(error == .connectionRefused(host: "127.0.0.1", port: closedPort))
    }
}

/// An sshd whose sessions find no rsync on PATH, as on a machine image without it.
@Test func missingRemoteRsyncIsReported() throws {
    let server = try SSHServerFixture.start(extraConfig: ["SetEnv PATH=/nonexistent-bin"])
    defer { server.stop() }
    let local = try server.makeDirectory("local")
    try writeRandomFile(local + "/a.bin", count: 10)
    let remote = try server.makeDirectory("remote")
    let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

    let error = try #require(throws: RemoteTransferError.self) {
        try transfer.download(remotePath: remote + "/a.bin", toDirectory: local, method: .rsync)
    }

    #expect(error == .rsyncNotFoundOnRemote(host: "127.0.0.1"))
    #expect(error.description.contains("or use scp"))
}

/// The fixture leaves no sshd behind once stopped.
@Test func fixtureStopEndsServer() throws {
    let server = try SSHServerFixture.start()
    let pid = server.pid
    #expect(server.isRunning)

    server.stop()

    #expect(kill(pid, 0) != 0)
    #expect(!FileManager.default.fileExists(atPath: server.directory))
}
