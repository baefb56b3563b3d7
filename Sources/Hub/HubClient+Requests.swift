import Foundation
import HTTP
import Support

extension HubClient {
    /// Sends one request and returns the response whatever its status.
    ///
    /// The token goes only to URLs with the endpoint's origin (scheme, host and port), so a redirect or `Link`
    /// to storage elsewhere never receives it. Throws `HubError.transport` when no response arrived or `retry`
    /// ran out of attempts.
    func send(
        _ operation: String,
        method: String,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        retry: RetryPolicy,
        metadata: Logger.Metadata = [:]
    ) throws -> HTTPClientResponse {
        var allHeaders = headers
        let sendsToken = self.token.map { !$0.isEmpty } == true && hubOrigin(url) == hubOrigin(self.endpoint)
        if sendsToken, let token = self.token {
            allHeaders.append(("Authorization", "Bearer \(token)"))
        }
        var context = metadata
        context["operation"] = operation
        context["http.method"] = method
        context["hub.auth"] = sendsToken ? "token" : "none"
        self.logger.debug("Sending Hub request", metadata: context)
        let request = HTTPClientRequest(method: method, url: url, headers: allHeaders, body: body)
        do {
            return try self.http.send(request, retry: retry)
        } catch let error as HTTPClientError {
            throw HubError.transport(operation: operation, error)
        }
    }

    /// Sends one streaming request (a file-region body, a file-bound response, progress, cancellation).
    ///
    /// The token is added only when `sendsToken` is set and `url` has the endpoint's origin. LFS part PUTs and
    /// the multipart completion send none, as the official client does, since their URLs are presigned.
    func sendTransfer(
        _ operation: String,
        method: String,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        transfer: HTTPTransfer,
        retry: RetryPolicy,
        sendsToken: Bool = true,
        metadata: Logger.Metadata = [:]
    ) throws -> HTTPTransferResponse {
        var allHeaders = headers
        let withToken = sendsToken && self.hasToken && hubOrigin(url) == hubOrigin(self.endpoint)
        if withToken, let token = self.token {
            allHeaders.append(("Authorization", "Bearer \(token)"))
        }
        var context = metadata
        context["operation"] = operation
        context["http.method"] = method
        context["hub.auth"] = withToken ? "token" : "none"
        self.logger.debug("Sending Hub transfer", metadata: context)
        let request = HTTPClientRequest(method: method, url: url, headers: allHeaders, body: body)
        do {
            return try self.http.transfer(request, transfer, retry: retry)
        } catch let error as HTTPClientError {
            if case .cancelled = error {
                throw HubError.cancelled(operation: operation)
            }
            throw HubError.transport(operation: operation, error)
        }
    }

    /// Turns an error response into a `HubError`, by its `X-Error-Code` header first and its status second.
    func hubError(
        _ operation: String,
        _ response: HTTPClientResponse,
        repo: String,
        type: HubRepoType,
        revision: String,
        path: String? = nil
    ) -> HubError {
        let code = response.header("X-Error-Code")
        let message = self.redact(response.header("X-Error-Message") ?? self.bodyMessage(response.body))
        switch code {
        case "RepoNotFound":
            return .repoNotFound(operation: operation, repo: repo, type: type, tokenSent: self.hasToken)
        case "GatedRepo":
            return .gatedRepo(operation: operation, repo: repo, message: message)
        case "RevisionNotFound":
            return .revisionNotFound(operation: operation, repo: repo, revision: revision)
        case "EntryNotFound":
            return .entryNotFound(operation: operation, repo: repo, revision: revision, path: path ?? "")
        default:
            break
        }
        switch response.status {
        case 401:
            return .unauthorized(operation: operation, message: message)
        case 412:
            return .commitConflict(operation: operation, repo: repo, revision: revision, message: message)
        default:
            return .http(operation: operation, status: response.status, code: code, message: message)
        }
    }

