import Foundation
import Support

/// One request received by `WebhookReceiver`.
public struct WebhookDelivery: Sendable {
    public var method: String
    /// The request path, percent-decoded, without the query string.
    public var path: String
    public var headers: [(name: String, value: String)]
    /// The raw body bytes, exactly as they were signed.
    public var body: Data
    public var receivedAt: Date
    /// The status of the receiver's response.
    public var responseStatus: Int
    /// Whether the Standard Webhooks signature checks out, or nil when the receiver has no secret.
    public var signatureValid: Bool?

    /// Returns the first value of header `name`, compared without regard to case.
    public func header(_ name: String) -> String? {
        self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as UTF-8 text.
    public var bodyText: String {
        String(decoding: self.body, as: UTF8.self)
    }

    /// The body parsed as JSON, or nil when it is not JSON.
    public var json: Any? {
        try? JSONSerialization.jsonObject(with: self.body, options: [.fragmentsAllowed])
    }

    /// The body as a JSON object, or nil when it is something else.
    public var jsonObject: [String: Any]? {
        self.json as? [String: Any]
    }
}

/// A programmed response of `WebhookReceiver`.
public struct WebhookReply: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// Seconds to wait before responding, to make a client time out.
    public var delay: Double

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data(), delay: Double = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delay = delay
    }

    /// Returns a reply with a plain-text body.
    public static func text(_ status: Int, _ text: String, headers: [(name: String, value: String)] = [])
        -> WebhookReply
    {
        WebhookReply(
            status: status,
            headers: [("Content-Type", "text/plain; charset=utf-8")] + headers,
            body: Data(text.utf8)
        )
    }

    /// Slack's response to a delivered message: 200 with the body `ok`.
    public static let slackOK = WebhookReply.text(200, "ok")

    /// The response of a generic receiver that accepted the request.
    public static let accepted = WebhookReply(status: 204)

    /// Returns a Slack error response, such as `slackError(404, "no_service")` or `slackError(400, "invalid_payload")`.
    public static func slackError(_ status: Int, _ code: String) -> WebhookReply {
        WebhookReply.text(status, code)
    }

    /// 429 with a `Retry-After` header in seconds.
    public static func tooManyRequests(retryAfter seconds: Int) -> WebhookReply {
        WebhookReply.text(429, "rate_limited", headers: [("Retry-After", String(seconds))])
    }

    /// 500 with a short body.
    public static let serverError = WebhookReply.text(500, "internal error")

    /// Returns this reply sent after waiting `seconds`.
    public func delayed(by seconds: Double) -> WebhookReply {
        var copy = self
        copy.delay = seconds
        return copy
    }
}

/// A stand-in for chat webhooks and generic webhook endpoints, on `LoopbackHTTPServer`.
///
/// It records every request, checks Standard Webhooks signatures with its own code (not the sender's) when it
/// has a secret, and responds from a queue of programmed replies. With the queue empty it responds like the
/// real service: 200 `ok` under the Slack path prefix `/services/`, and 204 elsewhere. `simulateDown()` closes
/// the port and a later `start()` listens on the same port again.
public final class WebhookReceiver: @unchecked Sendable {
    /// The path prefix of Slack incoming webhooks, which look like `/services/T…/B…/<token>`.
    public static let slackPathPrefix = "/services/"

    private let secret: String?
    private let timestampTolerance: Double
    private let condition = NSCondition()
    private let listener = RestartableServer()
    /// The port of the first start, reused by every later start.
    private var replies: [WebhookReply] = []
    private var recorded: [WebhookDelivery] = []

    /// Creates a receiver. `secret` is a Standard Webhooks secret: `whsec_<base64>`, or any other string used as
    /// raw bytes. `timestampTolerance` is the maximum distance in seconds of `webhook-timestamp` from the receive time.
    public init(secret: String? = nil, timestampTolerance: Double = 300) {
        self.secret = secret
        self.timestampTolerance = timestampTolerance
    }

    /// Starts listening: on a free port the first time, and on that same port after `stop()` or `simulateDown()`.
    public func start() throws {
        try self.listener.start { [self] request in self.handle(request) }
    }

    /// Stops listening and closes open connections.
    public func stop() {
        self.listener.stop()
    }

    /// Stops listening so that clients get "connection refused", as from a receiver that is down. The port is
    /// kept, so `start()` brings the receiver back at the same URL.
    public func simulateDown() {
        self.stop()
    }

