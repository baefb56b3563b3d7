import Foundation
import HTTP
import Support

/// Posts run notifications to a Mattermost incoming webhook (`https://<host>/hooks/<key>`).
///
/// The body is `{"text": …}` in Mattermost markdown, with optional `channel` and `username`. Markdown
/// characters are escaped with a backslash, and a zero-width space follows every `@`, so `@channel`, `@all` or a
/// user name in a job name or an error mentions nobody. Mattermost answers a posted message with 200 and the
/// body `ok`. A text longer than `textLimit` is split into several posts.
public struct MattermostNotifier: Notifier, CustomStringConvertible, CustomDebugStringConvertible {
    /// The maximum post length in Unicode code points. Mattermost 5.0 and later accept 16383 by default and
    /// older servers 4000, so the lower value is used.
    public static let textLimit = 4000

    static let markdownSpecials: Set<Character> = [
        "\\", "*", "_", "~", "`", "[", "]", "(", ")", "#", ">", "|", "<", "-", "+", "!", ":",
    ]

    public let name: String
    private let url: String
    private let channel: String?
    private let username: String?
    private let http: HTTPClient

    /// Creates the notifier. `channel` and `username` override the webhook's defaults when the server allows it.
    public init(name: String, url: String, channel: String? = nil, username: String? = nil, http: HTTPClient) {
        self.name = name
        self.url = url
        self.channel = channel
        self.username = username
        self.http = http
    }

    public var displayURL: String { redactedURL(self.url) }
    public var description: String { "MattermostNotifier(\(self.name), \(self.displayURL))" }
    public var debugDescription: String { self.description }

    public func deliver(_ notification: RunNotification) throws -> DeliveryReceipt {
        let parts = try MattermostNotifier.texts(for: notification).map { text -> Data in
            var payload: [String: Any] = ["text": text]
            if let channel = self.channel {
                payload["channel"] = channel
            }
            if let username = self.username {
                payload["username"] = username
            }
            return try encodeJSON(payload, notifier: self.name)
        }
        return try deliverParts(parts) { body in
            let response = try postOnce(notifier: self.name, url: self.url, headers: [], body: body, http: self.http)
            return try receipt(
                for: response,
                notifier: self.name,
                displayURL: self.displayURL,
                fix: MattermostNotifier.fix
            )
        }
    }

    /// Returns the escaped post texts: a bold title, then the facts as lines, split into posts that each fit
    /// in `textLimit`.
    public static func texts(for notification: RunNotification) -> [String] {
        let title = MessageText.truncate(notification.title, limit: 256, unit: .unicodeScalars)
        let body = MessageText.plainLines(for: notification).dropFirst().joined(separator: "\n")
        let titleRoom = MessageText.Unit.unicodeScalars.count(MattermostNotifier.escape(title)) + 32
        let pieces = MessageText.split(
            body,
            limit: MattermostNotifier.textLimit - titleRoom,
            unit: .unicodeScalars,
            escape: MattermostNotifier.escape
        )
        return pieces.enumerated().map { index, piece in
            let number = pieces.count > 1 ? " (\(index + 1)/\(pieces.count))" : ""
            return "**\(MattermostNotifier.escape(title + number))**\n" + piece
        }
    }

    /// Returns `text` with markdown characters escaped and mentions broken.
    public static func escape(_ text: String) -> String {
        MessageText.breakingMentions(MessageText.backslashEscaping(text, specials: MattermostNotifier.markdownSpecials))
    }

    static func fix(status: Int, snippet: String) -> String {
        switch status {
        case 400:
            "Mattermost rejected the post. Check channel and username, and the server's response."
        case 401, 403:
            "the incoming webhook is disabled or may not post to this channel. Check it in Integrations."
        case 404:
            "the incoming webhook no longer exists. Create a new one and update the notifier's url."
        case 413:
            "the post is larger than the server's MaxPostSize. Raise it in the System Console."
        default:
            "check the notifier's url and the server's response."
        }
    }
}
