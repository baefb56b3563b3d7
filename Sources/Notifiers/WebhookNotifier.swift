import Foundation
import HTTP
import Support

/// Posts run notifications as JSON to any HTTP endpoint, signed the Standard Webhooks way.
///
/// The body is the `RunNotification` in its snake_case JSON form plus `type` (the event kind), `timestamp`
/// (when the event occurred), `title`, `summary` and `urgent`. Each attempt carries `webhook-id` (the event id,
/// the same on every retry), `webhook-timestamp` (the attempt's Unix time in seconds) and, when a secret is set,
/// `webhook-signature`. Any 2xx is delivered, 429 and 5xx can be retried, and every other status is final.
public struct WebhookNotifier: Notifier, CustomStringConvertible, CustomDebugStringConvertible {
    public let name: String
    /// The endpoint URL. It may carry a token in its path or query, so it is shown only as `displayURL`.
    private let url: String
    private let signer: StandardWebhookSigner?
    private let http: HTTPClient
    private let clock: @Sendable () -> Date

    /// Creates the notifier. Without a `secret`, deliveries carry no `webhook-signature` header.
    ///
    /// Throws `NotifierError.invalidSettings` when `secret` is empty or is an invalid `whsec_` value.
    /// `clock` supplies the attempt time for `webhook-timestamp`.
    public init(
        name: String,
        url: String,
        secret: String?,
        http: HTTPClient,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.name = name
        self.url = url
        self.signer = try secret.map { try StandardWebhookSigner(secret: $0, notifier: name) }
        self.http = http
        self.clock = clock
    }

    /// The URL as it may appear in logs: scheme, host and port only.
    public var displayURL: String { redactedURL(self.url) }

    public var description: String {
        "WebhookNotifier(\(self.name), \(self.displayURL), \(self.signer == nil ? "unsigned" : "signed"))"
    }
    public var debugDescription: String { self.description }

    public func deliver(_ notification: RunNotification) throws -> DeliveryReceipt {
        let body = try WebhookNotifier.body(for: notification, notifier: self.name)
        let id = WebhookNotifier.webhookId(for: notification)
        let timestamp = Int(self.clock().timeIntervalSince1970)
        var headers: [(name: String, value: String)] = [
            ("webhook-id", id),
            ("webhook-timestamp", String(timestamp)),
        ]
        if let signer = self.signer {
            headers.append(("webhook-signature", signer.signature(id: id, timestamp: timestamp, body: body)))
        }
        let response = try postOnce(notifier: self.name, url: self.url, headers: headers, body: body, http: self.http)
        return try receipt(for: response, notifier: self.name, displayURL: self.displayURL) { status, _ in
            WebhookNotifier.fix(status: status)
        }
    }

    /// Returns the `webhook-id` value: the event id with any `.` replaced by `_`, because the signed content
    /// uses `.` as its separator and Standard Webhooks forbids it in the id.
    public static func webhookId(for notification: RunNotification) -> String {
        notification.eventId.replacingOccurrences(of: ".", with: "_")
    }

    /// Returns the JSON body, with sorted keys so the same notification always gives the same bytes.
    public static func body(for notification: RunNotification, notifier: String) throws -> Data {
        do {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let encoded = try encoder.encode(notification)
            guard var object = try JSONSerialization.jsonObject(with: encoded) as? [String: Any] else {
                throw NotifierError.encodingFailed(notifier: notifier, message: "the notification is not a JSON object")
            }
            object["type"] = notification.kind.rawValue
            object["timestamp"] = object[RunNotification.CodingKeys.occurredAt.rawValue]
            object["title"] = notification.title
            object["summary"] = notification.summary
            object["urgent"] = notification.isUrgent
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch let error as NotifierError {
            throw error
        } catch {
            throw NotifierError.encodingFailed(notifier: notifier, message: "\(error)")
        }
    }

    static func fix(status: Int) -> String {
        switch status {
        case 300..<400:
            "the URL redirects, and redirects are not followed. Set url to the final endpoint URL."
        case 401, 403:
            "the receiver refused the request. Check that it expects this signing secret."
        case 404:
            "the receiver has no endpoint at this URL. Check the notifier's url."
        case 410:
            "the receiver no longer accepts these webhooks. Remove the notifier or update its url."
        default:
            "check the receiver's logs for why it rejected the request."
        }
    }
}