    /// Whether the receiver is listening.
    public var isUp: Bool {
        self.listener.isUp
    }

    /// `http://127.0.0.1:<port>`; valid after the first `start()`.
    public var baseURL: String {
        self.listener.baseURL
    }

    /// Returns the URL of `path`, which should start with `/`.
    public func url(path: String) -> String {
        self.baseURL + path
    }

    /// Returns a URL shaped like a Slack incoming webhook, with `token` as its secret last segment.
    public func slackURL(token: String = "XXXXXXXXXXXXXXXXXXXXXXXX") -> String {
        self.url(path: "\(WebhookReceiver.slackPathPrefix)T00000000/B00000000/\(token)")
    }

    /// Queues `replies` for the next requests, one each, in order. Later requests get the default response.
    public func respond(with replies: [WebhookReply]) {
        self.condition.lock()
        self.replies.append(contentsOf: replies)
        self.condition.unlock()
    }

    /// Queues `reply` for the next `times` requests.
    public func respond(with reply: WebhookReply, times: Int = 1) {
        self.respond(with: Array(repeating: reply, count: max(0, times)))
    }

    /// Every request received so far, in arrival order.
    public var deliveries: [WebhookDelivery] {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.recorded
    }

    /// Waits until at least `count` requests have arrived or `timeout` seconds have passed. Returns true when
    /// they arrived.
    public func waitForDeliveries(count: Int, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.recorded.count < count {
            if !self.condition.wait(until: deadline) {
                return self.recorded.count >= count
            }
        }
        return true
    }

    private func handle(_ request: HTTPRequest) -> HTTPResponse {
        let now = Date()
        let valid = self.secret.map { secret in
            WebhookReceiver.verifySignature(
                secret: secret,
                id: request.header("webhook-id"),
                timestamp: request.header("webhook-timestamp"),
                signatureHeader: request.header("webhook-signature"),
                body: request.body,
                now: now,
                tolerance: self.timestampTolerance
            )
        }
        self.condition.lock()
        let reply: WebhookReply
        if self.replies.isEmpty {
            reply = request.path.hasPrefix(WebhookReceiver.slackPathPrefix) ? .slackOK : .accepted
        } else {
            reply = self.replies.removeFirst()
        }
        self.recorded.append(
            WebhookDelivery(
                method: request.method,
                path: request.path,
                headers: request.headers,
                body: request.body,
                receivedAt: now,
                responseStatus: reply.status,
                signatureValid: valid
            )
        )
        self.condition.broadcast()
        self.condition.unlock()

        if reply.delay > 0 {
            Thread.sleep(forTimeInterval: reply.delay)
        }
        return HTTPResponse(status: reply.status, headers: reply.headers, body: reply.body)
    }

    /// Checks a Standard Webhooks signature: HMAC-SHA256 over `<id>.<timestamp>.<body>` with the secret's key,
    /// compared in constant time with each `v1,<base64>` entry of the space-separated header.
    ///
    /// Returns false when a header is missing, the timestamp is not an integer or is more than `tolerance`
    /// seconds from `now`, or the secret is a `whsec_` value that is not base64.
    public static func verifySignature(
        secret: String,
        id: String?,
        timestamp: String?,
        signatureHeader: String?,
        body: Data,
        now: Date = Date(),
        tolerance: Double = 300
    ) -> Bool {
        guard let id, let timestamp, let signatureHeader, let seconds = Int(timestamp) else { return false }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= tolerance else { return false }
        guard let key = WebhookReceiver.keyBytes(of: secret) else { return false }

        var signed = Array("\(id).\(timestamp).".utf8)
        signed.append(contentsOf: body)
        let expected = Digest.hmacSHA256(key: key, message: signed)

        var matched = false
        for entry in signatureHeader.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let given = Data(base64Encoded: String(parts[1])) else {
                continue
            }
            if WebhookReceiver.constantTimeEqual(Array(given), expected) {
                matched = true
            }
        }
        return matched
    }

    private static func keyBytes(of secret: String) -> [UInt8]? {
        let prefix = "whsec_"
        guard secret.hasPrefix(prefix) else { return Array(secret.utf8) }
        var base64 = String(secret.dropFirst(prefix.count))
        while base64.count % 4 != 0 {
            base64.append("=")
        }
        return Data(base64Encoded: base64).map { Array($0) }
    }

    /// Compares every byte even after a difference, so the time taken does not reveal where they differ.
    private static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }
}
