import Foundation
import HTTP
import Support

/// The reason one commit attempt failed, and what it allows the caller to do next.
struct CommitFailure {
    var error: HubError
    /// The commit may exist although no usable response arrived: a transport error, 429, 5xx, or a success status
    /// with a body that could not be read.
    var mayHaveLanded: Bool
    var retryable: Bool
    /// The server's `Retry-After`, in seconds.
    var retryAfter: Double?
}

enum CommitOutcome {
    case committed(String)
    case failed(CommitFailure)
}

/// One change in a commit.
public enum HubCommitOperation: Sendable {
    /// A regular (non-LFS) file sent inline from memory.
    case addInline(path: String, content: Data)
    /// A regular file sent inline, read from the local file `file` while the commit body is written.
    case addLocalFile(path: String, file: String)
    /// A file whose content was already uploaded as the LFS object `oid` (SHA-256 hex) of `size` bytes.
    case addLFS(path: String, oid: String, size: Int64)
    case deleteFile(path: String)
    /// Deletes every file under `path`.
    case deleteFolder(path: String)

    /// The path in the repo the operation changes.
    public var path: String {
        switch self {
        case .addInline(let path, _), .addLocalFile(let path, _), .addLFS(let path, _, _), .deleteFile(let path),
            .deleteFolder(let path):
            path
        }
    }
}

/// A commit body: small ones in memory, ones with local files in a temporary file so memory stays bounded.
enum HubCommitBody {
    case memory(Data)
    case file(String, Int64)

    var count: Int64 {
        switch self {
        case .memory(let data): Int64(data.count)
        case .file(_, let size): size
        }
    }

    func remove() {
        if case .file(let path, _) = self { unlink(path) }
    }
}

extension HubClient {
    /// The maximum size in bytes of a file sent inline, because the Hub rejects regular (non-LFS) files above 10 MiB.
    public static let maxInlineFileSize = 10 * 1024 * 1024

    /// Commits `files` and `deletions` to `revision` in one NDJSON commit and returns the new commit id.
    ///
    /// Files up to `maxInlineFileSize` are sent inline; larger ones are uploaded through the LFS batch API first
    /// and committed as `lfsFile`. A deletion ending in `/` deletes a folder. Retries follow `commit`.
    ///
    /// NOTE: This sends small files inline without a preupload request, so a repo whose `.gitattributes` routes
    /// small files to LFS may reject them. `HubSync.upload` sends preupload first and follows its upload modes.
    public func commitFiles(
        repo: String,
        type: HubRepoType,
        revision: String = "main",
        files: [(path: String, content: Data)],
        deletions: [String] = [],
        message: String,
        parentCommit: String? = nil
    ) throws -> String {
        let operation = "commit to \(type.webPrefix)\(repo)@\(revision)"
        try self.checkRepoID(repo, operation: operation)
        var operations: [HubCommitOperation] = []
        var largeObjects: [HubLFSObject] = []
        for file in files {
            if file.content.count > HubClient.maxInlineFileSize {
                let oid = Digest.sha256(file.content).hexString
                largeObjects.append(
                    HubLFSObject(oid: oid, size: Int64(file.content.count), source: .data(file.content))
                )
                operations.append(.addLFS(path: file.path, oid: oid, size: Int64(file.content.count)))
            } else {
                operations.append(.addInline(path: file.path, content: file.content))
            }
        }
        for deletion in deletions {
            var trimmed = deletion
            while trimmed.hasSuffix("/") {
                trimmed.removeLast()
            }
            operations.append(deletion.hasSuffix("/") ? .deleteFolder(path: trimmed) : .deleteFile(path: trimmed))
        }
        // Validate before any LFS bytes go out, so invalid input sends nothing.
        let title = Self.commitTitle(message)
        _ = try self.commitOperations(operations, title: title, operation: operation)
        if !largeObjects.isEmpty {
            _ = try self.uploadLFSObjects(repo: repo, type: type, revision: revision, objects: largeObjects)
        }
        return try self.commit(
            repo: repo,
            type: type,
            revision: revision,
            operations: operations,
            message: message,
            parentCommit: parentCommit
        )
    }

