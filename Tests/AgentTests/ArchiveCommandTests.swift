import Foundation
import Support
import Testing

/// `nightshift archive ...` and `nightshift checksum` run in a scratch workspace, read back by GNU tar.
@Suite(.serialized)
struct ArchiveCommandTests {
    let root = NSTemporaryDirectory() + "nightshift-archive-cli-\(UUID().uuidString)"

    func write(_ files: [String: String]) throws {
        try writeFiles(files, under: self.root)
    }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try FileManager.default.createDirectory(atPath: self.root, withIntermediateDirectories: true)
        return try Subprocess.run([DaemonProcessHarness.executable] + arguments, directory: self.root)
    }

    func archives(_ prefix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: self.root).filter { $0.hasPrefix(prefix) }
    }

    @Test func trainingArchiveHasTheCSVs() throws {
        defer { try? FileManager.default.removeItem(atPath: self.root) }
        try self.write([
            "workspace/prepared/features/gold_train.csv": "t\n1\n",
            "workspace/prepared/features/gold_val.csv": "t\n2\n",
            "workspace/prepared/features/gold_test.csv": "t\n3\n",
            "workspace/raw_data/cache/f.parquet": "c\n",
        ])
        let result = try self.run(["archive", "training", "--include-cache", "--jobs", "2"])
        #expect(result.status == 0, "\(result.output)")
        let name = try #require(try self.archives("training_data_").first)
        #expect(name.count == "training_data_20261204_181500.tar.gz".count)
        let listing = try Subprocess.run(["tar", "-tzf", self.root + "/" + name])
        #expect(listing.status == 0)
        let names = Set(listing.output.split(separator: "\n").map(String.init))
        #expect(names.contains("workspace/prepared/features/gold_test.csv"))
        #expect(names.contains("workspace/raw_data/cache/f.parquet"))
        let extracted = self.root + "/x"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        #expect(try Subprocess.run(["tar", "-xzf", self.root + "/" + name, "-C", extracted]).status == 0)
        #expect(
            try String(contentsOfFile: extracted + "/workspace/prepared/features/gold_val.csv", encoding: .utf8)
                == "t\n2\n"
        )
    }

    @Test func missingCSVsAreListed() throws {
        defer { try? FileManager.default.removeItem(atPath: self.root) }
        let result = try self.run(["archive", "training"])
        #expect(result.status == 66)
        #expect(result.output.contains("gold_train.csv"))
        #expect(result.output.contains("gold_val.csv"))
        #expect(result.output.contains("gold_test.csv"))
        #expect(try self.archives("training_data_").isEmpty)
    }

    @Test func ticksNeedConfirmationOffTerminal() throws {
        defer { try? FileManager.default.removeItem(atPath: self.root) }
        try self.write([
            "workspace/prepared/features/gold_train.csv": "t\n",
            "workspace/prepared/features/gold_val.csv": "t\n",
            "workspace/prepared/features/gold_test.csv": "t\n",
            "workspace/raw_data/ticks/a.csv": "0123456789",
        ])
        let rejected = try self.run(["archive", "training", "--include-ticks"])
        #expect(rejected.status == 64)
        #expect(rejected.output.contains("workspace/raw_data/ticks: 1 files, 10 B"))
        #expect(try self.archives("training_data_").isEmpty)

        let accepted = try self.run(["archive", "training", "--no-ask-ticks", "--output", "t.tar.gz"])
        #expect(accepted.status == 0, "\(accepted.output)")
        let listing = try Subprocess.run(["tar", "-tzf", self.root + "/t.tar.gz"])
        #expect(listing.output.contains("workspace/raw_data/ticks/a.csv"))
    }

    @Test func resultsArchiveSkipsMissingDirectories() throws {
        defer { try? FileManager.default.removeItem(atPath: self.root) }
        try self.write(["workspace/checkpoints/epoch-1.pt": "w\n", "workspace/logs/train.log": "ok\n"])
        let result = try self.run(["archive", "results", "--output-dir", "out", "--level", "9"])
        #expect(result.status == 73, "\(result.output)")
        #expect(result.output.contains("out"))
        try FileManager.default.createDirectory(atPath: self.root + "/out", withIntermediateDirectories: true)
        let again = try self.run(["archive", "results", "--output-dir", "out", "--level", "9"])
        #expect(again.status == 0, "\(again.output)")
        #expect(again.output.contains("skipped workspace/metrics"))
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: self.root + "/out").first)
        #expect(name.hasPrefix("results_"))
        let listing = try Subprocess.run(["tar", "-tzf", self.root + "/out/" + name])
        #expect(listing.output.contains("workspace/checkpoints/epoch-1.pt"))
        #expect(listing.output.contains("workspace/logs/train.log"))
    }

    @Test func invalidLevelIsUsageError() throws {
        defer { try? FileManager.default.removeItem(atPath: self.root) }
        let result = try self.run(["archive", "results", "--level", "12"])
        #expect(result.status == 64)
        #expect(result.output.contains("1 to 9"))
    }

    @Test func checksumMatchesSha256sum() throws {
        defer { try? FileManager.default.removeItem(atPath: self.root) }
        try self.write(["a.bin": String(repeating: "tick,", count: 300_000), "b.txt": ""])
        let ours = try self.run(["checksum", "a.bin", "b.txt"])
        let reference = try Subprocess.run(["sha256sum", "a.bin", "b.txt"], directory: self.root)
        #expect(ours.status == 0)
        #expect(ours.output == reference.output)
        let missing = try self.run(["checksum", "nope"])
        #expect(missing.status == 66)
    }
}
