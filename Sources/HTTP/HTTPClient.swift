import CCurl
import Foundation
import Support

/// An HTTP request for `HTTPClient`.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: Data?
    /// The URL as it may appear in logs and errors. Defaults to the URL without its query string and without any
    /// `user:password@` part; set it to `redactedURL(url)` when the path itself carries a secret, as webhook
    /// URLs do.
    public var displayURL: String
    /// Whether a 3xx response is followed. Off by default so that callers see redirects.
    public var followRedirects: Bool

    public init(
        method: String,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        displayURL: String? = nil,
        followRedirects: Bool = false
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.displayURL = displayURL ?? HTTPClientRequest.defaultDisplayURL(url)
        self.followRedirects = followRedirects
    }

    static func defaultDisplayURL(_ url: String) -> String {
        let withoutQuery = String(url.split(separator: "?", maxSplits: 1).first ?? Substring(url))
        guard var components = URLComponents(string: withoutQuery) else { return "[unparsable URL]" }
        if components.user != nil || components.password != nil {
            components.user = nil
            components.password = nil
        }
        components.fragment = nil
        return components.string ?? "[unparsable URL]"
    }

    /// Returns a request with `object` as its JSON body and the JSON content type set.
    public static func json(
        _ method: String,
        _ url: String,
        _ object: Any,
        headers: [(name: String, value: String)] = []
    )
        throws -> HTTPClientRequest
    {
        let body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return HTTPClientRequest(
            method: method,
            url: url,
            headers: headers + [("Content-Type", "application/json")],
            body: body
        )
    }
}

/// The response to an `HTTPClientRequest`.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, headers: [(name: String, value: String)], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Returns the last value of header `name`, compared without regard to case.
    public func header(_ name: String) -> String? {
        self.headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as a JSON value, or nil when it is not JSON.
    public var json: Any? {
        try? JSONSerialization.jsonObject(with: self.body, options: [.fragmentsAllowed])
    }

    public var isSuccess: Bool { (200..<300).contains(self.status) }
}

/// Errors from `HTTPClient`. None of them contains a header value or a request body.
public enum HTTPClientError: Error, CustomStringConvertible, Sendable {
    /// The request could not be completed: DNS, connect, TLS, timeout or a dropped connection.
    case transport(method: String, url: String, code: Int, message: String)
    /// Every attempt allowed by the retry policy failed; `last` is the final response's status.
    case retriesExhausted(method: String, url: String, attempts: Int, lastStatus: Int?, lastError: String?)
    /// The caller's cancellation signal was raised while waiting to retry.
    case cancelled(method: String, url: String)

    public var description: String {
        switch self {
        case .transport(let method, let url, let code, let message):
            return "\(method) \(url) failed: \(message) (curl error \(code))"
        case .retriesExhausted(let method, let url, let attempts, let status, let error):
            let last = status.map { "HTTP \($0)" } ?? error ?? "unknown error"
            return "\(method) \(url) failed after \(attempts) attempts; last result: \(last)"
        case .cancelled(let method, let url):
            return "\(method) \(url) was cancelled while waiting to retry"
        }
    }

    /// Whether the failure happened before any response arrived, so trying again may help.
    public var isTransport: Bool {
        if case .transport = self { return true }
        return false
    }
}

/// When and how often a request is retried.
public struct RetryPolicy: Sendable {
    /// The number of attempts in total, including the first.
    public var maxAttempts: Int
    /// The delay before the first retry, in seconds; each later delay doubles, with full jitter.
    public var baseDelay: Double
    /// The maximum delay between attempts, in seconds, including one requested by `Retry-After`.
    public var maxDelay: Double
    /// Statuses that are retried. Transport errors are always retried while attempts remain.
    public var retryableStatuses: Set<Int>

    public init(
        maxAttempts: Int,
        baseDelay: Double,
        maxDelay: Double,
        retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.retryableStatuses = retryableStatuses
    }

    /// The default for idempotent API calls: 6 attempts, 1 s doubling to at most 60 s.
    public static let standard = RetryPolicy(maxAttempts: 6, baseDelay: 1, maxDelay: 60)

    /// One attempt and no retry, for calls that must never be repeated blindly (machine create, Hub commit).
    public static let never = RetryPolicy(maxAttempts: 1, baseDelay: 0, maxDelay: 0)

    /// Returns the delay before retry number `retry` (1 for the first retry), honouring `retryAfter` when the
    /// server sent one. Without it the delay is a random value in [0, base * 2^(retry-1)], capped at `maxDelay`
    /// ("full jitter"), so clients that failed together do not retry together.
    public func delay(beforeRetry retry: Int, retryAfter: Double?) -> Double {
        if let retryAfter {
            return min(max(retryAfter, 0), self.maxDelay)
        }
        let ceiling = min(self.maxDelay, self.baseDelay * pow(2, Double(retry - 1)))
        return Double.random(in: (ceiling / 2)...max(ceiling / 2, ceiling))
    }
}

