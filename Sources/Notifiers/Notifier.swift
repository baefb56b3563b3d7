import Foundation
import HTTP
import Support

/// A destination for run notifications, such as a Slack channel or a signed JSON webhook.
///
/// `deliver` makes exactly one attempt and blocks until it completes. Retrying is the job of
/// `NotificationDispatcher`, which reads `NotifierError.isRetryable` and `retryAfter`.
public protocol Notifier: Sendable {
    /// The name from the config file, used in logs and in `NotificationDispatcher.enqueue(_:to:)`.
    var name: String { get }

    /// Sends `notification` once and returns the receiver's acceptance, or throws `NotifierError`.
    func deliver(_ notification: RunNotification) throws -> DeliveryReceipt
}

/// A receiver's acceptance of one delivery.
public struct DeliveryReceipt: Sendable, Equatable {
    /// The HTTP status, always 2xx.
    public var status: Int
    /// The start of the response body, for logs, as made by `DeliveryReceipt.snippet(of:)`.
    public var responseSnippet: String

    public init(status: Int, responseSnippet: String) {
        self.status = status
        self.responseSnippet = responseSnippet
    }

    /// The maximum number of characters of a response body kept in receipts and errors.
    public static let snippetLimit = 200

    /// Returns the first `snippetLimit` characters of `body` on one line, with control characters replaced
    /// by spaces, so a receiver's response can go into a log line safely.
    public static func snippet(of body: Data) -> String {
        let text = String(decoding: body.prefix(4 * DeliveryReceipt.snippetLimit), as: UTF8.self)
        let cleaned = String(text.map { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true ? " " : $0 })
            .trimmingCharacters(in: .whitespaces)
        guard cleaned.count > DeliveryReceipt.snippetLimit else { return cleaned }
        return String(cleaned.prefix(DeliveryReceipt.snippetLimit)) + "…"
    }
}

/// Errors from one delivery attempt.
///
/// No case contains a webhook URL or a secret. Each carries the notifier's name and `displayURL`, which is the
/// URL reduced to scheme, host and port by `redactedURL`.
public enum NotifierError: Error, CustomStringConvertible, Sendable {
    /// The receiver rejected the delivery with a status that will not change on retry, such as 400, 404 or 410.
    case rejected(notifier: String, displayURL: String, status: Int, response: String, fix: String)
    /// The receiver responded with 429 or 5xx. `retryAfter` is its `Retry-After` value in seconds, when it sent one.
    case retryableStatus(notifier: String, displayURL: String, status: Int, response: String, retryAfter: Double?)
    /// No response arrived: connection refused, DNS failure, TLS failure or timeout.
    case transport(notifier: String, displayURL: String, message: String)
    /// The notifier's settings are unusable, for example a `whsec_` secret that is not base64.
    case invalidSettings(notifier: String, problem: String, fix: String)
    /// The notification could not be encoded as JSON.
    case encodingFailed(notifier: String, message: String)

    public var description: String {
        switch self {
        case .rejected(let notifier, let url, let status, let response, let fix):
            let quoted = response.isEmpty ? "" : " (\(response))"
            return "notifier \(notifier): \(url) rejected the delivery with HTTP \(status)\(quoted). "
                + "It will not be retried: \(fix)"
        case .retryableStatus(let notifier, let url, let status, let response, let retryAfter):
            let quoted = response.isEmpty ? "" : " (\(response))"
            let wait = retryAfter.map { ", Retry-After \(String(format: "%g", $0)) s" } ?? ""
            return "notifier \(notifier): \(url) responded with HTTP \(status)\(quoted)\(wait). "
                + "The delivery can be retried."
        case .transport(let notifier, let url, let message):
            return "notifier \(notifier): could not reach \(url): \(message). The delivery can be retried."
        case .invalidSettings(let notifier, let problem, let fix):
            return "notifier \(notifier): \(problem). \(fix)"
        case .encodingFailed(let notifier, let message):
            return "notifier \(notifier): could not encode the notification as JSON: \(message)"
        }
    }

    /// Whether a later attempt may succeed: true for 429, 5xx and transport errors.
    public var isRetryable: Bool {
        switch self {
        case .retryableStatus, .transport: true
        case .rejected, .invalidSettings, .encodingFailed: false
        }
    }