    /// Returns the error text of a body in the shapes the Hub uses: `{"error": "..." | ["..."]}`,
    /// `{"errors": [{"message"}]}`, or plain text, of which the first 200 characters are kept.
    private func bodyMessage(_ body: Data) -> String {
        if let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] {
            var parts: [String] = []
            if let error = object["error"] as? String {
                parts.append(error)
            } else if let errors = object["error"] as? [Any] {
                parts += errors.compactMap { $0 as? String }
            }
            if let description = object["error_description"] as? String {
                parts.append(description)
            }
            if let errors = object["errors"] as? [Any] {
                parts += errors.compactMap { ($0 as? [String: Any])?["message"] as? String }
            }
            if !parts.isEmpty {
                return parts.joined(separator: "; ")
            }
        }
        let text = self.redact(String(decoding: body.prefix(8192), as: UTF8.self))
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return String(oneLine.trimmingCharacters(in: .whitespaces).prefix(200))
    }

    /// Removes this client's token and every secret registered with `SecretRedactor` from `text`.
    func redact(_ text: String) -> String {
        var result = text
        if let token = self.token, !token.isEmpty {
            result = result.replacingOccurrences(of: token, with: "[REDACTED]")
        }
        return SecretRedactor.shared.redact(result)
    }

    var hasToken: Bool {
        self.token.map { !$0.isEmpty } ?? false
    }

    /// Returns the API base for a repo: `{endpoint}/api/{type}s/{namespace}/{name}`.
    func apiBase(_ repo: String, _ type: HubRepoType) -> String {
        "\(self.endpoint)/api/\(type.apiSegment)/\(encodedPath(repo))"
    }

    /// Throws unless `repo` is `name` or `namespace/name` made of letters, digits, `-`, `_` and `.`.
    func checkRepoID(_ repo: String, operation: String) throws {
        let segments = repo.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        let valid =
            (1...2).contains(segments.count)
            && segments.allSatisfy { segment in
                !segment.isEmpty && segment != "." && segment != ".."
                    && segment.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) }
            }
        guard valid else {
            throw HubError.invalidArgument(
                operation: operation,
                detail: "repo id \"\(repo)\" is not of the form namespace/name"
            )
        }
    }

    /// Returns `path` without leading `/` or `./`, or throws when it is empty, contains a `.`, `..`, `.git` or
    /// `.cache` component or a backslash, which the Hub rejects or clients must never write.
    func normalizedRepoPath(_ path: String, operation: String) throws -> String {
        var trimmed = Substring(path)
        while trimmed.hasPrefix("/") || trimmed.hasPrefix("./") {
            trimmed = trimmed.hasPrefix("/") ? trimmed.dropFirst() : trimmed.dropFirst(2)
        }
        let components = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        let forbidden: Set<Substring> = [".", "..", ".git", ".cache"]
        let invalid =
            trimmed.isEmpty || trimmed.contains("\\")
            || components.contains { $0.isEmpty || forbidden.contains($0) }
        guard !invalid else {
            throw HubError.invalidArgument(
                operation: operation,
                detail: "path \"\(path)\" is empty or contains an empty, ., .., .git or .cache component or a backslash"
            )
        }
        return String(trimmed)
    }
}

/// Characters that stay literal in an encoded URL component: the RFC 3986 unreserved set, as Python's `quote`.
private let unreservedCharacters = CharacterSet(
    charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)

/// Returns `value` as one path segment, `/` included in the encoding: `refs/pr/1` becomes `refs%2Fpr%2F1`.
func encodedComponent(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: unreservedCharacters) ?? value
}

/// Returns `value` percent-encoded segment by segment, keeping `/` between segments.
func encodedPath(_ value: String) -> String {
    value.split(separator: "/", omittingEmptySubsequences: false).map { encodedComponent(String($0)) }
        .joined(separator: "/")
}

/// Returns `scheme://host:port` of `url` with the default port filled in, or nil for a URL without a host.
func hubOrigin(_ url: String) -> String? {
    guard let components = URLComponents(string: url),
        let scheme = components.scheme?.lowercased(),
        let host = components.host?.lowercased()
    else {
        return nil
    }
    var port = components.port ?? -1
    if components.port == nil {
        switch scheme {
        case "https": port = 443
        case "http": port = 80
        default: break
        }
    }
    return "\(scheme)://\(host):\(port)"
}

/// Returns the target of the `rel="next"` link in a `Link` header, or nil.
func nextLinkTarget(_ header: String?) -> String? {
    guard let header else { return nil }
    var rest = Substring(header)
    while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
        let target = rest[rest.index(after: open)..<close]
        let afterTarget = rest[rest.index(after: close)...]
        let parameters = afterTarget.prefix { $0 != "<" }
        let relations = parameters.split(separator: ";").compactMap { parameter -> [Substring]? in
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "rel" else {
                return nil
            }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: " \"',"))
            return value.split(separator: " ").map { Substring($0.lowercased()) }
        }
        if relations.contains(where: { $0.contains("next") }) {
            return String(target)
        }
        rest = afterTarget
    }
    return nil
}
