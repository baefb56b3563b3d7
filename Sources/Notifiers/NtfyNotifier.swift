import Foundation
import HTTP
import Support

/// Publishes run notifications to an ntfy topic, such as `https://ntfy.sh/nightshift-alerts` or a topic on
/// a self-hosted server.
///
/// It uses ntfy's JSON publishing: a POST to the server root with `topic`, `message`, `title`, `priority`,
/// `tags` and `click` in the body. HTTP headers must be ASCII on one line, but job names and errors may be
/// anything, so no message text goes into a header. The only header is `Authorization: Bearer <token>`
/// when an access token is set. The server keeps messages up to 4096 bytes by default and turns a larger body
/// into an attachment, so the message is cut to `messageLimit` bytes with a visible marker.
public struct NtfyNotifier: Notifier, CustomStringConvertible, CustomDebugStringConvertible {
    /// The maximum message size in UTF-8 bytes, ntfy's default `message-size-limit`.
    public static let messageLimit = 4096
    /// The maximum title length in UTF-8 bytes kept; ntfy documents none, and phones show less.
    public static let titleLimit = 250

    public let name: String
    /// The topic URL. The topic name is itself a credential on a public server, so it is never logged.
    private let topicURL: String
    private let token: String?
    private let priority: Int
    private let tags: [String]
    private let http: HTTPClient

    /// Creates the notifier, or throws `invalidSettings` when `topicURL` has no topic or `priority` is not 1–5.
    ///
    /// `priority` is used for routine events; failures get at least 4 and an urgent event gets 5.
    public init(
        name: String,
        topicURL: String,
        token: String? = nil,
        priority: Int = 3,
        tags: [String] = [],
        http: HTTPClient
    ) throws {
        guard NtfyNotifier.split(topicURL: topicURL) != nil else {
            throw NotifierError.invalidSettings(
                notifier: name,
                problem: "the ntfy URL has no topic",
                fix: "Set url to the topic URL, such as https://ntfy.example.com/nightshift-alerts."
            )
        }
        guard (1...5).contains(priority) else {
            throw NotifierError.invalidSettings(
                notifier: name,
                problem: "the ntfy priority \(priority) is out of range",
                fix: "Set priority to a number from 1 (min) to 5 (max)."
            )
        }
        self.name = name
        self.topicURL = topicURL
        self.token = token
        self.priority = priority
        self.tags = tags
        self.http = http
    }

    public var displayURL: String { redactedURL(self.topicURL) }
    public var description: String { "NtfyNotifier(\(self.name), \(self.displayURL))" }
    public var debugDescription: String { self.description }

    public func deliver(_ notification: RunNotification) throws -> DeliveryReceipt {
        guard let (server, topic) = NtfyNotifier.split(topicURL: self.topicURL) else {
            preconditionFailure("init checked the topic URL")
        }
        let payload = NtfyNotifier.payload(for: notification, topic: topic, priority: self.priority, tags: self.tags)
        let body = try encodeJSON(payload, notifier: self.name)
        var headers: [(name: String, value: String)] = []
        if let token = self.token {
            headers.append(("Authorization", "Bearer \(token)"))
        }
        let response = try postOnce(notifier: self.name, url: server, headers: headers, body: body, http: self.http)
        return try receipt(for: response, notifier: self.name, displayURL: self.displayURL, fix: NtfyNotifier.fix)
    }

    /// Splits a topic URL into the server root URL, where JSON is published, and the topic name.
    static func split(topicURL: String) -> (server: String, topic: String)? {
        guard var components = URLComponents(string: topicURL), components.host != nil else { return nil }
        components.query = nil
        components.fragment = nil
        var path = components.path.split(separator: "/").map(String.init)
        guard let topic = path.popLast(), !topic.isEmpty else { return nil }
        components.path = "/" + path.joined(separator: "/")
        guard let server = components.string else { return nil }
        return (server, topic)
    }

    /// Returns the JSON publish body.
    public static func payload(for notification: RunNotification, topic: String, priority: Int, tags: [String])
        -> [String: Any]
    {
        let message = MessageText.plainLines(for: notification).dropFirst().joined(separator: "\n")
        var payload: [String: Any] = [
            "topic": topic,
            "title": MessageText.truncate(
                MessageText.singleLine(notification.title),
                limit: NtfyNotifier.titleLimit,
                unit: .utf8
            ),
            "message": MessageText.truncate(message, limit: NtfyNotifier.messageLimit, unit: .utf8),
            "priority": NtfyNotifier.priority(for: notification, base: priority),
            "tags": [NtfyNotifier.tag(for: notification.kind)] + tags,
        ]
        if let url = notification.modelCommitURL, url.hasPrefix("https://") || url.hasPrefix("http://") {
            payload["click"] = url
        }
        return payload
    }

    /// Returns 5 for an urgent event, at least 4 for failures and warnings, and `base` otherwise.
    static func priority(for notification: RunNotification, base: Int) -> Int {
        if notification.isUrgent {
            return 5
        }
        switch notification.kind {
        case .failed, .missed, .budgetWarning: return max(base, 4)
        default: return base
        }
    }

    /// Returns the emoji short code ntfy shows in front of the title.
    static func tag(for kind: RunEventKind) -> String {
        switch kind {
        case .started: "arrow_forward"
        case .succeeded: "white_check_mark"
        case .failed: "x"
        case .missed: "alarm_clock"
        case .skipped: "fast_forward"
        case .teardownFailed: "rotating_light"
        case .budgetWarning: "warning"
        case .orphanSwept: "broom"
        }
    }

    static func fix(status: Int, snippet: String) -> String {
        switch status {
        case 401, 403:
            "the server refused the access token for this topic. Check token, or the topic's access rules."
        case 400:
            "the server rejected the message. Check the topic name in url."
        case 404:
            "the server has no publish endpoint at this URL. Check that url is the topic URL."
        case 413:
            "the message is larger than the server's limit. Raise message-size-limit on the server."
        default:
            "check the notifier's url and the server's response."
        }
    }
}