    /// Commits `operations` to `revision` in one atomic NDJSON commit and returns the new commit id.
    ///
    /// LFS objects named by `addLFS` must be uploaded already. The first line of `message` becomes the commit
    /// title and the rest its description. The commit POST is never retried blindly: after a failure that may
    /// have landed, the newest commits of `revision` are read, and one newer than the previous head whose title
    /// is the commit title is taken as this commit. Otherwise, when the failure is retryable, the commit is sent
    /// again with the previous head as `parentCommit`, so the Hub rejects it with 412 if the first attempt
    /// landed after all. With `parentCommit` set, a branch that moved meanwhile fails with
    /// `HubError.commitConflict` (HTTP 412).
    public func commit(
        repo: String,
        type: HubRepoType,
        revision: String = "main",
        operations: [HubCommitOperation],
        message: String,
        parentCommit: String? = nil
    ) throws -> String {
        let operation = "commit to \(type.webPrefix)\(repo)@\(revision)"
        try self.checkRepoID(repo, operation: operation)
        let title = Self.commitTitle(message)
        let lines = message.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let description = lines.count > 1 ? lines[1].trimmingCharacters(in: .whitespacesAndNewlines) : ""
        let validated = try self.commitOperations(operations, title: title, operation: operation)
        if let parentCommit, !(isCommitID(parentCommit) && (5...40).contains(parentCommit.count)) {
            throw HubError.invalidArgument(
                operation: operation,
                detail: "parentCommit \"\(parentCommit)\" is not 5 to 40 hexadecimal digits"
            )
        }

        let previousHead = parentCommit ?? self.headBeforeCommit(repo: repo, type: type, revision: revision)
        let url = self.apiBase(repo, type) + "/commit/" + encodedComponent(revision)
        let metadata: Logger.Metadata = [
            "hub.repo": repo, "hub.revision": revision,
            "commit.files": "\(validated.filter { !$0.isDeletion }.count)",
            "commit.deletions": "\(validated.filter(\.isDeletion).count)",
        ]
        var parent = parentCommit
        var attempt = 0
        while true {
            attempt += 1
            let body = try self.commitPayload(
                title: title,
                description: description,
                parent: parent,
                operations: validated,
                operation: operation
            )
            let outcome = self.postCommit(operation, url: url, body: body, repo: repo, type: type, revision: revision)
            body.remove()
            let failure: CommitFailure
            switch outcome {
            case .committed(let oid):
                var created = metadata
                created["commit.oid"] = oid
                self.logger.info("Hub commit created", metadata: created)
                return oid
            case .failed(let reason):
                failure = reason
            }
            var failed = metadata
            failed["error"] = failure.error.description
            failed["commit.attempt"] = "\(attempt)"
            self.logger.warning("Hub commit failed", metadata: failed)

            var isLateConflict = false
            if case .commitConflict = failure.error, attempt > 1 {
                isLateConflict = true
            }
            if failure.mayHaveLanded || isLateConflict,
                let landed = self.findLandedCommit(
                    title: title,
                    after: previousHead,
                    repo: repo,
                    type: type,
                    revision: revision
                )
            {
                var adopted = metadata
                adopted["commit.oid"] = landed
                self.logger.notice("Hub commit landed although its response was lost", metadata: adopted)
                return landed
            }
            guard failure.retryable, attempt < max(1, self.retry.maxAttempts), let previousHead else {
                throw failure.error
            }
            parent = previousHead
            let delay = self.retry.delay(beforeRetry: attempt, retryAfter: failure.retryAfter)
            failed["retry.delay_s"] = String(format: "%.2f", delay)
            failed["commit.parent"] = previousHead
            self.logger.warning("Retrying Hub commit with the previous head as parent", metadata: failed)
            _ = self.http.sleep(delay, nil)
        }
    }