    /// The receiver's `Retry-After` value in seconds, when it sent one.
    public var retryAfter: Double? {
        if case .retryableStatus(_, _, _, _, let retryAfter) = self {
            return retryAfter
        }
        return nil
    }

    /// The HTTP status of the receiver's response, or nil when there was none.
    public var status: Int? {
        switch self {
        case .rejected(_, _, let status, _, _), .retryableStatus(_, _, let status, _, _): status
        case .transport, .invalidSettings, .encodingFailed: nil
        }
    }
}

/// Sends one POST for a notifier and turns transport failures into `NotifierError.transport`.
///
/// The request's `displayURL` is set to `redactedURL(url)`, so `HTTPClient` logs never show the webhook path.
func postOnce(
    notifier: String,
    url: String,
    headers: [(name: String, value: String)],
    body: Data,
    http: HTTPClient,
    contentType: String = "application/json"
) throws -> HTTPClientResponse {
    let request = HTTPClientRequest(
        method: "POST",
        url: url,
        headers: headers + [("Content-Type", contentType)],
        body: body,
        displayURL: redactedURL(url)
    )
    do {
        return try http.send(request, retry: .never)
    } catch let error as HTTPClientError {
        switch error {
        case .transport(_, _, let code, let message):
            throw NotifierError.transport(
                notifier: notifier,
                displayURL: request.displayURL,
                message: "\(message) (curl error \(code))"
            )
        case .retriesExhausted, .cancelled:
            // Unreachable with RetryPolicy.never, but kept as a transport failure rather than a crash.
            throw NotifierError.transport(
                notifier: notifier,
                displayURL: request.displayURL,
                message: error.description
            )
        }
    }
}

/// Returns the receipt for a 2xx response, or throws `retryableStatus` for 429 and 5xx (with `Retry-After`) and
/// `rejected` for any other status, with the fix that `fix` gives for the status and response snippet.
///
/// `bodyRetryAfter` reads a wait in seconds from a response body, for services that send it in JSON
/// (Discord's `retry_after`, Telegram's `parameters.retry_after`). It wins over the header, which some
/// services round to whole seconds.
func receipt(
    for response: HTTPClientResponse,
    notifier: String,
    displayURL: String,
    bodyRetryAfter: (Data) -> Double? = { _ in nil },
    fix: (Int, String) -> String
) throws -> DeliveryReceipt {
    let snippet = DeliveryReceipt.snippet(of: response.body)
    if response.isSuccess {
        return DeliveryReceipt(status: response.status, responseSnippet: snippet)
    }
    if response.status == 429 || (500..<600).contains(response.status) {
        throw NotifierError.retryableStatus(
            notifier: notifier,
            displayURL: displayURL,
            status: response.status,
            response: snippet,
            retryAfter: bodyRetryAfter(response.body).map { max(0, $0) }
                ?? parseRetryAfter(response.header("Retry-After"))
        )
    }
    throw NotifierError.rejected(
        notifier: notifier,
        displayURL: displayURL,
        status: response.status,
        response: snippet,
        fix: fix(response.status, snippet)
    )
}

/// Returns the number at `path` in a JSON object body, such as `["parameters", "retry_after"]`, or nil.
func jsonNumber(in body: Data, at path: [String]) -> Double? {
    guard var value = try? JSONSerialization.jsonObject(with: body) else { return nil }
    for key in path {
        guard let object = value as? [String: Any], let next = object[key] else { return nil }
        value = next
    }
    if let number = value as? NSNumber, !(value is Bool) {
        return number.doubleValue
    }
    return nil
}

/// Returns `object` as JSON bytes with sorted keys and unescaped slashes, or throws `encodingFailed`.
func encodeJSON(_ object: Any, notifier: String) throws -> Data {
    do {
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    } catch {
        throw NotifierError.encodingFailed(notifier: notifier, message: "\(error)")
    }
}

/// Sends `parts` one after another and returns the receipt of the last. A failure of any part throws, so the
/// whole delivery is retried.
///
/// NOTE: a retry after part two or later failed sends the earlier parts again. Each part names the event id,
/// so a reader can tell the repeat.
func deliverParts(_ parts: [Data], send: (Data) throws -> DeliveryReceipt) throws -> DeliveryReceipt {
    var last: DeliveryReceipt? = nil
    for part in parts {
        last = try send(part)
    }
    guard let last else {
        preconditionFailure("a message has at least one part")
    }
    return last
}
