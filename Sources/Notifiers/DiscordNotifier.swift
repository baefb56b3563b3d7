import Foundation
import HTTP
import Support

/// Posts run notifications to a Discord webhook (`https://discord.com/api/webhooks/<id>/<token>`).
///
/// Each event is one message: a short `content` line for push notifications and one embed with the facts.
/// `allowed_mentions` is empty, so no text in a job name or an error can ping anyone. The URL gets
/// `wait=true`, so Discord responds with 200 and the stored message instead of 204 once the message is saved.
/// A 429 carries the wait in seconds in the JSON field `retry_after` (a float) and in `Retry-After`; the JSON
/// value is used. 404 means the webhook was deleted, and like every other 4xx it is final.
public struct DiscordNotifier: Notifier, CustomStringConvertible, CustomDebugStringConvertible {
    /// The maximum length of `content`.
    public static let contentLimit = 2000
    /// The maximum total length of an embed's title, description, field names and values, and footer.
    public static let embedTotalLimit = 6000
    public static let embedTitleLimit = 256
    public static let embedDescriptionLimit = 4096
    public static let fieldNameLimit = 256
    public static let fieldValueLimit = 1024
    public static let maxFields = 25
    public static let footerLimit = 2048

    /// The characters that Discord's markdown reads as formatting. A backslash before any of them shows it
    /// as is.
    static let markdownSpecials: Set<Character> = [
        "\\", "*", "_", "~", "`", "|", ">", "#", "-", "[", "]", "(", ")", "<", ":", ".", "+", "!",
    ]

    public let name: String
    /// The webhook URL, which contains the webhook's token, so it is shown only as `displayURL`.
    private let url: String
    private let username: String?
    private let http: HTTPClient

    /// Creates the notifier. `username` overrides the webhook's display name when set.
    public init(name: String, url: String, username: String? = nil, http: HTTPClient) {
        self.name = name
        self.url = url
        self.username = username
        self.http = http
    }

    public var displayURL: String { redactedURL(self.url) }
    public var description: String { "DiscordNotifier(\(self.name), \(self.displayURL))" }
    public var debugDescription: String { self.description }

    public func deliver(_ notification: RunNotification) throws -> DeliveryReceipt {
        var payload = DiscordNotifier.payload(for: notification)
        if let username = self.username {
            payload["username"] = String(MessageText.singleLine(username).prefix(80))
        }
        let body = try encodeJSON(payload, notifier: self.name)
        let target = DiscordNotifier.waitingURL(self.url)
        let response = try postOnce(notifier: self.name, url: target, headers: [], body: body, http: self.http)
        return try receipt(
            for: response,
            notifier: self.name,
            displayURL: self.displayURL,
            bodyRetryAfter: { jsonNumber(in: $0, at: ["retry_after"]) },
            fix: DiscordNotifier.fix
        )
    }

    /// Returns `url` with `wait=true` added to its query, keeping any `thread_id` already there.
    static func waitingURL(_ url: String) -> String {
        if url.contains("wait=") {
            return url
        }
        return url + (url.contains("?") ? "&" : "?") + "wait=true"
    }

    /// Returns `text` with every markdown character escaped by a backslash.
    public static func escape(_ text: String) -> String {
        MessageText.backslashEscaping(text, specials: DiscordNotifier.markdownSpecials)
    }

    /// Returns the message as a JSON object for `JSONSerialization`.
    public static func payload(for notification: RunNotification) -> [String: Any] {
        let content = MessageText.truncate(
            notification.summary,
            limit: DiscordNotifier.contentLimit,
            unit: .utf16,
            escape: DiscordNotifier.escape
        )
        return [
            "content": content,
            "embeds": [DiscordNotifier.embed(for: notification)],
            "allowed_mentions": ["parse": [String]()],
        ]
    }

    /// Builds the embed: the title, the reason as description, the other facts as fields, the model commit as
    /// the title link, and the event id in the footer, all within Discord's embed limits.
    static func embed(for notification: RunNotification) -> [String: Any] {
        func cut(_ text: String, _ limit: Int) -> String {
            MessageText.truncate(text, limit: limit, unit: .utf16, escape: DiscordNotifier.escape)
        }
        let title = cut(notification.title, DiscordNotifier.embedTitleLimit)
        let footer = cut("event \(notification.eventId)", DiscordNotifier.footerLimit)
        var fields: [[String: Any]] = []
        var used = title.utf16.count + footer.utf16.count
        // Fields may use the total limit minus a share kept for the reason, which is usually the longest text.
        let fieldBudget = DiscordNotifier.embedTotalLimit - (notification.reason == nil ? 0 : 1500)
        for fact in notification.facts.prefix(DiscordNotifier.maxFields) where fact.label != "Reason" {
            let name = cut(fact.label, DiscordNotifier.fieldNameLimit)
            let room = min(DiscordNotifier.fieldValueLimit, fieldBudget - used - name.utf16.count)
            guard room > 2 * MessageText.truncationMarker.utf16.count else { break }
            let value = cut(fact.value, room)
            used += name.utf16.count + value.utf16.count
            fields.append(["name": name, "value": value, "inline": fact.value.count <= 40])
        }
        var embed: [String: Any] = [
            "title": title,
            "color": DiscordNotifier.color(for: notification),
            "fields": fields,
            "footer": ["text": footer],
            "timestamp": RunNotification.formatTime(notification.occurredAt),
        ]
        if let reason = notification.reason {
            // The description takes what the embed's total limit leaves, so the message is never rejected.
            let room = min(DiscordNotifier.embedDescriptionLimit, DiscordNotifier.embedTotalLimit - used)
            if room > MessageText.truncationMarker.utf16.count {
                embed["description"] = cut(reason, room)
            }
        }
        if let url = notification.modelCommitURL, url.hasPrefix("https://") || url.hasPrefix("http://") {
            embed["url"] = url
        }
        return embed
    }

    /// Red for failures, orange for warnings, green for success and blue otherwise.
    static func color(for notification: RunNotification) -> Int {
        switch notification.kind {
        case .failed, .teardownFailed: 0xD0_3B_3B
        case .missed, .skipped, .budgetWarning, .orphanSwept: 0xE8_9A_1C
        case .succeeded: 0x2E_A0_43
        case .started: 0x35_76_D0
        }
    }

    static func fix(status: Int, snippet: String) -> String {
        switch status {
        case 400:
            "Discord rejected the message format. This is a bug in nightshift; report it with the event id."
        case 401, 403:
            "Discord does not accept the webhook token. Copy the webhook URL from the channel settings again."
        case 404:
            "the webhook was deleted in Discord. Create a new webhook and update the notifier's url."
        case 300..<400:
            "the URL redirects, and redirects are not followed. Set url to the webhook URL Discord shows."
        default:
            "check the notifier's url and Discord's response."
        }
    }
}