    static func commitTitle(_ message: String) -> String {
        let lines = message.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        return lines.first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }

    /// Validates and normalizes the paths, and returns the operations in order.
    private func commitOperations(_ operations: [HubCommitOperation], title: String, operation: String) throws
        -> [ValidatedOperation]
    {
        if title.isEmpty {
            throw HubError.invalidArgument(operation: operation, detail: "the commit message is empty")
        }
        if operations.isEmpty {
            throw HubError.invalidArgument(operation: operation, detail: "the commit has no files and no deletions")
        }
        var seen: Set<String> = []
        var validated: [ValidatedOperation] = []
        for item in operations {
            let path = try self.normalizedRepoPath(item.path, operation: operation)
            guard seen.insert(path).inserted else {
                throw HubError.invalidArgument(operation: operation, detail: "path \(path) appears twice")
            }
            switch item {
            case .addInline(_, let content):
                guard content.count <= HubClient.maxInlineFileSize else {
                    throw HubError.invalidArgument(
                        operation: operation,
                        detail: "\(path) is \(content.count) bytes; inline files are limited to 10 MiB, so send it "
                            + "through LFS"
                    )
                }
            case .addLocalFile(_, let file):
                let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? -1
                guard size >= 0 else {
                    throw HubError.localFile(operation: operation, path: file, detail: "cannot be read")
                }
                guard size <= HubClient.maxInlineFileSize else {
                    throw HubError.invalidArgument(
                        operation: operation,
                        detail: "\(path) is \(size) bytes; inline files are limited to 10 MiB, so send it through LFS"
                    )
                }
            case .addLFS(_, let oid, let size):
                guard oid.count == 64, isCommitID(oid), size >= 0 else {
                    throw HubError.invalidArgument(
                        operation: operation,
                        detail: "LFS oid of \(path) must be 64 hexadecimal digits with a size of 0 or more"
                    )
                }
            case .deleteFile, .deleteFolder:
                break
            }
            validated.append(ValidatedOperation(operation: item, path: path))
        }
        return validated
    }

    /// Returns the NDJSON body: the header line first, then one line per operation, each ending in a newline.
    /// Bodies with local files are written to a temporary file, with the file content base64-encoded in chunks.
    private func commitPayload(
        title: String,
        description: String,
        parent: String?,
        operations: [ValidatedOperation],
        operation: String
    ) throws -> HubCommitBody {
        var header: [String: Any] = ["summary": title, "description": description]
        if let parent {
            header["parentCommit"] = parent
        }
        let writer = try HubCommitBodyWriter(inFile: operations.contains { $0.isLocalFile }, operation: operation)
        try writer.writeLine(["key": "header", "value": header])
        for item in operations {
            switch item.operation {
            case .addInline(_, let content):
                try writer.writeLine(
                    [
                        "key": "file",
                        "value": ["content": content.base64EncodedString(), "path": item.path, "encoding": "base64"],
                    ]
                )
            case .addLocalFile(_, let file):
                try writer.writeFileLine(path: item.path, localFile: file)
            case .addLFS(_, let oid, let size):
                try writer.writeLine(
                    ["key": "lfsFile", "value": ["path": item.path, "algo": "sha256", "oid": oid, "size": size]]
                )
            case .deleteFile:
                try writer.writeLine(["key": "deletedFile", "value": ["path": item.path]])
            case .deleteFolder:
                try writer.writeLine(["key": "deletedFolder", "value": ["path": item.path]])
            }
        }
        return try writer.finish()
    }

