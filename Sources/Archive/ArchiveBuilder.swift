import Foundation

/// A file, directory or symbolic link to archive: where it is on disk and the name it gets in the archive.
public struct ArchiveEntry: Sendable, Equatable {
    public var sourcePath: String
    /// A relative name. A leading `./`, repeated slashes and `.` components are dropped, and `..` is rejected.
    public var archiveName: String

    public init(sourcePath: String, archiveName: String) {
        self.sourcePath = sourcePath
        self.archiveName = archiveName
    }
}

/// The contents and cost of a finished archive.
public struct ArchiveSummary: Sendable, Equatable {
    public var outputPath: String
    public var files: Int
    public var directories: Int
    public var symbolicLinks: Int
    /// File content bytes read, without tar headers.
    public var bytesIn: Int64
    /// Size of the written tar.gz.
    public var bytesOut: Int64
    public var seconds: Double
    /// Optional sources that did not exist and were left out.
    public var skipped: [String]
}

/// Streams entries through a `TarWriter` into a `ParallelGzipWriter` in one pass, writing the result through an
/// `AtomicFile`.
///
/// Directories are walked depth first with children sorted by the bytes of their names, so the same tree always
/// gives the same member order. Symbolic links inside a walked directory are stored as links and never followed.
/// The source path of an entry itself is followed when it is a symbolic link, because a workspace often links a
/// data directory or file from another disk.
public struct ArchiveBuilder: Sendable {
    public var compressionLevel: Int
    public var workers: Int
    public var blockSize: Int
    public var ownership: TarOwnership

    public init(
        compressionLevel: Int = 6,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        blockSize: Int = ParallelGzipWriter.defaultBlockSize,
        ownership: TarOwnership = .root
    ) {
        self.compressionLevel = compressionLevel
        self.workers = workers
        self.blockSize = blockSize
        self.ownership = ownership
    }

    /// Writes `entries` to a tar.gz at `outputPath`. `progress` receives (content bytes read, total content bytes)
    /// as files are read, and may throw to stop. On any error no file exists at `outputPath` unless one did before.
    public func build(
        _ entries: [ArchiveEntry],
        to outputPath: String,
        skipped: [String] = [],
        progress: (Int64, Int64) throws -> Void = { _, _ in }
    ) throws -> ArchiveSummary {
        let started = Date()
        let items = try Self.plan(entries)
        let output = try AtomicFile(finalPath: outputPath)
        defer { output.discard() }
        let gzip = try ParallelGzipWriter(
            fileDescriptor: output.fileDescriptor,
            outputName: output.temporaryPath,
            level: self.compressionLevel,
            workers: self.workers,
            blockSize: self.blockSize
        )
        var counts: ItemCounts
        do {
            counts = try self.writeTar(items, to: gzip, progress: progress)
            try gzip.finish()
        } catch {
            gzip.cancel()
            throw error
        }
        try output.commit()
        return ArchiveSummary(
            outputPath: outputPath,
            files: counts.files,
            directories: counts.directories,
            symbolicLinks: counts.symbolicLinks,
            bytesIn: counts.bytes,
            bytesOut: gzip.bytesOut,
            seconds: Date().timeIntervalSince(started),
            skipped: skipped
        )
    }

    /// Writes the uncompressed tar stream of `entries` to `sink`, as `build` does before compression.
    public func writeTar(
        _ entries: [ArchiveEntry],
        to sink: any ArchiveByteSink,
        progress: (Int64, Int64) throws -> Void = { _, _ in }
    ) throws {
        _ = try self.writeTar(Self.plan(entries), to: sink, progress: progress)
    }

    struct ItemCounts {
        var files = 0
        var directories = 0
        var symbolicLinks = 0
        var bytes: Int64 = 0
    }

