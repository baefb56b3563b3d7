import Foundation
import Support
import Testing

@testable import Archive

@Suite struct WorkspaceArchiveTests {
    private func writeCSVs(_ root: TemporaryDirectory) throws {
        for (index, path) in WorkspaceLayout.trainingCSVs.enumerated() {
            try root.write(path, sampleText(count: 50_000, seed: UInt64(index + 1)))
        }
    }

    @Test func missingCSVsAllListed() throws {
        let root = try TemporaryDirectory()
        try root.makeDirectory("out")
        let options = TrainingArchiveOptions(workspaceRoot: root.path, outputDirectory: root.url("out"))
        let expected = WorkspaceLayout.trainingCSVs.map { root.url($0) }
        #expect(throws: ArchiveError.missingTrainingData(paths: expected)) {
            _ = try TrainingArchive.build(options)
        }
        let message = ArchiveError.missingTrainingData(paths: expected).description
        for path in expected {
            #expect(message.contains(path))
        }
        #expect(message.contains("feature preparation"))
        #expect(try root.listing("out") == [])
    }

    @Test func oneMissingCSVListedAlone() throws {
        let root = try TemporaryDirectory()
        try self.writeCSVs(root)
        unlink(root.url(WorkspaceLayout.trainingCSVs[1]))
        #expect(TrainingArchive.missingCSVs(workspaceRoot: root.path) == [root.url(WorkspaceLayout.trainingCSVs[1])])
    }

    @Test func trainingArchiveKeepsWorkspacePaths() throws {
        let root = try TemporaryDirectory()
        try self.writeCSVs(root)
        try root.write(WorkspaceLayout.ticksDirectory + "/2026/ticks_01.csv", sampleText(count: 10_000))
        try root.write(WorkspaceLayout.cacheDirectory + "/features.parquet", [1, 2, 3])
        try root.makeDirectory("out")

        let plain = try TrainingArchive.build(
            TrainingArchiveOptions(workspaceRoot: root.path, outputDirectory: root.url("out"), fileName: "a.tar.gz")
        )
        #expect(plain.files == 3)
        #expect(plain.skipped == [])
        #expect(try pythonMembers(root.url("out/a.tar.gz")).map(\.name) == WorkspaceLayout.trainingCSVs)

        let full = try TrainingArchive.build(
            TrainingArchiveOptions(
                workspaceRoot: root.path,
                outputDirectory: root.url("out"),
                fileName: "b.tar.gz",
                includeTicks: true,
                includeCache: true,
                workers: 1
            )
        )
        #expect(full.files == 5)
        let names = try pythonMembers(root.url("out/b.tar.gz")).map(\.name)
        #expect(names.contains("workspace/raw_data/ticks/2026/ticks_01.csv"))
        #expect(names.contains("workspace/raw_data/cache/features.parquet"))

        try root.makeDirectory("restore")
        let extract = try shell(
            "tar -xzf \(shellQuote(root.url("out/b.tar.gz"))) -C \(shellQuote(root.url("restore")))"
        )
        #expect(extract.status == 0, "\(extract.output)")
        for path in WorkspaceLayout.trainingCSVs {
            let original = try Data(contentsOf: URL(fileURLWithPath: root.url(path)))
            let restored = try Data(contentsOf: URL(fileURLWithPath: root.url("restore/" + path)))
            #expect(original == restored, "\(path)")
        }
    }

    @Test func absentOptionalDirectorySkipped() throws {
        let root = try TemporaryDirectory()
        try self.writeCSVs(root)
        let summary = try TrainingArchive.build(
            TrainingArchiveOptions(workspaceRoot: root.path, outputDirectory: root.path, includeTicks: true)
        )
        #expect(summary.skipped == [WorkspaceLayout.ticksDirectory])
        #expect(summary.files == 3)
        let name = URL(fileURLWithPath: summary.outputPath).lastPathComponent
        #expect(name.hasPrefix("training_data_"))
    }

    @Test func ticksSizeCountsFiles() throws {
        let root = try TemporaryDirectory()
        #expect(try TrainingArchive.ticksSize(workspaceRoot: root.path) == DirectorySize(files: 0, bytes: 0))
        try root.write(WorkspaceLayout.ticksDirectory + "/a.csv", [UInt8](repeating: 65, count: 1000))
        try root.write(WorkspaceLayout.ticksDirectory + "/2026/b.csv", [UInt8](repeating: 66, count: 234))
        #expect(try TrainingArchive.ticksSize(workspaceRoot: root.path) == DirectorySize(files: 2, bytes: 1234))
    }

    @Test func defaultNamesUseLocalTimestamp() throws {
        let date = Date(timeIntervalSince1970: 1_793_714_400)  // 2026-11-03 14:00:00 UTC
        let utc = TimeZone(identifier: "UTC")!
        let tokyo = TimeZone(identifier: "Asia/Tokyo")!
        #expect(TrainingArchive.defaultFileName(date: date, timeZone: utc) == "training_data_20261103_140000.tar.gz")
        #expect(ResultsArchive.defaultFileName(date: date, timeZone: tokyo) == "results_20261103_230000.tar.gz")
    }

    @Test func resultsSkipsAbsentDirectories() throws {
        let root = try TemporaryDirectory()
        try root.write("workspace/checkpoints/best.pt", sampleText(count: 20_000))
        try root.write("workspace/logs/train.log", Array("epoch 1\n".utf8))
        let summary = try ResultsArchive.build(
            ResultsArchiveOptions(workspaceRoot: root.path, outputDirectory: root.path, fileName: "r.tar.gz")
        )
        #expect(summary.skipped == ["workspace/metrics", "workspace/prepared/scalers"])
        #expect(summary.files == 2)
        let names = try pythonMembers(root.url("r.tar.gz")).map(\.name)
        #expect(
            names == [
                "workspace/checkpoints", "workspace/checkpoints/best.pt", "workspace/logs", "workspace/logs/train.log",
            ]
        )
    }

    @Test func emptyResultsAreAnError() throws {
        let root = try TemporaryDirectory()
        try root.makeDirectory("workspace/metrics")
        let checked = WorkspaceLayout.resultDirectories.map { root.url($0) }
        #expect(throws: ArchiveError.nothingToArchive(checked: checked)) {
            _ = try ResultsArchive.build(ResultsArchiveOptions(workspaceRoot: root.path, outputDirectory: root.path))
        }
        #expect(try root.listing() == ["workspace"])
    }
}
