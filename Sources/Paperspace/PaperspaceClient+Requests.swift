import Foundation
import HTTP
import Support

/// One API call: what `PaperspaceClient.send` needs to build, log and describe a request.
struct APICall {
    /// A short description for logs and errors, such as `stop machine psabc123`.
    var operation: String
    var method: String
    /// Path segments below the endpoint; each is percent-encoded when the URL is built.
    var path: [String]
    var query: [(name: String, value: String)] = []
    var body: [String: Any]? = nil
    var metadata: Logger.Metadata = [:]
}

extension PaperspaceClient {
    /// Sends `call` and returns the response whatever its status.
    ///
    /// Throws `PaperspaceError.transport` when no response arrived or when `retry` ran out of attempts.
    func send(_ call: APICall, retry: RetryPolicy) throws -> HTTPClientResponse {
        var headers: [(name: String, value: String)] = [
            ("Authorization", "Bearer \(self.apiKey)"),
            ("Accept", "application/json"),
        ]
        var body: Data? = nil
        if let object = call.body {
            do {
                body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            } catch {
                throw PaperspaceError.invalidRequest(operation: call.operation, detail: "the body is not valid JSON")
            }
            headers.append(("Content-Type", "application/json"))
        }
        let request = HTTPClientRequest(method: call.method, url: self.url(for: call), headers: headers, body: body)
        var metadata = call.metadata
        metadata["operation"] = call.operation
        metadata["http.method"] = call.method
        self.logger.debug("Sending Paperspace request", metadata: metadata)
        do {
            return try self.http.send(request, retry: retry)
        } catch let error as HTTPClientError {
            throw PaperspaceError.transport(operation: call.operation, error)
        }
    }

    /// Sends `call` for every page of a list endpoint and returns the items of all pages in order.
    ///
    /// Pages are requested with `limit=120` and `after=<nextPage>` while `hasMore` is true. When `hasMore` is
    /// missing, a non-empty `nextPage` still counts as another page. A page that claims more without a cursor, or
    /// a cursor seen before, is an invalid response rather than a silently short list, because callers use these
    /// lists to avoid creating duplicates.
    func listAllPages(_ call: APICall) throws -> [Any] {
        var cursor: String? = nil
        var seenCursors: Set<String> = []
        var items: [Any] = []
        for page in 1...PaperspaceClient.maxPages {
            var pageCall = call
            pageCall.query.append((name: "limit", value: "\(PaperspaceClient.pageSize)"))
            if let cursor {
                pageCall.query.append((name: "after", value: cursor))
            }
            pageCall.metadata["page"] = "\(page)"
            let response = try self.send(pageCall, retry: self.retry)
            guard response.isSuccess else {
                throw self.apiError(call.operation, response)
            }
            guard let object = response.json as? [String: Any], let pageItems = object["items"] as? [Any] else {
                throw PaperspaceError.invalidResponse(
                    operation: call.operation,
                    detail: "expected {hasMore, items, nextPage}, got: \(self.snippet(response.body))"
                )
            }
            items += pageItems
            let fields = JSONFields(object)
            switch (fields.bool("hasMore"), fields.nonEmptyString("nextPage")) {
            case (false?, _), (nil, nil):
                return items
            case (true?, nil):
                throw PaperspaceError.invalidResponse(
                    operation: call.operation,
                    detail: "page \(page) has hasMore true but no nextPage cursor"
                )
            case (_, let next?):
                guard seenCursors.insert(next).inserted else {
                    throw PaperspaceError.invalidResponse(
                        operation: call.operation,
                        detail: "page \(page) repeats the nextPage cursor \(next)"
                    )
                }
                cursor = next
            }
        }
        throw PaperspaceError.invalidResponse(
            operation: call.operation,
            detail: "the listing did not end after \(PaperspaceClient.maxPages) pages"
        )
    }

    /// Turns an error response into `PaperspaceError.api`.
    ///
    /// The documented body is `{code, message, details?}`, with `issues: [{message}]` in some responses. Both
    /// extras are appended to the message. Any other body is reported by status and its first 200 characters.
    func apiError(_ operation: String, _ response: HTTPClientResponse) -> PaperspaceError {
        guard let object = response.json as? [String: Any], let message = object["message"] as? String else {
            return .api(operation: operation, status: response.status, code: nil, message: self.snippet(response.body))
        }
        var full = message
        let issues = (object["issues"] as? [Any])?.compactMap { ($0 as? [String: Any])?["message"] as? String } ?? []
        if !issues.isEmpty {
            full += " (" + issues.joined(separator: "; ") + ")"
        }
        if let details = object["details"], !(details is NSNull),
            let data = try? JSONSerialization.data(withJSONObject: details, options: [.sortedKeys, .fragmentsAllowed])
        {
            // Secrets are removed before the text is cut, so a secret that crosses the cut cannot show in part.
            let redacted = self.redact(String(decoding: data, as: UTF8.self))
            full += " details: " + String(redacted.prefix(400))
        }
        return .api(
            operation: operation,
            status: response.status,
            code: JSONFields(object).nonEmptyString("code"),
            message: self.redact(full)
        )
    }

    /// Returns the first 200 characters of `body` on one line, with secrets removed before it is cut.
    func snippet(_ body: Data) -> String {
        let text = self.redact(String(decoding: body.prefix(8192), as: UTF8.self))
        let oneLine = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return String(oneLine.trimmingCharacters(in: .whitespaces).prefix(200))
    }

    /// Removes this client's API key and every secret registered with `SecretRedactor` from `text`.
    func redact(_ text: String) -> String {
        var result = text
        let key = self.apiKey
        if !key.isEmpty {
            result = result.replacingOccurrences(of: key, with: "[REDACTED]")
        }
        return SecretRedactor.shared.redact(result)
    }

    private func url(for call: APICall) -> String {
        var url = self.endpoint + "/" + call.path.map(percentEncoded).joined(separator: "/")
        if !call.query.isEmpty {
            url +=
                "?" + call.query.map { "\(percentEncoded($0.name))=\(percentEncoded($0.value))" }.joined(separator: "&")
        }
        return url
    }
}

/// Characters that stay literal in a path segment or query value: the RFC 3986 unreserved set.
private let unreservedCharacters = CharacterSet(
    charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)

/// Returns `value` with everything outside the unreserved set percent-encoded, `/` and space included.
func percentEncoded(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: unreservedCharacters) ?? value
}
