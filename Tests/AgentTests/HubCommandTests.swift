import Foundation
import StandIns
import Support
import Testing

/// Runs `nightshift hub ...` as a child process in a scratch workspace against a Hub stand-in.
final class HubCommandHarness {
    let hub: HubStandIn
    let root: String
    static let token = "hf_cliTestToken4Hx8Vq2Nw6Rt"
    static let repo = "trader/gold"

    init() throws {
        self.hub = HubStandIn(tokens: [Self.token])
        try self.hub.start()
        self.root = NSTemporaryDirectory() + "nightshift-hubcli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.root + "/home", withIntermediateDirectories: true)
    }

    deinit {
        self.hub.stop()
        try? FileManager.default.removeItem(atPath: self.root)
    }

    /// Writes `files` (path relative to the workspace root, content) into the workspace.
    func write(_ files: [String: String]) throws {
        try writeFiles(files, under: self.root)
    }

    func read(_ path: String) -> String? {
        let data = try? Data(contentsOf: URL(fileURLWithPath: self.root + "/" + path))
        return data.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Runs `nightshift hub ARGUMENTS --repo-id trader/gold` in the workspace root with the stand-in's endpoint.
    func run(_ arguments: [String], token: String? = HubCommandHarness.token, input: String? = nil) throws -> (
        status: Int32, output: String
    ) {
        var environment = ProcessInfo.processInfo.environment
        environment["HF_ENDPOINT"] = self.hub.baseURL
        environment["HOME"] = self.root + "/home"
        environment["XDG_CACHE_HOME"] = self.root + "/home/.cache"
        environment["HF_HUB_DISABLE_XET"] = "1"
        environment.removeValue(forKey: "HF_TOKEN")
        environment.removeValue(forKey: "HF_HOME")
        if let token { environment["HF_TOKEN"] = token }
        return try Subprocess.run(
            [DaemonProcessHarness.executable, "hub"] + arguments + ["--repo-id", Self.repo],
            environment: environment,
            directory: self.root
        )
    }

    /// Runs `nightshift hub ARGUMENTS` as `run` does and returns its exit status and the child's peak RSS in MiB,
    /// read from VmHWM in /proc while it runs, so that other tests in this process do not count.
    func runMeasured(_ arguments: [String]) throws -> (status: Int32, peakMiB: Int) {
        var environment = ProcessInfo.processInfo.environment
        environment["HF_ENDPOINT"] = self.hub.baseURL
        environment["HOME"] = self.root + "/home"
        environment["XDG_CACHE_HOME"] = self.root + "/home/.cache"
        environment["HF_TOKEN"] = Self.token
        let process = try Subprocess(
            [DaemonProcessHarness.executable, "hub"] + arguments + ["--repo-id", Self.repo],
            environment: environment,
            directory: self.root,
            outputPath: self.root + "/measured.log"
        )
        var peakKiB = 0
        while true {
            if let text = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            {
                peakKiB = max(peakKiB, kib)
            }
            if let status = process.poll() { return (status, peakKiB / 1024) }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    var files: [String: String] {
        (self.hub.files(repo: Self.repo, type: .dataset) ?? [:]).mapValues { String(decoding: $0, as: UTF8.self) }
    }

    var commitTitles: [String] {
        self.hub.commits(repo: Self.repo, type: .dataset).map(\.title)
    }
}

private let trainingFiles = [
    "workspace/prepared/features/gold_train.csv": "t,a\n1,2\n",
    "workspace/prepared/features/gold_val.csv": "t,a\n3,4\n",
    "workspace/prepared/features/gold_test.csv": "t,a\n5,6\n",
    "workspace/prepared/scalers/scaler.json": "{\"mean\": 1}\n",
    "workspace/raw_data/cache/features.parquet": "cache\n",
    "workspace/excluded_features.txt": "rsi_14\n",
]

@Suite(.serialized)
struct HubCommandTests {
    @Test func uploadTicksIsIncremental() throws {
        let harness = try HubCommandHarness()
        try harness.write([
            "workspace/raw_data/ticks/2026-12-01.csv": "ts,bid\n1,2650.1\n",
            "workspace/raw_data/ticks/2026-12-02.csv": "ts,bid\n2,2651.3\n",
        ])
        let first = try harness.run(["upload", "ticks"])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("uploaded 2 of 2 files"))
        #expect(harness.files["ticks/2026-12-01.csv"] == "ts,bid\n1,2650.1\n")
        #expect(harness.commitTitles.first == "Upload tick data")

        let again = try harness.run(["upload", "ticks"])
        #expect(again.status == 0)
        #expect(again.output.contains("nothing to upload"))
        let commitsAfterSecond = harness.commitTitles.count

        try harness.write(["workspace/raw_data/ticks/2026-12-03.csv": "ts,bid\n3,2652.0\n"])
        let third = try harness.run(["upload", "ticks", "--commit-message", "Nightly ticks"])
        #expect(third.status == 0)
        #expect(third.output.contains("uploaded 1 of 3 files"))
        #expect(third.output.contains("2 unchanged"))
        #expect(harness.commitTitles.count == commitsAfterSecond + 1)
        #expect(harness.commitTitles.first == "Nightly ticks")
        #expect(!first.output.contains(HubCommandHarness.token))
    }

    @Test func gigabyteTransfersStayBounded() throws {
        let harness = try HubCommandHarness()
        let directory = harness.root + "/workspace/raw_data/ticks"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: directory + "/big.csv", contents: Data("ts,bid\n".utf8)))
        let handle = try #require(FileHandle(forWritingAtPath: directory + "/big.csv"))
        try handle.truncate(atOffset: 1 << 30)
        try handle.close()

        let upload = try harness.runMeasured(["upload", "ticks"])
        #expect(upload.status == 0, "\(harness.read("measured.log") ?? "")")
        let download = try harness.runMeasured(["download", "ticks", "--local-dir", "copy"])
        #expect(download.status == 0, "\(harness.read("measured.log") ?? "")")

        let attributes = try FileManager.default.attributesOfItem(atPath: harness.root + "/copy/big.csv")
        #expect((attributes[.size] as? Int64) == 1 << 30)
        // A 1 GiB file moves through bounded buffers: the peak stays a small fraction of the file.
        #expect(upload.peakMiB < 150, "upload peak RSS \(upload.peakMiB) MiB")
        #expect(download.peakMiB < 150, "download peak RSS \(download.peakMiB) MiB")
        #expect(upload.peakMiB > 0)
    }

