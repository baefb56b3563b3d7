import Foundation
import Support

/// Settings of a training-data archive. Paths in `WorkspaceLayout` are relative to `workspaceRoot`.
public struct TrainingArchiveOptions: Sendable {
    /// The directory that contains `workspace/`.
    public var workspaceRoot: String
    /// The directory the archive is written to. It must exist.
    public var outputDirectory: String
    /// The archive file name, or nil for `training_data_YYYYMMDD_HHMMSS.tar.gz` in local time.
    public var fileName: String?
    /// Adds `workspace/raw_data/ticks`, which can be tens of GB. `TrainingArchive.ticksSize` measures it first.
    public var includeTicks: Bool
    /// Adds the feature cache `workspace/raw_data/cache`.
    public var includeCache: Bool
    public var compressionLevel: Int
    public var workers: Int

    public init(
        workspaceRoot: String = ".",
        outputDirectory: String = ".",
        fileName: String? = nil,
        includeTicks: Bool = false,
        includeCache: Bool = false,
        compressionLevel: Int = 6,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.workspaceRoot = workspaceRoot
        self.outputDirectory = outputDirectory
        self.fileName = fileName
        self.includeTicks = includeTicks
        self.includeCache = includeCache
        self.compressionLevel = compressionLevel
        self.workers = workers
    }
}

/// The number and total size of the regular files under a directory.
public struct DirectorySize: Sendable, Equatable {
    public var files: Int
    public var bytes: Int64
}

/// The training-data archive: the three prepared CSVs, and optionally the raw ticks and the feature cache.
public enum TrainingArchive {
    /// Builds the archive and returns its summary. Throws `ArchiveError.missingTrainingData` listing every
    /// missing CSV before anything is written. An optional directory that is requested but absent is skipped and
    /// listed in the summary.
    public static func build(
        _ options: TrainingArchiveOptions,
        progress: (Int64, Int64) throws -> Void = { _, _ in }
    ) throws -> ArchiveSummary {
        let missing = Self.missingCSVs(workspaceRoot: options.workspaceRoot)
        guard missing.isEmpty else { throw ArchiveError.missingTrainingData(paths: missing) }
        try ArchivePaths.requireDirectory(options.outputDirectory)

        var relativePaths = WorkspaceLayout.trainingCSVs
        var skipped: [String] = []
        let optional = [
            (options.includeTicks, WorkspaceLayout.ticksDirectory),
            (options.includeCache, WorkspaceLayout.cacheDirectory),
        ]
        for (included, path) in optional where included {
            if ArchivePaths.exists(ArchivePaths.join(options.workspaceRoot, path)) {
                relativePaths.append(path)
            } else {
                skipped.append(path)
            }
        }

        let entries = relativePaths.map {
            ArchiveEntry(sourcePath: ArchivePaths.join(options.workspaceRoot, $0), archiveName: $0)
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

    /// Returns `training_data_YYYYMMDD_HHMMSS.tar.gz` for `date` in `timeZone`.
    public static func defaultFileName(date: Date, timeZone: TimeZone = .current) -> String {
        ArchivePaths.timestampedName(prefix: "training_data", date: date, timeZone: timeZone)
    }

    /// Returns the full paths of the training CSVs that do not exist as regular files (or links to them).
    public static func missingCSVs(workspaceRoot: String) -> [String] {
        WorkspaceLayout.trainingCSVs
            .map { ArchivePaths.join(workspaceRoot, $0) }
            .filter { !ArchivePaths.isRegularFile($0) }
    }

    /// Counts the files under the ticks directory, so a caller can ask before archiving them. A missing
    /// directory counts as empty.
    public static func ticksSize(workspaceRoot: String) throws -> DirectorySize {
        let path = ArchivePaths.join(workspaceRoot, WorkspaceLayout.ticksDirectory)
        guard ArchivePaths.exists(path) else { return DirectorySize(files: 0, bytes: 0) }
        let items = try ArchiveBuilder.plan([ArchiveEntry(sourcePath: path, archiveName: "ticks")])
        var size = DirectorySize(files: 0, bytes: 0)
        for item in items {
            if case .file(let bytes) = item.kind {
                size.files += 1
                size.bytes += bytes
            }
        }
        return size
    }
}
