import Foundation
import Support
import Testing

@testable import Remote

/// File names that a shell, scp's SFTP globbing or rsync's argument handling would misread if they were not
/// quoted or escaped. The `$(...)` and backquote names create a marker file in the remote home if they ever run.
/// Each is passed on its own as an scp or rsync operand.
let hostileNames = [
    "two words;it's \"q\".tar",
    "$(touch nightshift-injected-dollar)",
    "`touch nightshift-injected-backquote`",
    "-leading-dash.tar",
    "line\nbreak\ttab.tar",
    "star*glob.tar",
    "question?[bracket].tar",
    "back\\slash.tar",
    "colon:name|pipe>redirect.tar",
]

/// More awkward names, checked inside a directory that is copied as a whole.
let awkwardNames = [
    "semi;colon && echo hi",
    "brace{a,b}.tar",
    "ümlaut ☃.tar",
    "~tilde.tar",
    "trailing space ",
]

/// Returns the home directory of root, where the remote login shell starts and an injected command would write.
private func rootHome() -> String {
    guard let entry = getpwnam("root"), let home = entry.pointee.pw_dir else { return "/root" }
    return String(cString: home)
}

@Suite(.sshServer)
struct HostileNameTests {
    @Test(arguments: TransferMethod.allCases)
    func hostileNamesRoundTrip(method: TransferMethod) throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local")
        let back = try server.makeDirectory("back")
        // The remote directory is hostile too, so the mkdir over ssh and the listing see it.
        let remote = try server.makeDirectory("remote") + "/-dir $(id) ;'x"
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        var contents: [String: Data] = [:]
        for name in hostileNames {
            let data = try writeRandomFile(local + "/" + name, count: 100 + contents.count)
            contents[name] = data
            try transfer.upload(localFile: local + "/" + name, to: remote + "/", method: method)
            let uploaded = try Data(contentsOf: URL(fileURLWithPath: remote + "/" + name))
            #expect(uploaded == data, "upload of \(String(reflecting: name))")
        }
        // Decoys that a wildcard in the names above would also match.
        try writeRandomFile(remote + "/starXglob.tar", count: 5)
        try writeRandomFile(remote + "/questionXb.tar", count: 5)

        for name in hostileNames {
            let target = back + "/" + method.rawValue
            try transfer.download(remotePath: remote + "/" + name, toDirectory: target, method: method)
            let downloaded = try Data(contentsOf: URL(fileURLWithPath: target + "/" + name))
            #expect(downloaded == contents[name], "download of \(String(reflecting: name))")
        }
        let fetched = try FileManager.default.contentsOfDirectory(atPath: back + "/" + method.rawValue)
        #expect(Set(fetched) == Set(hostileNames), "only the named files were downloaded")

        let listed = try transfer.list(remotePath: remote).map(\.name)
        #expect(listed == (hostileNames + ["starXglob.tar", "questionXb.tar"]).sorted())

        for marker in ["nightshift-injected-dollar", "nightshift-injected-backquote"] {
            #expect(!FileManager.default.fileExists(atPath: rootHome() + "/" + marker))
            #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/" + marker))
        }
    }

    @Test(arguments: TransferMethod.allCases)
    func awkwardNamesInsideDirectory(method: TransferMethod) throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local") + "/tree $(x)"
        let remote = try server.makeDirectory("remote")
        let back = try server.makeDirectory("back")
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        var contents: [String: Data] = [:]
        for name in awkwardNames + hostileNames {
            contents[name] = try writeRandomFile(local + "/" + name, count: 10 + contents.count)
        }
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        try transfer.upload(localFile: local, to: remote + "/", method: method)
        try transfer.download(remotePath: remote + "/tree $(x)", toDirectory: back, method: method)

        let fetched = try FileManager.default.contentsOfDirectory(atPath: back + "/tree $(x)")
        #expect(Set(fetched) == Set(contents.keys))
        for (name, data) in contents {
            let copy = try Data(contentsOf: URL(fileURLWithPath: back + "/tree $(x)/" + name))
            #expect(copy == data, "round trip of \(String(reflecting: name))")
        }
    }

    @Test(arguments: [RemoteListing.Mode.automatic, .portable])
    func portableListingKeepsHostileNames(mode: RemoteListing.Mode) throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("remote")
        for name in hostileNames + awkwardNames {
            try writeRandomFile(remote + "/" + name, count: 1)
        }
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        let entries = try transfer.list(remotePath: remote, mode: mode)

        #expect(entries.map(\.name) == (hostileNames + awkwardNames).sorted())
        #expect(entries.allSatisfy { $0.size == 1 })
        #expect(entries.allSatisfy { $0.kind == .file })
    }

    @Test func rsyncRejectsBackslashWithWildcard() throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("local")
        let transfer = RemoteTransfer(destination: try server.destination(), logger: Logger(label: "t", sink: .discard))

        let error = try #require(throws: RemoteTransferError.self) {
            try transfer.download(remotePath: "/tmp/a\\*b", toDirectory: local, method: .rsync)
        }

        #expect(error.description.contains("use scp"))
    }

    @Test func identityPathWithQuotesWorksForRsync() throws {
        let server = try sharedServer()
        let keys = try server.makeDirectory("key dir 'quoted'")
        let key = keys + "/it's \"my\" key"
        try FileManager.default.copyItem(atPath: server.userKey, toPath: key)
        let local = try server.makeDirectory("local")
        let remote = try server.makeDirectory("remote")
        let sent = try writeRandomFile(local + "/a.bin", count: 999)
        let transfer = RemoteTransfer(
            destination: try server.destination(identityFile: key),
            logger: Logger(label: "t", sink: .discard)
        )

        try transfer.upload(localFile: local + "/a.bin", to: remote + "/", method: .rsync)

        #expect(try Data(contentsOf: URL(fileURLWithPath: remote + "/a.bin")) == sent)
    }
}
