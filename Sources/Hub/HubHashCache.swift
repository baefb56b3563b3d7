import Foundation
import Support

/// The content ids of one local file, with the file identity they were computed for.
struct HubFileHashes: Codable, Equatable {
    var size: Int64
    var modificationNanoseconds: Int64
    var inode: UInt64
    var sha256: String
    /// The Git blob SHA-1 (`blob <size>\0` + content); computed only for files small enough to go inline.
    var gitSHA1: String?
}

/// A small persistent cache of file hashes, so that unchanged multi-gigabyte files are not read again every night.
///
/// An entry is keyed by absolute path and is valid only while size, modification time (nanoseconds) and inode
/// are unchanged. Those change whenever a file is rewritten or replaced, so a stale hash is not reused in
/// practice. NOTE: a rewrite that keeps size and modification time to the nanosecond (for example `touch -r`
/// after editing in place) would go unnoticed. The cache is one JSON file, `hub-hashes.json`, in the caller's
/// directory, written atomically; a missing or corrupt file only costs the time to hash again.
final class HubHashCache: @unchecked Sendable {
    private let file: String?
    private let entries: Protected<[String: HubFileHashes]>
    private let changed = Protected(false)
    /// Files hashed in this process, for tests and logs.
    let hashedCount = Protected(0)

    static let fileName = "hub-hashes.json"
    /// Entries beyond this count are dropped, oldest path order first, so the file stays small.
    static let maxEntries = 200_000

    init(directory: String?) {
        self.file = directory.map { $0 + "/" + HubHashCache.fileName }
        var loaded: [String: HubFileHashes] = [:]
        if let file = self.file, let data = FileManager.default.contents(atPath: file) {
            loaded = (try? JSONDecoder().decode([String: HubFileHashes].self, from: data)) ?? [:]
        }
        self.entries = Protected(loaded)
    }

    /// Returns the hashes of `path`, from the cache when its identity is unchanged, else by reading it once.
    /// The Git SHA-1 is computed when `needsGitSHA1` is set or the file is at most `HubClient.maxInlineFileSize`.
    func hashes(of path: String, needsGitSHA1: Bool = false, operation: String) throws -> HubFileHashes {
        let identity = try Self.identity(of: path, operation: operation)
        if let cached = self.entries.withLock({ $0[path] }), cached.size == identity.size,
            cached.modificationNanoseconds == identity.modificationNanoseconds, cached.inode == identity.inode,
            cached.gitSHA1 != nil || !(needsGitSHA1 || identity.size <= HubClient.maxInlineFileSize)
        {
            return cached
        }
        let wantsSHA1 = needsGitSHA1 || identity.size <= HubClient.maxInlineFileSize
        var hashes = try Self.compute(path: path, size: identity.size, gitSHA1: wantsSHA1, operation: operation)
        hashes.modificationNanoseconds = identity.modificationNanoseconds
        hashes.inode = identity.inode
        self.hashedCount.withLock { $0 += 1 }
        self.store(path, hashes)
        return hashes
    }

    /// Records hashes already known, for example of a file just downloaded and verified.
    func record(_ path: String, sha256: String, gitSHA1: String?, operation: String) {
        guard let identity = try? Self.identity(of: path, operation: operation) else { return }
        let hashes = HubFileHashes(
            size: identity.size,
            modificationNanoseconds: identity.modificationNanoseconds,
            inode: identity.inode,
            sha256: sha256,
            gitSHA1: gitSHA1
        )
        self.store(path, hashes)
    }

    private func store(_ path: String, _ hashes: HubFileHashes) {
        self.entries.withLock { $0[path] = hashes }
        self.changed.withLock { $0 = true }
    }

    /// Writes the cache when it changed; a failure is ignored, since the cache only saves time.
    func save() {
        guard let file = self.file, self.changed.current else { return }
        var entries = self.entries.current
        if entries.count > Self.maxEntries {
            for key in entries.keys.sorted().prefix(entries.count - Self.maxEntries) {
                entries[key] = nil
            }
        }
        guard let data = try? JSONEncoder().encode(entries) else { return }
        let directory = (file as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: file), options: .atomic)
        self.changed.withLock { $0 = false }
    }

    static func identity(of path: String, operation: String) throws -> HubFileHashes {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw HubError.localFile(operation: operation, path: path, detail: String(cString: strerror(errno)))
        }
        let nanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        return HubFileHashes(
            size: Int64(info.st_size),
            modificationNanoseconds: nanoseconds,
            inode: UInt64(info.st_ino),
            sha256: "",
            gitSHA1: nil
        )
    }

    /// Reads `path` once in 1 MiB chunks and returns its SHA-256 and, when asked, its Git blob SHA-1.
    static func compute(path: String, size: Int64, gitSHA1: Bool, operation: String) throws -> HubFileHashes {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw HubError.localFile(operation: operation, path: path, detail: "cannot be opened for reading")
        }
        defer { try? input.close() }
        var sha256 = SHA256Hasher()
        var sha1 = SHA1Hasher()
        if gitSHA1 {
            sha1.update(Data("blob \(size)\u{0}".utf8))
        }
        var total: Int64 = 0
        while true {
            let chunk: Data
            do {
                chunk = try input.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw HubError.localFile(operation: operation, path: path, detail: "read failed: \(error)")
            }
            if chunk.isEmpty { break }
            total += Int64(chunk.count)
            sha256.update(chunk)
            if gitSHA1 {
                sha1.update(chunk)
            }
        }
        guard total == size else {
            throw HubError.localFile(
                operation: operation,
                path: path,
                detail: "changed while it was read (\(total) bytes, expected \(size))"
            )
        }
        return HubFileHashes(
            size: size,
            modificationNanoseconds: 0,
            inode: 0,
            sha256: sha256.finalize().hexString,
            gitSHA1: gitSHA1 ? sha1.finalize().hexString : nil
        )
    }
}
