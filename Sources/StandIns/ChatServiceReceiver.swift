import Foundation
import Support

/// The rules of one chat service as its stand-in applies them: the requests it accepts and its responses.
public protocol ChatServiceRules: Sendable {
    /// Returns nil when the real service would accept `request`, or the response with which it rejects it.
    func check(_ request: HTTPRequest) -> HTTPResponse?
    /// Returns the response to an accepted request.
    func success(for request: HTTPRequest) -> HTTPResponse
    /// Returns the service's response to a request over its rate limit, which requests a wait of `retryAfter` seconds.
    func rateLimited(retryAfter: Double) -> HTTPResponse
    /// Returns the service's response when it fails internally.
    func serverError() -> HTTPResponse
}

/// A programmed response of `ChatServiceReceiver` for one request.
public enum ChatReceiverFault: Sendable {
    /// The service's rate-limit response, in its own retry-after form.
    case rateLimited(retryAfter: Double)
    /// The service's 5xx response.
    case serverError
    /// The normal response (accept or reject by the rules), sent after `seconds`.
    case slow(seconds: Double)
    /// Exactly this response.
    case custom(HTTPResponse)
}

/// One request received by a `ChatServiceReceiver` and how it was answered.
public struct ReceivedChatRequest: Sendable {
    public var request: HTTPRequest
    public var status: Int
    /// The rules' reason for rejecting the request, as the response body, or nil when it was not rejected by them.
    public var rejection: String?
    public var receivedAt: Date

    /// Whether the service accepted the message.
    public var accepted: Bool { (200..<300).contains(self.status) }

    /// The body parsed as a JSON object, or nil.
    public var json: [String: Any]? { self.request.jsonBody as? [String: Any] }
}

/// A stand-in chat service on `LoopbackHTTPServer`: it checks each request with the service's rules, answers
/// like the service, records everything, and can be rate limited, failing, slow or down on demand.
public final class ChatServiceReceiver: @unchecked Sendable {
    public let rules: any ChatServiceRules
    private let condition = NSCondition()
    private let listener = RestartableServer()
    private var faults: [ChatReceiverFault] = []
    private var recorded: [ReceivedChatRequest] = []
    private var baseDelay: Double = 0

    public init(rules: any ChatServiceRules) {
        self.rules = rules
    }

    /// Starts listening: on a free port the first time, and on that same port after `stop()`.
    public func start() throws {
        try self.listener.start { [self] request in self.handle(request) }
    }

    /// Stops listening, so clients get "connection refused", and closes open connections.
    public func stop() {
        self.listener.stop()
    }

    /// `http://127.0.0.1:<port>`; valid after the first `start()`.
    public var baseURL: String {
        self.listener.baseURL
    }

    /// Queues `faults` for the next requests, one each. Later requests get the normal answer.
    public func respond(with faults: [ChatReceiverFault]) {
        self.condition.lock()
        self.faults.append(contentsOf: faults)
        self.condition.unlock()
    }

    /// Makes every answer wait `seconds` first, as a slow service does.
    public func setDelay(_ seconds: Double) {
        self.condition.lock()
        self.baseDelay = seconds
        self.condition.unlock()
    }

    /// Every request received so far, in arrival order.
    public var requests: [ReceivedChatRequest] {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.recorded
    }

    /// The requests the service accepted.
    public var accepted: [ReceivedChatRequest] {
        self.requests.filter(\.accepted)
    }

    /// Waits until `count` requests were accepted or `timeout` seconds passed. Returns true when they were.
    public func waitForAccepted(count: Int, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.recorded.filter(\.accepted).count < count {
            if !self.condition.wait(until: deadline) {
                return self.recorded.filter(\.accepted).count >= count
            }
        }
        return true
    }

    /// Returns the rules' rejection, with its body as the reason, or their success response.
    private func answer(_ request: HTTPRequest) -> (HTTPResponse, String?) {
        if let rejected = self.rules.check(request) {
            return (rejected, String(decoding: rejected.body, as: UTF8.self))
        }
        return (self.rules.success(for: request), nil)
    }

    private func handle(_ request: HTTPRequest) -> HTTPResponse {
        self.condition.lock()
        let fault = self.faults.isEmpty ? nil : self.faults.removeFirst()
        var delay = self.baseDelay
        self.condition.unlock()

        var rejection: String? = nil
        let response: HTTPResponse
        switch fault {
        case .rateLimited(let seconds):
            response = self.rules.rateLimited(retryAfter: seconds)
        case .serverError:
            response = self.rules.serverError()
        case .custom(let custom):
            response = custom
        case .slow(let seconds):
            delay += seconds
            (response, rejection) = self.answer(request)
        case nil:
            (response, rejection) = self.answer(request)
        }
        if delay > 0 {
            Thread.sleep(forTimeInterval: delay)
        }
        self.condition.lock()
        self.recorded.append(
            ReceivedChatRequest(request: request, status: response.status, rejection: rejection, receivedAt: Date())
        )
        self.condition.broadcast()
        self.condition.unlock()
        return response
    }
}
