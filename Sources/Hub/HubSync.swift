import Foundation
import HTTP
import Support

/// A local file and the path it has in the repo.
public struct HubLocalFile: Sendable, Equatable {
    public var localPath: String
    public var repoPath: String

    public init(localPath: String, repoPath: String) {
        self.localPath = localPath
        self.repoPath = repoPath
    }
}

/// A request for `HubSync.upload`: the repo, the files with their repo paths, and the commit message.
public struct HubUploadRequest: Sendable {
    public var repo: String
    public var type: HubRepoType
    /// The branch committed to.
    public var revision: String
    public var files: [HubLocalFile]
    public var message: String
    /// Repo paths deleted in the same commit; a path ending in `/` deletes the folder.
    public var deletions: [String]
    /// Whether a missing repo is created first (private when `isPrivate`).
    public var createsRepo: Bool
    public var isPrivate: Bool
    public var progress: ProgressMeter?
    public var cancel: Signal?

    public init(
        repo: String,
        type: HubRepoType = .dataset,
        revision: String = "main",
        files: [HubLocalFile],
        message: String,
        deletions: [String] = [],
        createsRepo: Bool = true,
        isPrivate: Bool = true,
        progress: ProgressMeter? = nil,
        cancel: Signal? = nil
    ) {
        self.repo = repo
        self.type = type
        self.revision = revision
        self.files = files
        self.message = message
        self.deletions = deletions
        self.createsRepo = createsRepo
        self.isPrivate = isPrivate
        self.progress = progress
        self.cancel = cancel
    }
}

/// The outcome of `HubSync.upload`.
public struct HubUploadReport: Sendable, Equatable {
    public var filesConsidered = 0
    /// Files whose content equals the remote copy, so they were not sent.
    public var unchanged = 0
    /// Files the repo's `.gitignore` excludes.
    public var ignored = 0
    public var uploaded = 0
    /// Content bytes sent: LFS objects plus inline files, without protocol overhead.
    public var bytesSent: Int64 = 0
    public var deleted = 0
    /// The commits made, oldest first; empty when there was nothing to do.
    public var commits: [String] = []

    public var nothingToDo: Bool { self.commits.isEmpty }
}

/// Incremental, resumable transfers between local files and a Hub repo: the API the CLI and the daemon call.
///
/// Uploads compare each file with the remote copy through preupload and send only what changed, LFS objects
/// first and then as few atomic commits as the limits below allow, each based on the previous head with
/// `parentCommit`. Downloads pin one commit, skip files whose content already matches and resume partial files.
/// File hashes are cached in `cacheDirectory` (see `HubHashCache`), by default `$XDG_CACHE_HOME/nightshift` or
/// `~/.cache/nightshift`.
public struct HubSync: Sendable {
    public let client: HubClient
    public let cacheDirectory: String?

    /// The maximum operations per commit: the largest commit size the official client's upload pipeline uses
    /// (1000, in `huggingface_hub` 2.4.0), well under the 25k LFS files a single commit was seen to take.
    public static let maxOperationsPerCommit = 1000
    /// The maximum inline (regular file) bytes per commit: 100 MiB, the cap of the official upload pipeline,
    /// because inline content travels base64-encoded in the commit body.
    public static let maxInlineBytesPerCommit: Int64 = 100 * 1024 * 1024
    /// The suffix of a download in progress; the file takes its final name only after it was verified.
    public static let partialSuffix = ".nightshift-partial"

    public init(client: HubClient, cacheDirectory: String? = nil) {
        self.client = client
        self.cacheDirectory =
            cacheDirectory
            ?? HubSync.defaultCacheDirectory(
                environment: ProcessInfo.processInfo.environment
            )
    }

