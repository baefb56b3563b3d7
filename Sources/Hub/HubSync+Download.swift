import Foundation
import HTTP
import Support

/// A request for `HubSync.download`: the repo, the revision, the files and the local destination.
public struct HubDownloadRequest: Sendable {
    public var repo: String
    public var type: HubRepoType
    /// A branch, tag or commit; it is resolved to one commit first, and every file comes from that commit.
    public var revision: String
    /// A folder in the repo whose files are downloaded; nil for the whole repo.
    public var folder: String?
    /// Exact repo paths to download instead of a folder.
    public var paths: [String]?
    /// The local directory that receives the files, at their repo paths.
    public var destination: String
    /// Whether `folder/` is removed from the front of local paths.
    public var stripsFolder: Bool
    public var progress: ProgressMeter?
    public var cancel: Signal?

    public init(
        repo: String,
        type: HubRepoType = .dataset,
        revision: String = "main",
        folder: String? = nil,
        paths: [String]? = nil,
        destination: String,
        stripsFolder: Bool = false,
        progress: ProgressMeter? = nil,
        cancel: Signal? = nil
    ) {
        self.repo = repo
        self.type = type
        self.revision = revision
        self.folder = folder
        self.paths = paths
        self.destination = destination
        self.stripsFolder = stripsFolder
        self.progress = progress
        self.cancel = cancel
    }
}

/// The outcome of `HubSync.download`.
public struct HubDownloadReport: Sendable, Equatable {
    /// The commit every file came from.
    public var commit = ""
    public var filesConsidered = 0
    /// Local files whose content already matched, so they were not fetched.
    public var unchanged = 0
    public var downloaded = 0
    /// Body bytes received, including those of attempts that were resumed.
    public var bytesReceived: Int64 = 0
    /// Downloads that continued a partial file with `Range`.
    public var resumed = 0
}

/// The outcome of `HubSync.delete`.
public struct HubDeleteReport: Sendable, Equatable {
    /// The commit made, or nil when nothing matched.
    public var commit: String?
    /// The files removed, including those under deleted folders, sorted.
    public var removedFiles: [String] = []
}

extension HubSync {
    /// Downloads the files of one commit that differ from the local copies, each to `<path>.nightshift-partial`
    /// first and renamed after its size and hash (SHA-256 for LFS, Git SHA-1 otherwise) were checked.
    ///
    /// A partial file left by an earlier run or a dropped connection is continued with `Range: bytes=N-`; a 200
    /// in place of 206 starts it over. A mismatch deletes the partial file and throws `HubError.integrity`. The
    /// token goes only to the Hub's origin, never to the storage an LFS download redirects to.
    public func download(_ request: HubDownloadRequest) throws -> HubDownloadReport {
        let operation = "download from \(request.type.webPrefix)\(request.repo)@\(request.revision)"
        let cache = HubHashCache(directory: self.cacheDirectory)
        defer { cache.save() }
        var report = HubDownloadReport()
        let commit =
            request.revision.count == 40 && isCommitID(request.revision)
            ? request.revision
            : try self.client.headCommit(repo: request.repo, type: request.type, revision: request.revision)
        report.commit = commit
        let listed = try self.client.listFiles(
            repo: request.repo,
            type: request.type,
            revision: commit,
            path: request.paths == nil ? request.folder : nil
        )
        var files = listed.filter { $0.type == .file }
        // The listing comes from the server, so a path with `..` or an empty component could name a file
        // outside the destination. Such a listing is rejected before anything is written.
        for entry in files {
            let normalized = try? self.client.normalizedRepoPath(entry.path, operation: operation)
            guard normalized == entry.path else {
                throw HubError.invalidResponse(
                    operation: operation,
                    detail: "the listing contains the unsafe path \"\(entry.path)\", so nothing was downloaded; "
                        + "check that HF_ENDPOINT names a real Hub"
                )
            }
        }
        if let paths = request.paths {
            let wanted = Set(try paths.map { try self.client.normalizedRepoPath($0, operation: operation) })
            files = files.filter { wanted.contains($0.path) }
            let missing = wanted.subtracting(files.map(\.path))
            if let first = missing.sorted().first {
                throw HubError.entryNotFound(operation: operation, repo: request.repo, revision: commit, path: first)
            }
        }
        report.filesConsidered = files.count

        var pending: [(HubTreeEntry, String)] = []
        for entry in files {
            let local = try self.localPath(for: entry.path, request, operation: operation)
            if try self.matches(entry, localPath: local, cache: cache, operation: operation) {
                report.unchanged += 1
            } else {
                pending.append((entry, local))
            }
        }
        request.progress?.setTotal(pending.reduce(Int64(0)) { $0 + Int64($1.0.size) })
        let done = Protected<Int64>(0)
        for (entry, local) in pending {
            if request.cancel?.isRaised == true { throw HubError.cancelled(operation: operation) }
            let result = try self.downloadFile(
                entry,
                commit: commit,
                to: local,
                request,
                cache: cache,
                progress: { bytes in request.progress?.set(done: done.current + bytes) }
            )
            done.withLock { $0 += Int64(entry.size) }
            report.downloaded += 1
            report.bytesReceived += result.received
            report.resumed += result.resumed ? 1 : 0
        }
        request.progress?.finish()
        self.logger.info(
            "Hub download finished",
            metadata: [
                "hub.repo": request.repo, "commit.oid": commit, "files.considered": "\(report.filesConsidered)",
                "files.unchanged": "\(report.unchanged)", "files.downloaded": "\(report.downloaded)",
                "bytes": "\(report.bytesReceived)",
            ]
        )
        return report
    }

