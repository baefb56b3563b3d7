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

extension HubClient {
    /// The maximum size in bytes of a file sent inline, because the Hub rejects regular (non-LFS) files above 10 MiB.
    public static let maxInlineFileSize = 10 * 1024 * 1024

    /// Commits `files` and `deletions` to `revision` in one NDJSON commit and returns the new commit id.
    ///
    /// The first line of `message` becomes the commit title and the rest its description. A deletion ending in
    /// `/` deletes a folder. The commit POST is never retried blindly: after a failure that may have landed, the
    /// newest commits of `revision` are read, and one newer than the previous head whose title is the commit
    /// title is taken as this commit. Otherwise, when the failure is retryable, the commit is sent again with the
    /// previous head as `parentCommit`, so the Hub rejects it with 412 if the first attempt landed after all.
    ///
    /// TODO: Files above `maxInlineFileSize`, and files the repo's `.gitattributes` routes to LFS, need the
    /// preupload and LFS batch upload first. Until that exists, they are rejected here or by the Hub.
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
        let lines = message.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let title = lines.first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let description = lines.count > 1 ? lines[1].trimmingCharacters(in: .whitespacesAndNewlines) : ""
        let operations = try self.commitOperations(
            files: files,
            deletions: deletions,
            title: title,
            operation: operation
        )
        if let parentCommit, !(isCommitID(parentCommit) && (5...40).contains(parentCommit.count)) {
            throw HubError.invalidArgument(
                operation: operation,
                detail: "parentCommit \"\(parentCommit)\" is not 5 to 40 hexadecimal digits"
            )
        }

        let previousHead = parentCommit ?? self.headBeforeCommit(repo: repo, type: type, revision: revision)
        let url = self.apiBase(repo, type) + "/commit/" + encodedComponent(revision)
        let metadata: Logger.Metadata = [
            "hub.repo": repo, "hub.revision": revision, "commit.files": "\(files.count)",
            "commit.deletions": "\(deletions.count)",
        ]
        var parent = parentCommit
        var attempt = 0
        while true {
            attempt += 1
            let body = try self.commitPayload(
                title: title,
                description: description,
                parent: parent,
                operations: operations
            )
            let failure: CommitFailure
            switch self.postCommit(operation, url: url, body: body, repo: repo, type: type, revision: revision) {
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

    /// Validates and normalizes the paths, and returns the operation lines after the header, in order.
    private func commitOperations(
        files: [(path: String, content: Data)],
        deletions: [String],
        title: String,
        operation: String
    ) throws -> [[String: Any]] {
        if title.isEmpty {
            throw HubError.invalidArgument(operation: operation, detail: "the commit message is empty")
        }
        if files.isEmpty && deletions.isEmpty {
            throw HubError.invalidArgument(operation: operation, detail: "the commit has no files and no deletions")
        }
        var seen: Set<String> = []
        var lines: [[String: Any]] = []
        for file in files {
            let path = try self.normalizedRepoPath(file.path, operation: operation)
            guard seen.insert(path).inserted else {
                throw HubError.invalidArgument(operation: operation, detail: "path \(path) appears twice")
            }
            guard file.content.count <= HubClient.maxInlineFileSize else {
                throw HubError.invalidArgument(
                    operation: operation,
                    detail: "\(path) is \(file.content.count) bytes; files above 10 MiB need LFS, "
                        + "which this client does not upload yet"
                )
            }
            let value: [String: Any] = [
                "content": file.content.base64EncodedString(), "path": path, "encoding": "base64",
            ]
            lines.append(["key": "file", "value": value])
        }
        for deletion in deletions {
            let isFolder = deletion.hasSuffix("/")
            var trimmed = deletion
            while trimmed.hasSuffix("/") {
                trimmed.removeLast()
            }
            let path = try self.normalizedRepoPath(trimmed, operation: operation)
            guard seen.insert(path).inserted else {
                throw HubError.invalidArgument(operation: operation, detail: "path \(path) appears twice")
            }
            lines.append(["key": isFolder ? "deletedFolder" : "deletedFile", "value": ["path": path]])
        }
        return lines
    }

    /// Returns the NDJSON body: the header line first, then one line per operation, each ending in a newline.
    private func commitPayload(title: String, description: String, parent: String?, operations: [[String: Any]])
        throws -> Data
    {
        var header: [String: Any] = ["summary": title, "description": description]
        if let parent {
            header["parentCommit"] = parent
        }
        var body = Data()
        for line in [["key": "header", "value": header]] + operations {
            body.append(
                try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
            )
            body.append(0x0A)
        }
        return body
    }

    /// Sends the commit exactly once with `RetryPolicy.never`.
    private func postCommit(
        _ operation: String,
        url: String,
        body: Data,
        repo: String,
        type: HubRepoType,
        revision: String
    ) -> CommitOutcome {
        let response: HTTPClientResponse
        do {
            response = try self.send(
                operation,
                method: "POST",
                url: url,
                headers: [("Content-Type", "application/x-ndjson")],
                body: body,
                retry: .never,
                metadata: ["hub.repo": repo, "hub.revision": revision, "commit.bytes": "\(body.count)"]
            )
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