    @Test func uploadTicksFromMissingDirectoryFails() throws {
        let harness = try HubCommandHarness()
        let result = try harness.run(["upload", "ticks", "--local-dir", "nowhere"])
        #expect(result.status == 66)
        #expect(result.output.contains("local directory nowhere does not exist"))
    }

    @Test func uploadTrainingNeedsAllCSVs() throws {
        let harness = try HubCommandHarness()
        try harness.write(["workspace/prepared/features/gold_train.csv": "t\n"])
        let result = try harness.run(["upload", "training"])
        #expect(result.status == 66)
        #expect(result.output.contains("gold_val.csv"))
        #expect(result.output.contains("gold_test.csv"))
        #expect(!result.output.contains("gold_train.csv,"))
        #expect(harness.hub.files(repo: HubCommandHarness.repo, type: .dataset) == nil)
    }

    @Test func trainingRoundTripRestoresLayout() throws {
        let harness = try HubCommandHarness()
        try harness.write(trainingFiles)
        let upload = try harness.run(["upload", "training"])
        #expect(upload.status == 0, "\(upload.output)")
        #expect(harness.commitTitles.first == "Upload training data")
        // The cache stays local unless --include-cache is given.
        let expected = Set(trainingFiles.keys).subtracting(["workspace/raw_data/cache/features.parquet"])
        #expect(Set(harness.files.keys) == expected.union([".gitattributes"]))

        let withCache = try harness.run(["upload", "training", "--include-cache", "--no-scalers"])
        #expect(withCache.status == 0)
        #expect(withCache.output.contains("uploaded 1 of 5 files"))

        let restored = harness.root + "/restored"
        let download = try harness.run(["download", "training", "--local-dir", restored])
        #expect(download.status == 0, "\(download.output)")
        for (path, text) in trainingFiles {
            #expect(harness.read("restored/" + path) == text, "\(path) after download")
        }
        let again = try harness.run(["download", "training", "--local-dir", restored])
        #expect(again.output.contains("downloaded 0 of 6 files"))
        #expect(again.output.contains("6 already up to date"))
    }