    /// Sends the commit exactly once with `RetryPolicy.never`.
    private func postCommit(
        _ operation: String,
        url: String,
        body: HubCommitBody,
        repo: String,
        type: HubRepoType,
        revision: String
    ) -> CommitOutcome {
        let response: HTTPClientResponse
        let metadata: Logger.Metadata = ["hub.repo": repo, "hub.revision": revision, "commit.bytes": "\(body.count)"]
        do {
            switch body {
            case .memory(let data):
                response = try self.send(
                    operation,
                    method: "POST",
                    url: url,
                    headers: [("Content-Type", "application/x-ndjson")],
                    body: data,
                    retry: .never,
                    metadata: metadata
                )
            case .file(let path, let size):
                response = try self.sendTransfer(
                    operation,
                    method: "POST",
                    url: url,
                    headers: [("Content-Type", "application/x-ndjson")],
                    transfer: HTTPTransfer(upload: HTTPFileRegion(path: path, length: size)),
                    retry: .never,
                    metadata: metadata
                ).response
            }
        } catch let error as HubError {
            return .failed(CommitFailure(error: error, mayHaveLanded: true, retryable: true))
        } catch {
            let wrapped = HubError.invalidResponse(operation: operation, detail: "\(error)")
            return .failed(CommitFailure(error: wrapped, mayHaveLanded: true, retryable: false))
        }
        if response.isSuccess {
            guard let oid = (response.json as? [String: Any])?["commitOid"] as? String, isCommitID(oid) else {
                let error = HubError.invalidResponse(
                    operation: operation,
                    detail: "the body has no \"commitOid\" field"
                )
                return .failed(CommitFailure(error: error, mayHaveLanded: true, retryable: false))
            }
            return .committed(oid)
        }
        let retryable = response.status == 429 || response.status >= 500
        return .failed(
            CommitFailure(
                error: self.hubError(operation, response, repo: repo, type: type, revision: revision),
                mayHaveLanded: retryable,
                retryable: retryable,
                retryAfter: parseRetryAfter(response.header("Retry-After"))
            )
        )
    }

    /// Returns the head of `revision` before the commit, or nil when it cannot be read (for example, a branch
    /// that does not exist yet).
    private func headBeforeCommit(repo: String, type: HubRepoType, revision: String) -> String? {
        do {
            return try self.headCommit(repo: repo, type: type, revision: revision)
        } catch {
            self.logger.debug(
                "Could not read the head before committing",
                metadata: ["hub.repo": repo, "hub.revision": revision, "error": "\(error)"]
            )
            return nil
        }
    }

    /// Returns the id of a commit on `revision` newer than `previousHead` whose title is `title`, or nil.
    ///
    /// Reads the first page of `GET /api/{type}s/{repo}/commits/{revision}`, newest first. Without a previous
    /// head only the newest commit is considered. A failed read is logged and returns nil.
    private func findLandedCommit(
        title: String,
        after previousHead: String?,
        repo: String,
        type: HubRepoType,
        revision: String
    ) -> String? {
        let operation = "list commits of \(type.webPrefix)\(repo)@\(revision)"
        let url = self.apiBase(repo, type) + "/commits/" + encodedComponent(revision)
        let commits: [Any]
        do {
            let response = try self.send(
                operation,
                method: "GET",
                url: url,
                retry: self.retry,
                metadata: ["hub.repo": repo, "hub.revision": revision]
            )
            guard response.isSuccess else {
                throw self.hubError(operation, response, repo: repo, type: type, revision: revision)
            }
            guard let array = response.json as? [Any] else {
                throw HubError.invalidResponse(operation: operation, detail: "the body is not a JSON array")
            }
            commits = array
        } catch {
            self.logger.warning(
                "Could not check whether a failed Hub commit landed",
                metadata: ["hub.repo": repo, "hub.revision": revision, "error": "\(error)"]
            )
            return nil
        }
        for case let commit as [String: Any] in commits {
            guard let id = commit["id"] as? String else { continue }
            if let previousHead, id.hasPrefix(previousHead) || previousHead.hasPrefix(id) {
                return nil
            }
            if commit["title"] as? String == title {
                return id
            }
            if previousHead == nil {
                return nil
            }
        }
        return nil
    }
}