    /// Deletes `paths` (files) and `folders` from `revision` in one commit, leaving out those that do not exist.
    /// Deleting nothing makes no commit.
    public func delete(
        repo: String,
        type: HubRepoType = .dataset,
        revision: String = "main",
        paths: [String],
        folders: [String] = [],
        message: String
    ) throws -> HubDeleteReport {
        let operation = "delete from \(type.webPrefix)\(repo)@\(revision)"
        guard self.client.hasToken else { throw HubError.missingToken(operation: operation) }
        let head = try self.client.headCommit(repo: repo, type: type, revision: revision)
        let existing = Set(
            try self.client.listFiles(repo: repo, type: type, revision: head).filter { $0.type == .file }.map(\.path)
        )
        var operations: [HubCommitOperation] = []
        var removed: Set<String> = []
        for path in paths {
            let normalized = try self.client.normalizedRepoPath(path, operation: operation)
            if existing.contains(normalized), !removed.contains(normalized) {
                operations.append(.deleteFile(path: normalized))
                removed.insert(normalized)
            }
        }
        for folder in folders {
            var trimmed = folder
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            let normalized = try self.client.normalizedRepoPath(trimmed, operation: operation)
            let below = existing.filter { $0.hasPrefix(normalized + "/") && !removed.contains($0) }
            if !below.isEmpty {
                operations.append(.deleteFolder(path: normalized))
                removed.formUnion(below)
            }
        }
        // A file deleted on its own and again through its folder would make the Hub reject the commit.
        operations = operations.filter { operation in
            guard case .deleteFile(let path) = operation else { return true }
            return !folders.contains { path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
        }
        guard !operations.isEmpty else {
            self.logger.info("Hub delete found nothing to remove", metadata: ["hub.repo": repo])
            return HubDeleteReport(commit: nil, removedFiles: [])
        }
        let commit = try self.client.commit(
            repo: repo,
            type: type,
            revision: revision,
            operations: operations,
            message: message,
            parentCommit: head
        )
        return HubDeleteReport(commit: commit, removedFiles: removed.sorted())
    }

    private func localPath(for repoPath: String, _ request: HubDownloadRequest, operation: String) throws -> String {
        var relative = repoPath
        if request.stripsFolder, var folder = request.folder {
            while folder.hasSuffix("/") { folder.removeLast() }
            if relative.hasPrefix(folder + "/") {
                relative = String(relative.dropFirst(folder.count + 1))
            }
        }
        return request.destination + "/" + relative
    }

    /// Returns whether the local file has the entry's size and content id.
    private func matches(_ entry: HubTreeEntry, localPath: String, cache: HubHashCache, operation: String) throws
        -> Bool
    {
        guard let identity = try? HubHashCache.identity(of: localPath, operation: operation),
            identity.size == Int64(entry.size)
        else { return false }
        let hashes = try cache.hashes(of: localPath, needsGitSHA1: entry.lfsOid == nil, operation: operation)
        if let lfs = entry.lfsOid {
            return hashes.sha256 == lfs.lowercased()
        }
        return hashes.gitSHA1 == entry.oid.lowercased()
    }

    /// Fetches one file into its partial file, resuming after dropped connections, then verifies and renames it.
    private func downloadFile(
        _ entry: HubTreeEntry,
        commit: String,
        to local: String,
        _ request: HubDownloadRequest,
        cache: HubHashCache,
        progress: @escaping @Sendable (Int64) -> Void
    ) throws -> (received: Int64, resumed: Bool) {
        let operation = "download \(entry.path) from \(request.type.webPrefix)\(request.repo)@\(commit)"
        let partial = local + HubSync.partialSuffix
        let directory = (local as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HubError.localFile(operation: operation, path: directory, detail: "cannot be created: \(error)")
        }
        let size = Int64(entry.size)
        let url =
            "\(self.client.endpoint)/\(request.type.webPrefix)\(encodedPath(request.repo))/resolve/"
            + "\(commit)/\(encodedPath(entry.path))"
        let metadata: Logger.Metadata = ["hub.repo": request.repo, "hub.path": entry.path, "commit.oid": commit]
        var received: Int64 = 0
        var resumed = false
        var failures = 0
        while true {
            var offset = (try? HubHashCache.identity(of: partial, operation: operation).size) ?? 0
            if offset > size {
                unlink(partial)
                offset = 0
            }
            if offset == size && size > 0 {
                break
            }
            let outcome = try self.fetch(
                url,
                into: partial,
                offset: offset,
                operation: operation,
                request: request,
                progress: progress,
                metadata: metadata
            )
            received += outcome.written
            if offset > 0 && outcome.status == 206 { resumed = true }
            let length = outcome.start + outcome.written
            if (outcome.status == 200 || outcome.status == 206) && length == size {
                break
            }
            if outcome.status == 416 {
                unlink(partial)
            }
            failures += 1
            guard failures < max(2, self.client.retry.maxAttempts), outcome.retryable || outcome.status == 416 else {
                throw outcome.error
                    ?? HubError.integrity(
                        operation: operation,
                        detail: "received \(length) bytes, the listing announced \(size)"
                    )
            }
            let delay = self.client.retry.delay(beforeRetry: failures, retryAfter: outcome.retryAfter)
            var retrying = metadata
            retrying["bytes"] = "\(length)"
            retrying["retry.delay_s"] = String(format: "%.2f", delay)
            retrying["error"] = outcome.error?.description ?? "HTTP \(outcome.status)"
            self.logger.warning("Hub download interrupted, resuming", metadata: retrying)
            guard self.client.http.sleep(delay, request.cancel) else {
                throw HubError.cancelled(operation: operation)
            }
        }
        try self.verify(partial, entry: entry, operation: operation, cache: cache, finalPath: local)
        return (received, resumed)
    }

    /// libcurl's CURLE_WRITE_ERROR, which the download file's write callback causes when a write fails.
    static let curlWriteError = 23
    /// The code `HTTPClient` gives a transfer whose local file could not be opened.
    static let localFileOpenError = -2

    private struct FetchOutcome {
        var status: Int
        var start: Int64
        var written: Int64
        var retryable: Bool
        var retryAfter: Double?
        var error: HubError?
    }

    /// Sends one GET for the file, following redirects one by one so the token stays on the Hub's origin.
    private func fetch(
        _ firstURL: String,
        into partial: String,
        offset: Int64,
        operation: String,
        request: HubDownloadRequest,
        progress: @escaping @Sendable (Int64) -> Void,
        metadata: Logger.Metadata
    ) throws -> FetchOutcome {
        var url = firstURL
        for _ in 0...HubClient.maxRedirects {
            let headers: [(name: String, value: String)] = offset > 0 ? [("Range", "bytes=\(offset)-")] : []
            let result: HTTPTransferResponse
            do {
                result = try self.client.sendTransfer(
                    operation,
                    method: "GET",
                    url: url,
                    headers: headers,
                    transfer: HTTPTransfer(
                        download: HTTPResponseFile(path: partial, resumeOffset: offset),
                        progress: { bytes in progress(offset + bytes) },
                        cancel: request.cancel
                    ),
                    retry: .never,
                    metadata: metadata
                )
            } catch let error as HubError {
                if case .transport(_, .transport(_, _, let code, let message)) = error,
                    code == HubSync.curlWriteError || code == HubSync.localFileOpenError
                {
                    // The local disk failed (full, read-only, not writable), which a retry does not fix.
                    throw HubError.localFile(
                        operation: operation,
                        path: partial,
                        detail: message + "; free space or fix the directory's permissions, then run the download "
                            + "again, which resumes the partial file"
                    )
                }
                if case .transport = error {
                    let written = ((try? HubHashCache.identity(of: partial, operation: operation).size) ?? 0) - offset
                    return FetchOutcome(
                        status: 0,
                        start: offset,
                        written: max(0, written),
                        retryable: true,
                        error: error
                    )
                }
                throw error
            }
            let response = result.response
            if [301, 302, 303, 307, 308].contains(response.status) {
                guard let location = response.header("Location"),
                    let next = URL(string: location, relativeTo: URL(string: url))?.absoluteString
                else {
                    throw HubError.invalidResponse(operation: operation, detail: "redirect without a usable Location")
                }
                url = next
                continue
            }
            let retryable = [408, 429, 500, 502, 503, 504].contains(response.status)
            var error: HubError? = nil
            if !response.isSuccess && response.status != 416 {
                error = self.client.hubError(
                    operation,
                    response,
                    repo: request.repo,
                    type: request.type,
                    revision: request.revision,
                    path: nil
                )
            }
            return FetchOutcome(
                status: response.status,
                start: result.fileStart,
                written: result.fileBytesWritten,
                retryable: retryable,
                retryAfter: parseRetryAfter(response.header("Retry-After")),
                error: error
            )
        }
        throw HubError.invalidResponse(operation: operation, detail: "more than \(HubClient.maxRedirects) redirects")
    }

    /// Checks the partial file's size and hash, then gives it its final name; a mismatch deletes it.
    private func verify(
        _ partial: String,
        entry: HubTreeEntry,
        operation: String,
        cache: HubHashCache,
        finalPath: String
    )
        throws
    {
        let size = Int64(entry.size)
        let hashes = try HubHashCache.compute(
            path: partial,
            size: size,
            gitSHA1: entry.lfsOid == nil,
            operation: operation
        )
        let expected = (entry.lfsOid ?? entry.oid).lowercased()
        let actual = entry.lfsOid == nil ? (hashes.gitSHA1 ?? "") : hashes.sha256
        guard actual == expected else {
            unlink(partial)
            throw HubError.integrity(
                operation: operation,
                detail: "\(entry.lfsOid == nil ? "Git SHA-1" : "SHA-256") \(actual) differs from \(expected); "
                    + "the partial file was deleted, so run the download again"
            )
        }
        guard rename(partial, finalPath) == 0 else {
            throw HubError.localFile(
                operation: operation,
                path: finalPath,
                detail: "rename from \(partial) failed: \(String(cString: strerror(errno)))"
            )
        }
        cache.record(finalPath, sha256: hashes.sha256, gitSHA1: hashes.gitSHA1, operation: operation)
    }
}
