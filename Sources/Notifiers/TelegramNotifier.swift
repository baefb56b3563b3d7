import Foundation
import HTTP
import Support

/// Sends run notifications through the Telegram Bot API method `sendMessage`.
///
/// The bot token is part of the URL path (`<api>/bot<token>/sendMessage`), so the URL is never logged; errors show
/// `displayURL` only. The text is HTML or MarkdownV2, escaped for the chosen parse mode. Telegram allows
/// 4096 characters after entity parsing, counted in Unicode code points, and a longer text is split into parts
/// of at most `textLimit` code points of escaped text, which is never less than the parsed count. Success is
/// `{"ok":true,"result":…}`. A 429 carries the wait in `parameters.retry_after`.
public struct TelegramNotifier: Notifier, CustomStringConvertible, CustomDebugStringConvertible {
    public enum ParseMode: String, Sendable, CaseIterable {
        case html = "HTML"
        case markdownV2 = "MarkdownV2"
    }

    /// The maximum length of one message text, in Unicode code points.
    public static let textLimit = 4096
    /// The Bot API server used when none is configured.
    public static let defaultAPIURL = "https://api.telegram.org"

    /// The characters that MarkdownV2 requires to be escaped with a backslash outside code and links.
    static let markdownV2Specials: Set<Character> = [
        "_", "*", "[", "]", "(", ")", "~", "`", ">", "#", "+", "-", "=", "|", "{", "}", ".", "!", "\\",
    ]

    public let name: String
    private let apiURL: String
    private let botToken: String
    private let chatId: String
    private let parseMode: ParseMode
    private let messageThreadId: Int?
    private let http: HTTPClient

    /// Creates the notifier. `chatId` is a numeric chat id such as `-1001234567890` or a channel name such as
    /// `@nightshift_alerts`. `apiURL` is the Bot API server, without a trailing slash.
    public init(
        name: String,
        botToken: String,
        chatId: String,
        parseMode: ParseMode = .html,
        messageThreadId: Int? = nil,
        apiURL: String = TelegramNotifier.defaultAPIURL,
        http: HTTPClient
    ) {
        self.name = name
        self.botToken = botToken
        self.chatId = chatId
        self.parseMode = parseMode
        self.messageThreadId = messageThreadId
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.http = http
    }

    /// The request URL, which contains the bot token.
    private var url: String { "\(self.apiURL)/bot\(self.botToken)/sendMessage" }

    public var displayURL: String { redactedURL(self.url) }
    public var description: String { "TelegramNotifier(\(self.name), \(self.displayURL))" }
    public var debugDescription: String { self.description }

    public func deliver(_ notification: RunNotification) throws -> DeliveryReceipt {
        let texts = TelegramNotifier.texts(for: notification, parseMode: self.parseMode)
        let parts = try texts.map { text -> Data in
            var payload: [String: Any] = [
                "chat_id": Int64(self.chatId).map { $0 as Any } ?? self.chatId,
                "text": text,
                "parse_mode": self.parseMode.rawValue,
                "link_preview_options": ["is_disabled": true],
            ]
            if let thread = self.messageThreadId {
                payload["message_thread_id"] = thread
            }
            return try encodeJSON(payload, notifier: self.name)
        }
        return try deliverParts(parts) { body in
            let response = try postOnce(notifier: self.name, url: self.url, headers: [], body: body, http: self.http)
            let result = try receipt(
                for: response,
                notifier: self.name,
                displayURL: self.displayURL,
                bodyRetryAfter: { jsonNumber(in: $0, at: ["parameters", "retry_after"]) },
                fix: TelegramNotifier.fix
            )
            // The Bot API marks success with `ok`, so a 2xx without it is not a delivery.
            let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
            guard object?["ok"] as? Bool == true else {
                throw NotifierError.rejected(
                    notifier: self.name,
                    displayURL: self.displayURL,
                    status: response.status,
                    response: result.responseSnippet,
                    fix: "the server is not a Telegram Bot API server. Check api_url."
                )
            }
            return result
        }
    }

    /// Returns the escaped message texts, one per message: a bold title, then the fact lines. A text too long
    /// for one message is split at line breaks, and each part's title shows its number, as in `(2/3)`.
    public static func texts(for notification: RunNotification, parseMode: ParseMode) -> [String] {
        let escape: (String) -> String = { TelegramNotifier.escape($0, parseMode: parseMode) }
        let title = MessageText.truncate(notification.title, limit: 256, unit: .unicodeScalars)
        let body = MessageText.plainLines(for: notification).dropFirst().joined(separator: "\n")
        // Room for the bold title markup, the part number and the line break after the title.
        let titleRoom = MessageText.Unit.unicodeScalars.count(escape(title)) + 32
        let pieces = MessageText.split(
            body,
            limit: TelegramNotifier.textLimit - titleRoom,
            unit: .unicodeScalars,
            escape: escape
        )
        return pieces.enumerated().map { index, piece in
            let number = pieces.count > 1 ? " (\(index + 1)/\(pieces.count))" : ""
            return TelegramNotifier.bold(escape(title + number), parseMode: parseMode) + "\n" + piece
        }
    }

    /// Returns `text` escaped for `parseMode`: `&`, `<` and `>` as entities for HTML, and a backslash before
    /// each reserved character for MarkdownV2.
    public static func escape(_ text: String, parseMode: ParseMode) -> String {
        switch parseMode {
        case .html:
            var escaped = ""
            for character in text {
                switch character {
                case "&": escaped += "&amp;"
                case "<": escaped += "&lt;"
                case ">": escaped += "&gt;"
                default: escaped.append(character)
                }
            }
            return escaped
        case .markdownV2:
            return MessageText.backslashEscaping(text, specials: TelegramNotifier.markdownV2Specials)
        }
    }

    private static func bold(_ escaped: String, parseMode: ParseMode) -> String {
        switch parseMode {
        case .html: "<b>\(escaped)</b>"
        case .markdownV2: "*\(escaped)*"
        }
    }

    static func fix(status: Int, snippet: String) -> String {
        if snippet.contains("migrate_to_chat_id") {
            return "the group became a supergroup with a new id. Set chat_id to the id in Telegram's response."
        }
        switch status {
        case 400 where snippet.contains("chat not found"):
            return "Telegram has no chat with this chat_id for the bot. Check chat_id and that the bot was added."
        case 400 where snippet.contains("parse entities"):
            return "Telegram could not parse the message markup. This is a bug in nightshift; report it."
        case 400:
            return "Telegram rejected the request. Check chat_id and the response."
        case 401, 404:
            return "Telegram does not accept the bot token. Copy it from @BotFather again into bot_token."
        case 403:
            return "the bot may not post in this chat: it was blocked, removed, or lacks rights. Add it again."
        default:
            return "check the notifier's settings and Telegram's response."
        }
    }
}
