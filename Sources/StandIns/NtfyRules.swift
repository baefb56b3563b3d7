import Foundation

/// An ntfy server's publish endpoints, as a stand-in applies them: JSON to `POST /`, or a raw body to
/// `POST /<topic>` with `X-Title`, `X-Priority` and `X-Tags` headers.
///
/// Topic names are 1 to 64 characters of letters, digits, `-` and `_`. With a `token` set, a request without
/// `Authorization: Bearer <token>` gets 403 and one with another token 401. A message over `messageLimit` UTF-8
/// bytes gets 413, which is what a server without an attachment store does. A priority outside 1 to 5 gets 400.
/// Success is 200 with the stored message as JSON. A rate limit is 429 with ntfy's JSON error and no
/// `Retry-After`.
public struct NtfyRules: ChatServiceRules {
    public let token: String?
    public let messageLimit: Int

    /// The published message as a JSON object, or the response that rejects the request.
    public enum Parsed {
        case success([String: Any])
        case failure(HTTPResponse)
    }

    public init(token: String? = nil, messageLimit: Int = 4096) {
        self.token = token
        self.messageLimit = messageLimit
    }

    private static func error(_ status: Int, _ code: Int, _ message: String) -> HTTPResponse {
        .json(status, ["code": code, "http": status, "error": message])
    }

    private static func isTopic(_ name: String) -> Bool {
        (1...64).contains(name.count)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Returns the message a request publishes, or the rejection.
    public static func message(of request: HTTPRequest) -> NtfyRules.Parsed {
        if request.path == "/" || request.path.isEmpty {
            guard let body = request.jsonBody as? [String: Any] else {
                return .failure(NtfyRules.error(400, 40024, "invalid request: request body must be JSON"))
            }
            return .success(body)
        }
        let topic = String(request.path.dropFirst())
        var message: [String: Any] = ["topic": topic, "message": String(decoding: request.body, as: UTF8.self)]
        message["title"] = request.header("X-Title") ?? request.header("Title")
        if let priority = request.header("X-Priority") ?? request.header("Priority") {
            message["priority"] = Int(priority) ?? -1
        }
        if let tags = request.header("X-Tags") ?? request.header("Tags") {
            message["tags"] = tags.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return .success(message)
    }

    public func check(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.method == "POST" || request.method == "PUT" else {
            return NtfyRules.error(405, 40500, "method not allowed")
        }
        if let token = self.token {
            guard let authorization = request.header("Authorization") else {
                return NtfyRules.error(403, 40301, "forbidden")
            }
            guard authorization == "Bearer \(token)" else {
                return NtfyRules.error(401, 40101, "unauthorized")
            }
        }
        let message: [String: Any]
        switch NtfyRules.message(of: request) {
        case .failure(let rejection): return rejection
        case .success(let parsed): message = parsed
        }
        guard let topic = message["topic"] as? String, NtfyRules.isTopic(topic) else {
            return NtfyRules.error(400, 40010, "invalid request: topic invalid")
        }
        if let priority = message["priority"] {
            guard let number = priority as? Int, (1...5).contains(number) else {
                return NtfyRules.error(400, 40007, "invalid priority")
            }
        }
        if let text = message["message"] as? String, text.utf8.count > self.messageLimit {
            return NtfyRules.error(413, 41301, "request entity too large: message too large and attachments disabled")
        }
        return nil
    }

    public func success(for request: HTTPRequest) -> HTTPResponse {
        var stored: [String: Any] = [:]
        if case .success(let message) = NtfyRules.message(of: request) {
            stored = message
        }
        stored["id"] = "hwQ2YpKdmg"
        stored["time"] = Int(Date().timeIntervalSince1970)
        stored["event"] = "message"
        return .json(200, stored)
    }

    public func rateLimited(retryAfter: Double) -> HTTPResponse {
        NtfyRules.error(429, 42901, "limit reached: too many requests, please be nice")
    }

    public func serverError() -> HTTPResponse {
        NtfyRules.error(500, 50001, "internal server error")
    }
}
