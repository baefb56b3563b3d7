import Foundation
import HTTP
import Support

/// A blocking client for the parts of the Hugging Face Hub HTTP API that nightshift uses: the head commit of a
/// revision, recursive tree listings, file downloads and small commits.
///
/// Reads are retried as `retry` allows. A commit is never sent twice without first checking whether the earlier
/// attempt landed. The token is sent only to the endpoint's own origin and never appears in logs or errors.
public struct HubClient: Sendable {
    /// The Hub base URL without a trailing slash, for example `https://huggingface.co`.
    public let endpoint: String
    let token: String?
    let http: HTTPClient
    let logger: Logger
    /// The policy for reads, and the attempt limit and backoff for commit retries.
    public let retry: RetryPolicy

    /// A bound on tree pages, so a server that keeps sending new `Link` targets cannot loop forever.
    static let maxPages = 10_000
    static let maxRedirects = 10

    public init(endpoint: String, token: String?, http: HTTPClient, logger: Logger, retry: RetryPolicy = .standard) {
        var trimmed = endpoint
        while trimmed.hasSuffix("/") {
            trimmed.removeLast()
        }
        self.endpoint = trimmed
        self.token = token
        self.http = http
        self.logger = logger
        self.retry = retry
    }

    /// Returns the commit id that `revision` (a branch, tag, `refs/pr/N` or commit) points to.
    public func headCommit(repo: String, type: HubRepoType, revision: String = "main") throws -> String {
        let operation = "read the head of \(type.webPrefix)\(repo)@\(revision)"
        try self.checkRepoID(repo, operation: operation)
        let url = self.apiBase(repo, type) + "/revision/" + encodedComponent(revision)
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
        guard let sha = (response.json as? [String: Any])?["sha"] as? String, isCommitID(sha) else {
            throw HubError.invalidResponse(operation: operation, detail: "the body has no hexadecimal \"sha\" field")
        }
        return sha
    }

    /// Returns every file and directory under `path` (the whole repo when nil), recursively.
    ///
    /// Pages are followed through `Link: <url>; rel="next"` headers, whose targets are requested as given.
    /// Entries of a type other than file or directory are skipped.
    public func listFiles(
        repo: String,
        type: HubRepoType,
        revision: String = "main",
        path: String? = nil
    ) throws -> [HubTreeEntry] {
        let operation = "list files of \(type.webPrefix)\(repo)@\(revision)"
        try self.checkRepoID(repo, operation: operation)
        var url = self.apiBase(repo, type) + "/tree/" + encodedComponent(revision)
        var directory: String? = nil
        if let path {
            var trimmedPath = path
            while trimmedPath.hasSuffix("/") {
                trimmedPath.removeLast()
            }
            let normalized = try self.normalizedRepoPath(trimmedPath, operation: operation)
            directory = normalized
            url += "/" + encodedComponent(normalized)
        }
        url += "?recursive=true&expand=false"

        var entries: [HubTreeEntry] = []
        var skipped = 0
        var visited: Set<String> = [url]
        for page in 1...HubClient.maxPages {
            let response = try self.send(
                operation,
                method: "GET",
                url: url,
                retry: self.retry,
                metadata: ["hub.repo": repo, "hub.revision": revision, "page": "\(page)"]
            )
            guard response.isSuccess else {
                throw self.hubError(operation, response, repo: repo, type: type, revision: revision, path: directory)
            }
            guard let items = response.json as? [Any] else {
                throw HubError.invalidResponse(operation: operation, detail: "page \(page) is not a JSON array")
            }
            for item in items {
                if let entry = HubTreeEntry(json: item) {
                    entries.append(entry)
                } else {
                    skipped += 1
                }
            }
            guard let next = nextLinkTarget(response.header("Link")) else {
                if skipped > 0 {
                    self.logger.debug(
                        "Skipped tree entries of unknown type",
                        metadata: ["hub.repo": repo, "count": "\(skipped)"]
                    )
                }
                return entries
            }
            let resolved = URL(string: next, relativeTo: URL(string: url))?.absoluteString ?? next
            guard visited.insert(resolved).inserted else {
                throw HubError.invalidResponse(
                    operation: operation,
                    detail: "page \(page) links to a page already read"
                )
            }
            url = resolved
        }
        throw HubError.invalidResponse(
            operation: operation,
            detail: "the listing did not end after \(HubClient.maxPages) pages"
        )
    }

