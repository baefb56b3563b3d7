import Foundation
import Support
import Testing

@testable import Remote

@Test(arguments: ["-oProxyCommand=sh", "", "host name", "host;id", "[::1]", "a/b", "$(id)"])
func destinationRejectsBadHost(host: String) throws {
    let error = try #require(throws: RemoteTransferError.self) {
        try SSHDestination(host: host, user: "paperspace")
    }
    guard case .invalidDestination(let field, let value, _) = error else {
        Issue.record("unexpected error \(error)")
        return
    }
    #expect(field == "host")
    #expect(value == host)
}

@Test(arguments: ["-l", "", "pa per", "root@x", "a:b", "$(id)"])
func destinationRejectsBadUser(user: String) throws {
    let error = try #require(throws: RemoteTransferError.self) {
        try SSHDestination(host: "127.0.0.1", user: user)
    }
    guard case .invalidDestination(let field, _, _) = error else {
        Issue.record("unexpected error \(error)")
        return
    }
    #expect(field == "user")
}

@Test func destinationRejectsLeadingDashMessage() throws {
    let error = try #require(throws: RemoteTransferError.self) {
        try SSHDestination(host: "-oProxyCommand=id", user: "paperspace")
    }
    #expect(error.description.contains("would be read as an ssh option"))
}

@Test func destinationRejectsBadPortAndPaths() throws {
    #expect(throws: RemoteTransferError.self) { try SSHDestination(host: "127.0.0.1", user: "u", port: 0) }
    #expect(throws: RemoteTransferError.self) { try SSHDestination(host: "127.0.0.1", user: "u", port: 70_000) }
    #expect(throws: RemoteTransferError.self) {
        try SSHDestination(host: "127.0.0.1", user: "u", identityFile: "-oProxyCommand=id")
    }
    #expect(throws: RemoteTransferError.self) {
        try SSHDestination(host: "127.0.0.1", user: "u", knownHostsFile: "a\nb")
    }
}

@Test func destinationAcceptsIPv6WithBrackets() throws {
    let destination = try SSHDestination(host: "::1", user: "paperspace", port: 2222)
    #expect(destination.account == "paperspace@[::1]")
    #expect(destination.knownHostsName == "[::1]:2222")
}

@Test func defaultOptionsKeepHostKeyChecking() throws {
    let destination = try SSHDestination(host: "127.0.0.1", user: "paperspace")
    let options = destination.commonOptions
    #expect(options.contains("BatchMode=yes"))
    #expect(options.contains("StrictHostKeyChecking=accept-new"))
    #expect(options.contains("ConnectTimeout=15"))
    #expect(options.contains("ServerAliveInterval=15"))
    #expect(!options.contains { $0.lowercased().contains("stricthostkeychecking=no") })
    #expect(destination.knownHostsName == "127.0.0.1")
}

@Test func optionAllowListRejectsOthers() throws {
    for text in ["ProxyCommand=sh -c id", "StrictHostKeyChecking=no", "LocalCommand=id", "User=root", "Port=22"] {
        let error = try #require(throws: RemoteTransferError.self) { try SSHOption(parsing: text) }
        #expect(error.description.contains("not an allowed ssh option"), "\(text)")
    }
}

@Test func optionAllowListChecksValues() throws {
    #expect(try SSHOption(parsing: "compression=yes").text == "Compression=yes")
    #expect(try SSHOption(parsing: "ServerAliveCountMax 8").text == "ServerAliveCountMax=8")
    #expect(throws: RemoteTransferError.self) { try SSHOption(parsing: "Compression=maybe") }
    #expect(throws: RemoteTransferError.self) { try SSHOption(parsing: "ConnectionAttempts=0") }
    #expect(throws: RemoteTransferError.self) { try SSHOption(parsing: "HostKeyAlias=-x") }
    #expect(throws: RemoteTransferError.self) { try SSHOption(parsing: "HostKeyAlias=a b") }
    #expect(throws: RemoteTransferError.self) { try SSHOption(parsing: "Compression") }
}

@Test func duplicateOptionsAreRejected() throws {
    let options = [try SSHOption(parsing: "Compression=yes"), try SSHOption(parsing: "compression=no")]
    #expect(throws: RemoteTransferError.self) {
        try SSHDestination(host: "127.0.0.1", user: "u", options: options)
    }
}

@Test func argumentVectorsEndOperandsAfterDashes() throws {
    let destination = try SSHDestination(host: "127.0.0.1", user: "paperspace", port: 2200, identityFile: "/k")
    let transfer = RemoteTransfer(destination: destination, logger: Logger(label: "t", sink: .discard))

    let scp = transfer.scpArguments(recursive: false, ["/a"], "paperspace@127.0.0.1:/storage/")
    #expect(scp.prefix(3) == ["scp", "-s", "-p"])
    #expect(Array(scp.suffix(3)) == ["--", "/a", "paperspace@127.0.0.1:/storage/"])
    #expect(scp.contains("-P"))

    let rsync = transfer.rsyncArguments(progress: true, ["/a"], "paperspace@127.0.0.1:/storage/")
    #expect(rsync.prefix(2) == ["rsync", "-s"])
    #expect(rsync.contains("--info=progress2"))
    #expect(Array(rsync.suffix(3)) == ["--", "/a", "paperspace@127.0.0.1:/storage/"])

    let ssh = transfer.sshArguments("true")
    #expect(Array(ssh.suffix(3)) == ["--", "paperspace@127.0.0.1", "true"])
}

@Test func rsyncQuotingDoublesQuotes() {
    #expect(RemoteTransfer.quoteForRsync("plain-path/x") == "plain-path/x")
    #expect(RemoteTransfer.quoteForRsync("a b") == "'a b'")
    #expect(RemoteTransfer.quoteForRsync("it's") == "'it''s'")
    #expect(RemoteTransfer.quoteForRsync("") == "''")
}

@Test func remotePathsAreNormalized() throws {
    #expect(try RemotePath.normalized("~/runs") == "runs")
    #expect(try RemotePath.normalized("~") == ".")
    #expect(try RemotePath.normalized("/storage/") == "/storage/")
    #expect(throws: RemoteTransferError.self) { try RemotePath.normalized("") }
    #expect(RemotePath.directoryToCreate(forTarget: "/storage/") == "/storage")
    #expect(RemotePath.directoryToCreate(forTarget: "/storage/a/b.tar") == "/storage/a")
    #expect(RemotePath.directoryToCreate(forTarget: "b.tar") == nil)
    #expect(RemotePath.directoryToCreate(forTarget: "/b.tar") == nil)
    #expect(RemotePath.lastComponent("/storage/results/") == "results")
}

@Test func wildcardsAreEscaped() throws {
    #expect(RemotePath.escapedForSCPSource("/s/a*b?[c]\\d") == "/s/a\\*b\\?\\[c]\\\\d")
    #expect(try RemotePath.escapedForRsync("/s/a\\b", isSource: true) == "/s/a\\b")
    #expect(try RemotePath.escapedForRsync("/s/a*b", isSource: true) == "/s/a\\*b")
    #expect(throws: RemoteTransferError.self) { try RemotePath.escapedForRsync("/s/a\\*b", isSource: true) }
}
