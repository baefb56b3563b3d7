import Foundation
import Support
import Testing

/// The `nightshift` executable built next to the test bundle by `swift build --build-tests`.
private var executable: String {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidate = directory.appendingPathComponent("nightshift").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    return FileManager.default.currentDirectoryPath + "/.build/debug/nightshift"
}

/// Writes the three training CSVs and a ticks directory under `root/workspace`.
private func writeWorkspace(_ root: String) throws {
    let files = [
        "workspace/prepared/features/gold_train.csv": "t,a\n1,2\n",
        "workspace/prepared/features/gold_val.csv": "t,a\n3,4\n",
        "workspace/prepared/features/gold_test.csv": "t,a\n5,6\n",
        "workspace/raw_data/ticks/2026-12-01.csv": "ts,bid\n1,2650.1\n",
    ]
    for (path, text) in files {
        let full = root + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }
}

/// `nightshift ssh ...` as a user runs it, against the suite's sshd on 127.0.0.1.
@Suite(.sshServer, .serialized)
struct SSHCommandTests {
    func run(_ arguments: [String], server: SSHServerFixture, directory: String) throws -> (
        status: Int32, output: String
    ) {
        let connection = [
            "--host", "127.0.0.1", "--user", "root", "--port", "\(server.port)", "--identity", server.userKey,
            "--known-hosts", server.knownHostsFile, "--ssh-config", "/dev/null",
        ]
        return try Subprocess.run([executable, "ssh"] + arguments + connection, directory: directory)
    }

    @Test func uploadTrainingCopiesArchive() throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("workspace")
        let remote = try server.makeDirectory("storage")
        try writeWorkspace(local)

        let result = try self.run(["upload-training", "--path", remote + "/"], server: server, directory: local)

        #expect(result.status == 0, "\(result.output)")
        let copied = try FileManager.default.contentsOfDirectory(atPath: remote)
        #expect(copied.count == 1)
        let name = try #require(copied.first)
        #expect(name.hasPrefix("training_data_"))
        #expect(name.hasSuffix(".tar.gz"))
        let listing = try Subprocess.run(["tar", "-tzf", remote + "/" + name])
        #expect(listing.status == 0)
        #expect(listing.output.contains("workspace/prepared/features/gold_val.csv"))
        #expect(!listing.output.contains("ticks"))
        // Without --keep-archive nothing stays behind locally.
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: local)).contains { $0.hasSuffix(".tar.gz") })
    }

    @Test func uploadWithTicksNeedsConfirmationOffTerminal() throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("workspace")
        let remote = try server.makeDirectory("storage")
        try writeWorkspace(local)

        let rejected = try self.run(
            ["upload-training", "--path", remote + "/", "--include-ticks"],
            server: server,
            directory: local
        )
        #expect(rejected.status == 64)
        #expect(rejected.output.contains("1 files"))
        #expect(rejected.output.contains("--no-ask-ticks"))

        let accepted = try self.run(
            ["upload-training", "--path", remote + "/", "--no-ask-ticks", "--method", "scp", "--keep-archive"],
            server: server,
            directory: local
        )
        #expect(accepted.status == 0, "\(accepted.output)")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: remote).first)
        let listing = try Subprocess.run(["tar", "-tzf", remote + "/" + name])
        #expect(listing.output.contains("workspace/raw_data/ticks/2026-12-01.csv"))
        #expect((try FileManager.default.contentsOfDirectory(atPath: local)).contains(name))
    }

    @Test func downloadResultsTakesNewest() throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("storage")
        let local = try server.makeDirectory("local")
        try Data("old".utf8).write(to: URL(fileURLWithPath: remote + "/results_20261201_010000.tar.gz"))
        try Data("new".utf8).write(to: URL(fileURLWithPath: remote + "/results_20261202_010000.tar.gz"))
        try Data("other".utf8).write(to: URL(fileURLWithPath: remote + "/notes.txt"))
        let older = Date(timeIntervalSinceNow: -3600)
        try FileManager.default.setAttributes(
            [.modificationDate: older],
            ofItemAtPath: remote + "/results_20261201_010000.tar.gz"
        )

        let result = try self.run(["download-results", "--path", remote], server: server, directory: local)

        #expect(result.status == 0, "\(result.output)")
        #expect(try String(contentsOfFile: local + "/results_20261202_010000.tar.gz", encoding: .utf8) == "new")
        #expect(!FileManager.default.fileExists(atPath: local + "/results_20261201_010000.tar.gz"))

        let empty = try server.makeDirectory("empty")
        let none = try self.run(["download-results", "--path", empty], server: server, directory: local)
        #expect(none.status == 66)
        #expect(none.output.contains("no results_*.tar.gz"))
    }

    @Test func listShowsFiles() throws {
        let server = try sharedServer()
        let remote = try server.makeDirectory("storage")
        try Data(count: 2048).write(to: URL(fileURLWithPath: remote + "/model.bin"))
        try FileManager.default.createDirectory(atPath: remote + "/runs", withIntermediateDirectories: true)

        let result = try self.run(["list", "--path", remote], server: server, directory: remote)

        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("2.0 KiB"))
        #expect(result.output.contains("model.bin"))
        #expect(result.output.contains("runs/"))
    }

    @Test func wrongKeyNamesTheFix() throws {
        let server = try sharedServer()
        let local = try server.makeDirectory("keys")
        try SSHServerFixture.generateKey(local + "/other_ed25519")
        let result = try Subprocess.run(
            [
                executable, "ssh", "list", "--host", "127.0.0.1", "--user", "root", "--port", "\(server.port)",
                "--identity", local + "/other_ed25519", "--known-hosts", server.knownHostsFile,
                "--ssh-config", "/dev/null",
            ]
        )
        #expect(result.status == 77, "\(result.output)")
        #expect(result.output.contains("ssh-copy-id"))
    }

    @Test func hostStartingWithDashIsRejected() throws {
        let marker = NSTemporaryDirectory() + "nightshift-injected-\(UUID().uuidString)"
        let result = try Subprocess.run([executable, "ssh", "list", "--host", "-oProxyCommand=touch \(marker)"])
        #expect(result.status == 64)
        #expect(result.output.contains("begins with -"))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }
}
