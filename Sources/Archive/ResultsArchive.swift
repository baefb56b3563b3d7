import Foundation
import Support

/// Settings of a training-results archive. Paths in `WorkspaceLayout` are relative to `workspaceRoot`.
public struct ResultsArchiveOptions: Sendable {
    /// The directory that contains `workspace/`.
    public var workspaceRoot: String
    /// The directory the archive is written to. It must exist.
    public var outputDirectory: String
    /// The archive file name, or nil for `results_YYYYMMDD_HHMMSS.tar.gz` in local time.
    public var fileName: String?
    public var compressionLevel: Int
    public var workers: Int

    public init(
        workspaceRoot: String = ".",
        outputDirectory: String = ".",
        fileName: String? = nil,
        compressionLevel: Int = 6,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.workspaceRoot = workspaceRoot
        self.outputDirectory = outputDirectory
        self.fileName = fileName
        self.compressionLevel = compressionLevel
        self.workers = workers
    }
}

/// The training-results archive: checkpoints, metrics, scalers and logs (`WorkspaceLayout.resultDirectories`).
public enum ResultsArchive {
    /// Builds the archive from the result directories that exist and lists the others in `summary.skipped`.
    /// Throws `ArchiveError.nothingToArchive` when none exists or none contains a regular file.
    public static func build(
        _ options: ResultsArchiveOptions,
        progress: (Int64, Int64) throws -> Void = { _, _ in }
    ) throws -> ArchiveSummary {
        try ArchivePaths.requireDirectory(options.outputDirectory)
        var entries: [ArchiveEntry] = []
        var skipped: [String] = []
        for path in WorkspaceLayout.resultDirectories {
            let source = ArchivePaths.join(options.workspaceRoot, path)
            if ArchivePaths.exists(source) {
                entries.append(ArchiveEntry(sourcePath: source, archiveName: path))
            } else {
                skipped.append(path)
            }
        }

        let items = try ArchiveBuilder.plan(entries)
        let hasFile = items.contains { item in
            if case .file = item.kind { return true }
            return false
        }
        guard hasFile else {
            let checked = WorkspaceLayout.resultDirectories.map { ArchivePaths.join(options.workspaceRoot, $0) }
            throw ArchiveError.nothingToArchive(checked: checked)
        }

        let fileName = options.fileName ?? Self.defaultFileName(date: Date())
        let builder = ArchiveBuilder(compressionLevel: options.compressionLevel, workers: options.workers)
        return try builder.build(
            entries,
            to: ArchivePaths.join(options.outputDirectory, fileName),
            skipped: skipped,
            progress: progress
        )
    }

    /// Returns `results_YYYYMMDD_HHMMSS.tar.gz` for `date` in `timeZone`.
    public static func defaultFileName(date: Date, timeZone: TimeZone = .current) -> String {
        ArchivePaths.timestampedName(prefix: "results", date: date, timeZone: timeZone)
    }
}