    func writeTar(
        _ items: [PlannedItem],
        to sink: any ArchiveByteSink,
        progress: (Int64, Int64) throws -> Void,
        sizeLimit: Int64 = TarHeader.maxOctal11
    ) throws -> ItemCounts {
        let total = items.reduce(Int64(0)) { sum, item in
            if case .file(let size) = item.kind { return sum + size }
            return sum
        }
        let tar = TarWriter(sink: sink, ownership: self.ownership, chunkSize: 1 << 20, sizeLimit: sizeLimit)
        var counts = ItemCounts()
        try progress(0, total)
        for item in items {
            switch item.kind {
            case .directory:
                try tar.appendDirectory(
                    name: item.name,
                    mode: item.mode,
                    mtime: item.mtime,
                    uid: item.uid,
                    gid: item.gid
                )
                counts.directories += 1
            case .symbolicLink(let target):
                try tar.appendSymbolicLink(
                    name: item.name,
                    target: target,
                    mode: item.mode,
                    mtime: item.mtime,
                    uid: item.uid,
                    gid: item.gid
                )
                counts.symbolicLinks += 1
            case .file:
                try tar.appendFile(at: item.source, name: item.name) { count in
                    counts.bytes += count
                    try progress(counts.bytes, total)
                }
                counts.files += 1
            }
        }
        try tar.finish()
        return counts
    }

    // MARK: Planning

    struct PlannedItem {
        enum Kind: Equatable {
            case file(size: Int64)
            case directory
            case symbolicLink(target: String)
        }
        var source: String
        var name: String
        var kind: Kind
        var mode: UInt32
        var mtime: Int64
        var uid: Int64
        var gid: Int64
    }

    /// Lists every member in archive order. Sizes come from this walk, and file headers use the size at open.
    static func plan(_ entries: [ArchiveEntry]) throws -> [PlannedItem] {
        var items: [PlannedItem] = []
        for entry in entries {
            let name = try Self.normalizedName(entry.archiveName)
            var info = stat()
            guard stat(entry.sourcePath, &info) == 0 else {
                throw ArchiveError.sourceNotFound(path: entry.sourcePath, errno: errno)
            }
            try Self.collect(path: entry.sourcePath, name: name, info: info, into: &items)
        }
        return items
    }

    private static func collect(path: String, name: String, info: stat, into items: inout [PlannedItem]) throws {
        let mode = UInt32(info.st_mode)
        var item = PlannedItem(
            source: path,
            name: name,
            kind: .directory,
            mode: mode,
            mtime: Int64(info.st_mtim.tv_sec),
            uid: Int64(info.st_uid),
            gid: Int64(info.st_gid)
        )
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            item.kind = .file(size: Int64(info.st_size))
            items.append(item)
        case S_IFLNK:
            item.kind = .symbolicLink(target: try Self.readLink(path))
            items.append(item)
        case S_IFDIR:
            items.append(item)
            for child in try Self.sortedChildren(of: path) {
                let childPath = path.hasSuffix("/") ? path + child : path + "/" + child
                var childInfo = stat()
                guard lstat(childPath, &childInfo) == 0 else {
                    throw ArchiveError.sourceNotFound(path: childPath, errno: errno)
                }
                try Self.collect(path: childPath, name: name + "/" + child, info: childInfo, into: &items)
            }
        default:
            throw ArchiveError.unsupportedFileType(path: path)
        }
    }

    private static func sortedChildren(of path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw ArchiveError.readFailed(path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        // NOTE: names are decoded as UTF-8, so a file whose name is not valid UTF-8 fails with sourceNotFound.
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }.map { String(decoding: $0, as: UTF8.self) }
    }

    private static func readLink(_ path: String) throws -> String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count)
        guard count >= 0 else { throw ArchiveError.readFailed(path: path, errno: errno) }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// Returns `name` without a leading `./`, empty or `.` components and a trailing slash, or throws when it is
    /// empty, absolute or contains `..`.
    static func normalizedName(_ name: String) throws -> String {
        guard !name.hasPrefix("/") else { throw ArchiveError.invalidArchiveName(name) }
        let components = name.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !components.isEmpty, !components.contains("..") else { throw ArchiveError.invalidArchiveName(name) }
        return components.joined(separator: "/")
    }
}