    @Test func analysisUploadTakesReportFiles() throws {
        let harness = try HubCommandHarness()
        try harness.write([
            "workspace/analysis-of-features/importance.csv": "f,score\n",
            "workspace/analysis-of-features/report.html": "<html></html>\n",
            "workspace/analysis-of-features/plots/rsi.png": "png\n",
            "workspace/analysis-of-features/scratch/notes.txt": "local only\n",
        ])
        let upload = try harness.run(["upload", "analysis"])
        #expect(upload.status == 0, "\(upload.output)")
        #expect(harness.commitTitles.first == "Upload feature analysis results")
        #expect(
            Set(harness.files.keys) == [
                ".gitattributes", "analysis-of-features/importance.csv", "analysis-of-features/report.html",
                "analysis-of-features/plots/rsi.png",
            ]
        )
        let download = try harness.run(["download", "analysis", "--local-dir", "copy"])
        #expect(download.status == 0)
        #expect(harness.read("copy/plots/rsi.png") == "png\n")
        #expect(harness.read("copy/report.html") == "<html></html>\n")
    }

    @Test func downloadTicksIntoDefaultDirectory() throws {
        let harness = try HubCommandHarness()
        harness.hub.seed(
            repo: HubCommandHarness.repo,
            type: .dataset,
            files: ["ticks/a.csv": Data("a\n".utf8), "ticks/2026/b.csv": Data("b\n".utf8), "other.txt": Data()],
            message: "seed"
        )
        let result = try harness.run(["download", "ticks"])
        #expect(result.status == 0, "\(result.output)")
        #expect(harness.read("workspace/raw_data/ticks/a.csv") == "a\n")
        #expect(harness.read("workspace/raw_data/ticks/2026/b.csv") == "b\n")
        #expect(harness.read("workspace/raw_data/ticks/other.txt") == nil)
    }

    @Test func deletesAreOneCommitEach() throws {
        let harness = try HubCommandHarness()
        var seeded = trainingFiles.mapValues { Data($0.utf8) }
        seeded["ticks/a.csv"] = Data("a\n".utf8)
        seeded["analysis-of-features/report.html"] = Data("r\n".utf8)
        harness.hub.seed(repo: HubCommandHarness.repo, type: .dataset, files: seeded, message: "seed")

        let ticks = try harness.run(["delete", "ticks"])
        #expect(ticks.status == 0, "\(ticks.output)")
        #expect(harness.commitTitles.first == "Delete tick data")
        #expect(harness.files["ticks/a.csv"] == nil)

        let training = try harness.run(["delete", "training", "--no-scalers"])
        #expect(training.status == 0)
        #expect(training.output.contains("deleted 5 files in one commit"))
        #expect(harness.files["workspace/prepared/scalers/scaler.json"] != nil)
        #expect(harness.files["workspace/excluded_features.txt"] == nil)

        let analysis = try harness.run(["delete", "analysis"])
        #expect(analysis.status == 0)
        #expect(harness.commitTitles.first == "Delete feature analysis results")

        let nothing = try harness.run(["delete", "ticks"])
        #expect(nothing.output.contains("nothing to delete"))
    }

    @Test func deleteAllNeedsConfirmation() throws {
        let harness = try HubCommandHarness()
        harness.hub.seed(
            repo: HubCommandHarness.repo,
            type: .dataset,
            files: ["ticks/a.csv": Data("a\n".utf8), "b.txt": Data("b\n".utf8)],
            message: "seed"
        )
        let rejected = try harness.run(["delete", "all"])
        #expect(rejected.status == 64)
        #expect(rejected.output.contains("pass --yes"))
        #expect(harness.files.count == 3)

        let confirmed = try harness.run(["delete", "all", "--yes"])
        #expect(confirmed.status == 0, "\(confirmed.output)")
        #expect(harness.files.keys.sorted() == [".gitattributes"])
        #expect(harness.commitTitles.first == "Delete all files")
    }

    @Test func missingAndInvalidTokens() throws {
        let harness = try HubCommandHarness()
        try harness.write(["workspace/raw_data/ticks/a.csv": "a\n"])
        let missing = try harness.run(["upload", "ticks"], token: nil)
        #expect(missing.status == 77)
        #expect(missing.output.contains("HF_TOKEN"))
        let invalid = try harness.run(["upload", "ticks"], token: "hf_wrongTokenValue123456")
        #expect(invalid.status == 77, "\(invalid.output)")
        #expect(!invalid.output.contains("hf_wrongTokenValue123456"))
    }

    @Test func tokenOptionWarnsAboutPs() throws {
        let harness = try HubCommandHarness()
        try harness.write(["workspace/raw_data/ticks/a.csv": "a\n"])
        let result = try harness.run(["upload", "ticks", "--token", HubCommandHarness.token], token: nil)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("--token on the command line was visible"))
        #expect(!result.output.contains(HubCommandHarness.token))
    }

    @Test func missingRepoIdIsUsageError() throws {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "NIGHTSHIFT_HUB_REPO")
        let result = try Subprocess.run(
            [DaemonProcessHarness.executable, "hub", "upload", "ticks"],
            environment: environment
        )
        #expect(result.status == 64)
        #expect(result.output.contains("missing --repo-id"))
    }
}
