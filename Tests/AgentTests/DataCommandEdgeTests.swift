import Foundation
import Support
import Testing

/// Hostile file names and option values given to `nightshift checksum` and `nightshift archive`.
@Suite struct DataCommandEdgeTests {
    let scratch: String

    init() throws {
        self.scratch = NSTemporaryDirectory() + "nightshift-edge-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: self.scratch, withIntermediateDirectories: true)
    }

    @Test func checksumEscapesNamesLikeSha256sum() throws {
        let names = [
            "line\nbreak.csv", "crlf\r\nname.csv", "back\\slash.csv", "carriage\rreturn.csv", "plain name.csv",
        ]
        for name in names {
            try Data("tick\n".utf8).write(to: URL(fileURLWithPath: self.scratch + "/" + name))
        }
        defer { try? FileManager.default.removeItem(atPath: self.scratch) }

        let ours = try Subprocess.run([DaemonProcessHarness.executable, "checksum"] + names, directory: self.scratch)
        let theirs = try Subprocess.run(["sha256sum"] + names, directory: self.scratch)

        #expect(ours.status == 0)
        #expect(theirs.status == 0)
        #expect(ours.output == theirs.output)
        try ours.output.write(toFile: self.scratch + "/sums.txt", atomically: true, encoding: .utf8)
        let check = try Subprocess.run(["sha256sum", "--check", "--quiet", "sums.txt"], directory: self.scratch)
        #expect(check.status == 0, "\(check.output)")
    }

    @Test(arguments: [".", "..", ""])
    func archiveRejectsDirectoryAsOutputName(name: String) throws {
        let features = self.scratch + "/workspace/prepared/features"
        try FileManager.default.createDirectory(atPath: features, withIntermediateDirectories: true)
        for split in ["train", "val", "test"] {
            try Data("t,a\n1,2\n".utf8).write(to: URL(fileURLWithPath: features + "/gold_\(split).csv"))
        }
        defer { try? FileManager.default.removeItem(atPath: self.scratch) }

        let result = try Subprocess.run(
            [DaemonProcessHarness.executable, "archive", "training", "--output", name],
            directory: self.scratch
        )

        #expect(result.status == 64, "\(result.output)")
        #expect(result.output.contains("invalid --output"))
        let left = try FileManager.default.contentsOfDirectory(atPath: self.scratch)
        #expect(left == ["workspace"])
    }
}

/// The top-level help names every exit code the commands use.
@Test func helpListsEveryExitCode() throws {
    let result = try Subprocess.run([DaemonProcessHarness.executable, "--help"])
    #expect(result.status == 0)
    for code in ["64 usage", "65 invalid", "66 missing input", "69 teardown", "73 cannot create", "75 temporary"] {
        #expect(result.output.contains(code), "help does not mention \(code)")
    }
    #expect(result.output.contains("77 permission denied"))
}