    /// Downloads one file through `/resolve/` and returns its content, or nil when the Hub reports `EntryNotFound`.
    ///
    /// Redirects are followed one by one, so the token goes only to the Hub's own origin and never to the storage
    /// an LFS file redirects to. When the Hub announces `X-Linked-Size` or a SHA-256 `X-Linked-Etag`, the content
    /// is checked against them.
    ///
    /// NOTE: The whole file is held in memory, so this suits configs and small datasets, not multi-gigabyte files.
    public func downloadFile(
        repo: String,
        type: HubRepoType,
        revision: String = "main",
        path: String
    ) throws -> Data? {
        let operation = "download \(path) from \(type.webPrefix)\(repo)@\(revision)"
        try self.checkRepoID(repo, operation: operation)
        let normalized = try self.normalizedRepoPath(path, operation: operation)
        var url =
            "\(self.endpoint)/\(type.webPrefix)\(encodedPath(repo))/resolve/"
            + "\(encodedComponent(revision))/\(encodedPath(normalized))"
        var linkedETag: String? = nil
        var linkedSize: Int? = nil
        let metadata: Logger.Metadata = ["hub.repo": repo, "hub.revision": revision, "hub.path": normalized]

        for hop in 0...HubClient.maxRedirects {
            let response = try self.send(operation, method: "GET", url: url, retry: self.retry, metadata: metadata)
            linkedETag = linkedETag ?? response.header("X-Linked-Etag")
            linkedSize = linkedSize ?? response.header("X-Linked-Size").flatMap { Int($0) }
            if [301, 302, 303, 307, 308].contains(response.status) {
                guard let location = response.header("Location"),
                    let next = URL(string: location, relativeTo: URL(string: url))?.absoluteString
                else {
                    throw HubError.invalidResponse(
                        operation: operation,
                        detail: "redirect \(response.status) has no usable Location header"
                    )
                }
                var hopMetadata = metadata
                hopMetadata["redirect.hop"] = "\(hop + 1)"
                hopMetadata["redirect.same_origin"] = hubOrigin(next) == hubOrigin(self.endpoint) ? "true" : "false"
                self.logger.debug("Following Hub redirect", metadata: hopMetadata)
                url = next
                continue
            }
            if response.status == 404, response.header("X-Error-Code") == "EntryNotFound" {
                self.logger.debug("Hub file not found", metadata: metadata)
                return nil
            }
            guard response.isSuccess else {
                throw self.hubError(operation, response, repo: repo, type: type, revision: revision, path: normalized)
            }
            try self.verify(response.body, etag: linkedETag, size: linkedSize, operation: operation)
            return response.body
        }
        throw HubError.invalidResponse(
            operation: operation,
            detail: "more than \(HubClient.maxRedirects) redirects"
        )
    }

    /// Returns the web URL of `commit`: `{endpoint}/{prefix}{repo}/commit/{commit}`.
    public func commitURL(repo: String, type: HubRepoType, commit: String) -> String {
        "\(self.endpoint)/\(type.webPrefix)\(repo)/commit/\(commit)"
    }

    /// Throws `HubError.integrity` when `data` differs from the announced size or SHA-256 ETag.
    private func verify(_ data: Data, etag: String?, size: Int?, operation: String) throws {
        if let size, data.count != size {
            throw HubError.integrity(
                operation: operation,
                detail: "received \(data.count) bytes, X-Linked-Size announced \(size)"
            )
        }
        guard var expected = etag else { return }
        if expected.hasPrefix("W/") {
            expected.removeFirst(2)
        }
        expected = expected.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        // Only LFS files carry a SHA-256 ETag; regular files carry the git blob SHA-1, which is not checked.
        guard expected.count == 64, isCommitID(expected) else { return }
        let actual = Digest.sha256(data).hexString
        if actual != expected {
            throw HubError.integrity(
                operation: operation,
                detail: "SHA-256 \(actual) differs from X-Linked-Etag \(expected)"
            )
        }
    }
}

/// Returns whether `value` is a non-empty run of hexadecimal digits, as commit ids and SHA-256 digests are.
func isCommitID(_ value: String) -> Bool {
    !value.isEmpty && value.allSatisfy(\.isHexDigit)
}