    /// Returns `$XDG_CACHE_HOME/nightshift`, else `~/.cache/nightshift`.
    public static func defaultCacheDirectory(environment: [String: String]) -> String {
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty {
            return cache + "/nightshift"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.cache/nightshift"
    }

    /// Returns every regular file under `directory`, sorted by repo path, with repo paths relative to it and
    /// prefixed by `repoPrefix`. Skips `.cache`, `.git`, `.hg` and `.svn` directories, partial downloads and
    /// symbolic links.
    public static func localFiles(in directory: String, repoPrefix: String = "") throws -> [HubLocalFile] {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let skipped: Set<String> = [".cache", ".git", ".hg", ".svn"]
        var prefix = repoPrefix
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        guard
            let enumerator = FileManager.default.enumerator(
                at: root,
                includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey, .isSymbolicLinkKey]
            )
        else {
            throw HubError.localFile(operation: "list \(directory)", path: directory, detail: "cannot be listed")
        }
        var files: [HubLocalFile] = []
        for case let url as URL in enumerator {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isDirectoryKey, .isSymbolicLinkKey])
            if values?.isDirectory == true {
                if skipped.contains(url.lastPathComponent) { enumerator.skipDescendants() }
                continue
            }
            guard values?.isRegularFile == true, values?.isSymbolicLink != true,
                !url.lastPathComponent.hasSuffix(HubSync.partialSuffix)
            else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            files.append(HubLocalFile(localPath: url.path, repoPath: prefix + relative))
        }
        return files.sorted { $0.repoPath < $1.repoPath }
    }

    var logger: Logger { self.client.logger }

    /// Uploads the files of `request` that differ from the repo and returns the counts and commits.
    ///
    /// Throws `HubError.commitConflict` when the branch moved during the upload. Earlier commits of the same
    /// upload stay, so running it again sends only what is still missing.
    public func upload(_ request: HubUploadRequest) throws -> HubUploadReport {
        let operation = "upload to \(request.type.webPrefix)\(request.repo)@\(request.revision)"
        guard self.client.hasToken else { throw HubError.missingToken(operation: operation) }
        let cache = HubHashCache(directory: self.cacheDirectory)
        defer { cache.save() }
        var report = HubUploadReport()
        report.filesConsidered = request.files.count
        if request.createsRepo {
            try self.client.createRepo(repo: request.repo, type: request.type, isPrivate: request.isPrivate)
        }
        var head = try self.client.headCommit(repo: request.repo, type: request.type, revision: request.revision)

        let changed = try self.changedFiles(request, cache: cache, report: &report, operation: operation)
        let chunks = Self.commitChunks(changed, deletions: request.deletions)
        let total = changed.reduce(Int64(0)) { $0 + $1.hashes.size }
        request.progress?.setTotal(total)
        let tally = Protected<Int64>(0)
        for (index, chunk) in chunks.enumerated() {
            if request.cancel?.isRaised == true { throw HubError.cancelled(operation: operation) }
            let objects = chunk.files.filter(\.isLFS).map { file in
                HubLFSObject(oid: file.hashes.sha256, size: file.hashes.size, source: .file(file.local.localPath))
            }
            let base = tally.current
            let lfs = try self.client.uploadLFSObjects(
                repo: request.repo,
                type: request.type,
                revision: request.revision,
                objects: objects,
                progress: { bytes in request.progress?.set(done: base + bytes) },
                cancel: request.cancel
            )
            try Self.checkUnchanged(chunk.files, operation: operation)
            var operations: [HubCommitOperation] = chunk.files.map { file in
                file.isLFS
                    ? .addLFS(path: file.local.repoPath, oid: file.hashes.sha256, size: file.hashes.size)
                    : .addLocalFile(path: file.local.repoPath, file: file.local.localPath)
            }
            operations += chunk.deletions.map { deletion in
                deletion.hasSuffix("/") ? .deleteFolder(path: String(deletion.dropLast())) : .deleteFile(path: deletion)
            }
            let message = index == 0 ? request.message : "\(request.message) (part \(index + 1))"
            head = try self.client.commit(
                repo: request.repo,
                type: request.type,
                revision: request.revision,
                operations: operations,
                message: message,
                parentCommit: head
            )
            let inlineBytes = chunk.files.filter { !$0.isLFS }.reduce(Int64(0)) { $0 + $1.hashes.size }
            tally.withLock { $0 += lfs.bytesSent + inlineBytes }
            request.progress?.set(done: tally.current)
            report.commits.append(head)
            report.uploaded += chunk.files.count
            report.deleted += chunk.deletions.count
            report.bytesSent += lfs.bytesSent + inlineBytes
        }
        request.progress?.finish()
        self.logger.info(
            report.nothingToDo ? "Hub upload found nothing to do" : "Hub upload finished",
            metadata: [
                "hub.repo": request.repo, "files.considered": "\(report.filesConsidered)",
                "files.unchanged": "\(report.unchanged)", "files.uploaded": "\(report.uploaded)",
                "bytes": "\(report.bytesSent)", "commit.oid": report.commits.last ?? "none",
            ]
        )
        return report
    }

    /// A local file that differs from the repo, with the transfer preupload chose.
    struct ChangedFile {
        var local: HubLocalFile
        var hashes: HubFileHashes
        var isLFS: Bool
    }

    struct CommitChunk {
        var files: [ChangedFile] = []
        var deletions: [String] = []
        var inlineBytes: Int64 = 0
        var count: Int { self.files.count + self.deletions.count }
    }

    /// Hashes the local files (through the cache), sends them to preupload, and returns the files to upload.
    private func changedFiles(
        _ request: HubUploadRequest,
        cache: HubHashCache,
        report: inout HubUploadReport,
        operation: String
    ) throws -> [ChangedFile] {
        var hashes: [String: HubFileHashes] = [:]
        var normalized: [(file: HubLocalFile, path: String)] = []
        var seen: Set<String> = []
        for file in request.files {
            if request.cancel?.isRaised == true { throw HubError.cancelled(operation: operation) }
            let path = try self.client.normalizedRepoPath(file.repoPath, operation: operation)
            guard seen.insert(path).inserted else {
                throw HubError.invalidArgument(operation: operation, detail: "path \(path) appears twice")
            }
            hashes[path] = try cache.hashes(of: file.localPath, operation: operation)
            normalized.append((file, path))
        }
        // Files whose size and hash equal the remote listing's are not described to preupload at all, so a
        // nightly upload of thousands of unchanged files costs a few listing pages instead of a sample of each.
        let remote = try self.remoteFiles(request, under: normalized.map(\.path), operation: operation)
        var described: [HubPreuploadFile] = []
        var candidates: [HubLocalFile] = []
        for (file, path) in normalized {
            guard let fileHashes = hashes[path] else { continue }
            if let entry = remote[path], Self.matches(entry, fileHashes) {
                report.unchanged += 1
                continue
            }
            described.append(
                HubPreuploadFile(path: path, size: fileHashes.size, sample: try Self.sample(file.localPath, operation))
            )
            candidates.append(file)
        }
        guard !described.isEmpty else { return [] }
        let answers = try self.client.preupload(
            repo: request.repo,
            type: request.type,
            revision: request.revision,
            files: described
        )
        var changed: [ChangedFile] = []
        for (file, answer) in zip(candidates, answers) {
            guard let fileHashes = hashes[answer.path] else { continue }
            if answer.shouldIgnore {
                report.ignored += 1
                continue
            }
            let localOID = answer.isLFS ? fileHashes.sha256 : fileHashes.gitSHA1
            if let remote = answer.remoteOID, remote == localOID {
                report.unchanged += 1
                continue
            }
            if !answer.isLFS && fileHashes.size > HubClient.maxInlineFileSize {
                throw HubError.invalidResponse(
                    operation: operation,
                    detail:
                        "preupload asked for \(answer.path) (\(fileHashes.size) bytes) inline, above the 10 MiB limit"
                )
            }
            var local = file
            local.repoPath = answer.path
            changed.append(ChangedFile(local: local, hashes: fileHashes, isLFS: answer.isLFS))
        }
        return changed
    }

    /// Returns the repo's files under the deepest folder that contains every path in `paths`, by path, at the
    /// branch head. A folder that does not exist yet gives an empty listing.
    private func remoteFiles(
        _ request: HubUploadRequest,
        under paths: [String],
        operation: String
    ) throws -> [String: HubTreeEntry] {
        guard var common = paths.first?.split(separator: "/").dropLast() else { return [:] }
        for path in paths.dropFirst() {
            let parts = path.split(separator: "/").dropLast()
            common = common.prefix(zip(common, parts).prefix { $0 == $1 }.count)
        }
        let folder = common.joined(separator: "/")
        let entries: [HubTreeEntry]
        do {
            entries = try self.client.listFiles(
                repo: request.repo,
                type: request.type,
                revision: request.revision,
                path: folder.isEmpty ? nil : folder
            )
        } catch HubError.entryNotFound {
            return [:]
        }
        var result: [String: HubTreeEntry] = [:]
        for entry in entries where entry.type == .file {
            result[entry.path] = entry
        }
        return result
    }

    /// Returns whether a listed remote file has the local file's content: the same size, and the same SHA-256
    /// for an LFS file or the same Git blob id for a regular one.
    static func matches(_ entry: HubTreeEntry, _ hashes: HubFileHashes) -> Bool {
        guard Int64(entry.size) == hashes.size else { return false }
        if let lfs = entry.lfsOid { return lfs == hashes.sha256 }
        return hashes.gitSHA1 != nil && entry.oid == hashes.gitSHA1
    }

    /// Splits the changes into commits of at most `maxOperationsPerCommit` operations and
    /// `maxInlineBytesPerCommit` inline bytes; deletions go into the last commit.
    static func commitChunks(_ files: [ChangedFile], deletions: [String]) -> [CommitChunk] {
        var chunks: [CommitChunk] = []
        var current = CommitChunk()
        for file in files {
            let inline = file.isLFS ? 0 : file.hashes.size
            if current.count >= maxOperationsPerCommit
                || (current.inlineBytes + inline > maxInlineBytesPerCommit && current.count > 0)
            {
                chunks.append(current)
                current = CommitChunk()
            }
            current.files.append(file)
            current.inlineBytes += inline
        }
        for deletion in deletions {
            if current.count >= maxOperationsPerCommit {
                chunks.append(current)
                current = CommitChunk()
            }
            current.deletions.append(deletion)
        }
        if current.count > 0 {
            chunks.append(current)
        }
        return chunks
    }

    /// Throws `HubError.localFile` when a file's size, modification time or inode differs from when it was
    /// hashed. The commit would otherwise name an LFS object by a SHA-256 that its stored bytes may not have,
    /// because object storage is not known to check it, so the repo would serve a file that fails verification.
    static func checkUnchanged(_ files: [ChangedFile], operation: String) throws {
        for file in files {
            let now = try HubHashCache.identity(of: file.local.localPath, operation: operation)
            let hashed = file.hashes
            guard now.size == hashed.size, now.modificationNanoseconds == hashed.modificationNanoseconds,
                now.inode == hashed.inode
            else {
                throw HubError.localFileChanged(
                    operation: operation,
                    path: file.local.localPath,
                    hashedSize: hashed.size,
                    currentSize: now.size
                )
            }
        }
    }

    private static func sample(_ path: String, _ operation: String) throws -> Data {
        guard let input = FileHandle(forReadingAtPath: path) else {
            throw HubError.localFile(operation: operation, path: path, detail: "cannot be opened for reading")
        }
        defer { try? input.close() }
        return (try? input.read(upToCount: 512)) ?? Data()
    }
}