/// Parses a `Retry-After` value, either delta-seconds or an HTTP date, into seconds from `now`.
public func parseRetryAfter(_ value: String?, now: Date = Date()) -> Double? {
    guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
    if let seconds = Double(value) {
        return max(0, seconds)
    }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    if let date = formatter.date(from: value) {
        return max(0, date.timeIntervalSince(now))
    }
    return nil
}

/// The one HTTP client on libcurl that every nightshift remote call goes through.
///
/// Each call runs on the calling thread and blocks until it completes. TLS peer and host verification are always
/// on and cannot be turned off. Retries follow a `RetryPolicy`: statuses in its retryable set and transport errors
/// are retried with exponential backoff and jitter, and `Retry-After` is honoured. Logs name the method, the
/// display URL and the status, never a header or a body.
public final class HTTPClient: Sendable {
    public let connectTimeout: Double
    public let totalTimeout: Double
    public let userAgent: String
    public let logger: Logger
    /// Sleeps between retries; returns false when the wait was cut short by cancellation. Public so that API
    /// clients which retry at a higher level (create-then-look-up) wait through the same hook tests replace.
    public let sleep: @Sendable (Double, Signal?) -> Bool

    public init(
        connectTimeout: Double = 10,
        totalTimeout: Double = 120,
        userAgent: String = "nightshift/\(NightshiftVersion.current)",
        logger: Logger,
        sleep: (@Sendable (Double, Signal?) -> Bool)? = nil
    ) {
        HTTPClient.initializeCurl
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.userAgent = userAgent
        self.logger = logger
        self.sleep =
            sleep ?? { seconds, cancel in
                if let cancel {
                    return !cancel.wait(seconds: seconds)
                }
                Thread.sleep(forTimeInterval: seconds)
                return true
            }
    }

    private static let initializeCurl: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// Sends `request`, retrying as `retry` allows, and returns the final response.
    ///
    /// A response with a non-retryable status, including 4xx, is returned, not thrown. Throws
    /// `HTTPClientError.retriesExhausted` when the last attempt still got a retryable status or a transport error
    /// and more than one attempt was allowed, or `.transport` when only one attempt was allowed.
    public func send(_ request: HTTPClientRequest, retry: RetryPolicy = .standard, cancel: Signal? = nil) throws
        -> HTTPClientResponse
    {
        try self.retrying(request, retry: retry, cancel: cancel) {
            HTTPTransferResponse(response: try self.performOnce(request), fileStart: 0, fileBytesWritten: 0)
        }.response
    }

    /// Runs `attempt` until it returns a status outside `retry.retryableStatuses`, or attempts run out, with the
    /// semantics documented on `send`.
    func retrying(
        _ request: HTTPClientRequest,
        retry: RetryPolicy,
        cancel: Signal?,
        attempt perform: () throws -> HTTPTransferResponse
    ) throws -> HTTPTransferResponse {
        var attempt = 0
        while true {
            attempt += 1
            let started = Date()
            var retryAfter: Double? = nil
            var lastStatus: Int? = nil
            var lastError: HTTPClientError? = nil
            do {
                let result = try perform()
                let response = result.response
                let elapsed = Date().timeIntervalSince(started)
                self.logger.debug(
                    "HTTP response",
                    metadata: [
                        "http.method": request.method, "http.url": request.displayURL,
                        "http.status": "\(response.status)", "http.attempt": "\(attempt)",
                        "http.duration_ms": "\(Int(elapsed * 1000))",
                    ]
                )
                guard retry.retryableStatuses.contains(response.status) else { return result }
                lastStatus = response.status
                retryAfter = parseRetryAfter(response.header("Retry-After"))
                if attempt >= retry.maxAttempts {
                    if retry.maxAttempts == 1 { return result }
                    throw HTTPClientError.retriesExhausted(
                        method: request.method,
                        url: request.displayURL,
                        attempts: attempt,
                        lastStatus: response.status,
                        lastError: nil
                    )
                }
            } catch let error as HTTPClientError where error.isTransport {
                lastError = error
                if attempt >= retry.maxAttempts {
                    if retry.maxAttempts == 1 { throw error }
                    throw HTTPClientError.retriesExhausted(
                        method: request.method,
                        url: request.displayURL,
                        attempts: attempt,
                        lastStatus: nil,
                        lastError: error.description
                    )
                }
            }
            let delay = retry.delay(beforeRetry: attempt, retryAfter: retryAfter)
            self.logger.warning(
                "HTTP request failed, retrying",
                metadata: [
                    "http.method": request.method, "http.url": request.displayURL,
                    "http.status": lastStatus.map(String.init) ?? "none",
                    "error": lastError?.description ?? "retryable status",
                    "http.attempt": "\(attempt)", "retry.delay_s": String(format: "%.2f", delay),
                ]
            )
            guard self.sleep(delay, cancel) else {
                throw HTTPClientError.cancelled(method: request.method, url: request.displayURL)
            }
        }
    }

    /// Performs exactly one attempt of `request`, with the response body in memory up to `maxInMemoryBodySize`.
    public func performOnce(_ request: HTTPClientRequest) throws -> HTTPClientResponse {
        try self.perform(request, transfer: nil).response
    }
}
