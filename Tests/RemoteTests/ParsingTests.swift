import Foundation
import Support
import Testing

@testable import Remote

@Test func progressParserReadsCarriageReturnLines() {
    var parser = RsyncProgressParser()
    let first = parser.feed(Data("\r          32768   0%    0.00kB/s    0:00:00  \r       22118400  73%".utf8))
    #expect(first == RsyncProgressParser.Reading(bytes: 32768, percent: 0))
    let second = parser.feed(
        Data("   19.56MB/s    0:00:00  \r       30000000 100%   20.28MB/s    0:00:01 (xfr#1)\n".utf8)
    )
    #expect(second == RsyncProgressParser.Reading(bytes: 30_000_000, percent: 100))
    #expect(parser.feed(Data("sending incremental file list\n".utf8)) == nil)
}

@Test func progressParserAcceptsDigitGrouping() {
    #expect(RsyncProgressParser.parse("  1,234,567  45%  1.00MB/s  0:00:01") == .init(bytes: 1_234_567, percent: 45))
    #expect(RsyncProgressParser.parse("archive.tar") == nil)
}

@Test func listingParserReadsRecords() throws {
    let output = Data(
        "f\t12\t1767225600.5000000000\tdata.tar\0d\t4096\t1767225600\tlogs\0l\t8\t1\tname\twith\ttabs\n\0".utf8
    )

    let entries = try RemoteListing.parse(output, path: "/storage")

    #expect(entries.map(\.name) == ["data.tar", "logs", "name\twith\ttabs\n"])
    #expect(entries[0].kind == .file)
    #expect(entries[0].size == 12)
    #expect(entries[0].modified == Date(timeIntervalSince1970: 1_767_225_600.5))
    #expect(entries[1].kind == .directory)
    #expect(entries[2].kind == .symlink)
}

@Test func listingParserRejectsGarbage() throws {
    let error = try #require(throws: RemoteTransferError.self) {
        try RemoteListing.parse(Data("total 12\n".utf8), path: "/storage")
    }
    #expect(error.description.contains("cannot read the listing of /storage"))
}

@Test func listingCommandQuotesPath() {
    let command = RemoteListing.command(path: "/storage/x'; rm -rf /", mode: .automatic)
    #expect(command.hasPrefix("sh -c '"))
    #expect(command.hasSuffix(" sh '/storage/x'\\''; rm -rf /' auto"))
    #expect(!RemoteListing.script.contains("'"))
    #expect(!RemoteListing.script.contains("!"))
    #expect(!RemoteListing.script.contains("\n"))
}

/// Messages as OpenSSH 9.2 and rsync 3.5 print them, for the failures the tests cannot provoke on loopback.
@Test func classifierMapsKnownMessages() throws {
    let destination = try SSHDestination(host: "127.0.0.1", user: "paperspace")
    let classifier = RemoteErrorClassifier(destination: destination, remotePath: "/storage/a.tar", operation: "upload")
    let cases: [(String, Int32, RemoteTransferError)] = [
        (
            "ssh: Could not resolve hostname gpu-box: Name or service not known", 255,
            .unknownHost(host: "127.0.0.1")
        ),
        (
            "ssh: connect to host 127.0.0.1 port 22: Connection timed out", 255,
            .connectionTimedOut(host: "127.0.0.1", port: nil)
        ),
        ("ssh: connect to host 127.0.0.1 port 22: No route to host", 255, .hostUnreachable(host: "127.0.0.1")),
        (
            "bash: line 1: rsync: command not found\nrsync: connection unexpectedly closed (0 bytes received so far)",
            12, .rsyncNotFoundOnRemote(host: "127.0.0.1")
        ),
        ("sh: 1: rsync: not found", 12, .rsyncNotFoundOnRemote(host: "127.0.0.1")),
        (
            "rsync: [receiver] write failed on \"/storage/a.tar\": No space left on device (28)", 11,
            .diskFull(path: "/storage/a.tar", host: "127.0.0.1")
        ),
        ("scp: write remote \"/storage/a.tar\": Failure", 1, .diskFull(path: "/storage/a.tar", host: "127.0.0.1")),
        (
            "rsync: [receiver] mkstemp \"/storage/.a.tar.x\" failed: Permission denied (13)", 23,
            .remotePermissionDenied(path: "/storage/a.tar", host: "127.0.0.1")
        ),
        (
            "subsystem request failed on channel 0\nscp: Connection closed", 255,
            .sftpNotAvailable(host: "127.0.0.1")
        ),
        (
            "paperspace@127.0.0.1: Permission denied (publickey).", 255,
            .permissionDenied(account: "paperspace@127.0.0.1", identityFile: nil, port: nil)
        ),
    ]
    for (stderr, status, expected) in cases {
        #expect(classifier.classify(status: status, stderr: stderr) == expected, "\(stderr)")
    }
}

@Test func classifierFallbackKeepsLastLines() throws {
    let destination = try SSHDestination(host: "127.0.0.1", user: "paperspace")
    let classifier = RemoteErrorClassifier(destination: destination, remotePath: "/x", operation: "upload of a")
    SecretRedactor.shared.register("hunter2-secret-token")
    let stderr = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\ntoken hunter2-secret-token rejected"

    let error = classifier.classify(status: 5, stderr: stderr)

    let text = error.description
    #expect(text.hasPrefix("upload of a failed with exit status 5: "))
    #expect(text.contains("line 10"))
    #expect(!text.contains("line 4 "))
    #expect(!text.contains("hunter2-secret-token"))
    #expect(text.contains("[REDACTED]"))
}

@Test func defaultKeyPermissionMessageNamesFix() {
    let error = RemoteTransferError.permissionDenied(account: "paperspace@127.0.0.1", identityFile: nil, port: nil)
    #expect(error.description.contains("ssh-copy-id paperspace@127.0.0.1"))
}
