import Foundation

/// The Telegram Bot API method `sendMessage`, `POST /bot<token>/sendMessage`, as a stand-in applies it.
///
/// It parses the text for the given `parse_mode` the way the Bot API does: HTML with the supported tags and
/// the entities `&lt;`, `&gt;`, `&amp;` and `&quot;`, or MarkdownV2, where every reserved character outside
/// markup must follow a backslash. A text that does not parse gets 400 "can't parse entities", and one whose
/// parsed text is empty or longer than 4096 code points gets 400 as well. Success is `{"ok":true,"result":…}`
/// and a rate limit is 429 with `parameters.retry_after`.
public struct TelegramBotRules: ChatServiceRules {
    public let token: String
    public let chatId: String

    /// The visible text of a parsed message, or why it does not parse.
    public enum Parsed: Sendable {
        case success(String)
        case failure(String)
    }

    public static let textLimit = 4096
    static let reserved: Set<Character> = [
        "_", "*", "[", "]", "(", ")", "~", "`", ">", "#", "+", "-", "=", "|", "{", "}", ".", "!",
    ]
    static let htmlTags: Set<String> = [
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "tg-spoiler", "blockquote",
    ]

    public init(token: String = "123456789:AAHtelegramStandInToken_abc-XYZ", chatId: String = "-1001234567890") {
        self.token = token
        self.chatId = chatId
    }

    private static func error(_ code: Int, _ description: String) -> HTTPResponse {
        .json(code, ["ok": false, "error_code": code, "description": description])
    }

    public func check(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.path.hasPrefix("/bot"), request.path.hasSuffix("/sendMessage") else {
            return TelegramBotRules.error(404, "Not Found")
        }
        let token = request.path.dropFirst(4).dropLast("/sendMessage".count)
        guard token == self.token else {
            return TelegramBotRules.error(401, "Unauthorized")
        }
        guard let body = request.jsonBody as? [String: Any] else {
            return TelegramBotRules.error(400, "Bad Request: message text is empty")
        }
        let chat = body["chat_id"].map { "\($0)" }
        guard chat == self.chatId else {
            return TelegramBotRules.error(400, "Bad Request: chat not found")
        }
        guard let text = body["text"] as? String else {
            return TelegramBotRules.error(400, "Bad Request: message text is empty")
        }
        let parsed: TelegramBotRules.Parsed
        switch (body["parse_mode"] as? String)?.lowercased() {
        case nil: parsed = .success(text)
        case "html": parsed = TelegramBotRules.parseHTML(text)
        case "markdownv2": parsed = TelegramBotRules.parseMarkdownV2(text)
        default: return TelegramBotRules.error(400, "Bad Request: unsupported parse_mode")
        }
        switch parsed {
        case .failure(let message):
            return TelegramBotRules.error(400, "Bad Request: can't parse entities: \(message)")
        case .success(let visible):
            if visible.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                return TelegramBotRules.error(400, "Bad Request: message text is empty")
            }
            if visible.unicodeScalars.count > TelegramBotRules.textLimit {
                return TelegramBotRules.error(400, "Bad Request: message is too long")
            }
        }
        return nil
    }

    /// Returns the visible text of an HTML message, or why it does not parse.
    public static func parseHTML(_ text: String) -> TelegramBotRules.Parsed {
        var visible = ""
        var open: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "<" {
                guard let close = text[index...].firstIndex(of: ">") else {
                    return .failure(
                        "Unclosed start tag at byte offset \(text.utf8.distance(from: text.startIndex, to: index))"
                    )
                }
                var tag = String(text[text.index(after: index)..<close])
                let closing = tag.hasPrefix("/")
                if closing { tag.removeFirst() }
                let name = String(tag.split(separator: " ").first ?? "").lowercased()
                guard TelegramBotRules.htmlTags.contains(name) || name == "a" || name == "span" else {
                    return .failure("Unsupported start tag \"\(name)\"")
                }
                if closing {
                    guard open.last == name else { return .failure("Unmatched end tag \"\(name)\"") }
                    open.removeLast()
                } else {
                    open.append(name)
                }
                index = text.index(after: close)
                continue
            }
            if character == "&" {
                guard let semicolon = text[index...].prefix(10).firstIndex(of: ";") else {
                    return .failure("Character '&' must be escaped as &amp;")
                }
                let entity = String(text[text.index(after: index)..<semicolon])
                switch entity {
                case "lt": visible += "<"
                case "gt": visible += ">"
                case "amp": visible += "&"
                case "quot": visible += "\""
                default: return .failure("Unsupported HTML entity \"&\(entity);\"")
                }
                index = text.index(after: semicolon)
                continue
            }
            visible.append(character)
            index = text.index(after: index)
        }
        guard open.isEmpty else { return .failure("Can't find end tag corresponding to start tag \"\(open[0])\"") }
        return .success(visible)
    }

    /// Returns the visible text of a MarkdownV2 message, or why it does not parse. It parses bold, italic,
    /// underline, strikethrough and spoiler markup. It rejects links and code, which nightshift does not send.
    public static func parseMarkdownV2(_ text: String) -> TelegramBotRules.Parsed {
        var visible = ""
        var open: [String] = []
        var characters = Array(text)
        characters.append("\u{0}")
        var index = 0
        while index < characters.count - 1 {
            let character = characters[index]
            if character == "\\" {
                let next = characters[index + 1]
                guard next != "\u{0}" else { return .failure("Can't find end of the entity") }
                visible.append(next)
                index += 2
                continue
            }
            var marker: String? = nil
            if character == "*" { marker = "*" }
            if character == "~" { marker = "~" }
            if character == "_" { marker = characters[index + 1] == "_" ? "__" : "_" }
            if character == "|" && characters[index + 1] == "|" { marker = "||" }
            if let marker {
                if open.last == marker {
                    open.removeLast()
                } else {
                    open.append(marker)
                }
                index += marker.count
                continue
            }
            if TelegramBotRules.reserved.contains(character) {
                return .failure("Character '\(character)' is reserved and must be escaped with the preceding '\\'")
            }
            visible.append(character)
            index += 1
        }
        guard open.isEmpty else { return .failure("Can't find end of the entity starting at \(open[0])") }
        return .success(visible)
    }

    public func success(for request: HTTPRequest) -> HTTPResponse {
        let body = request.jsonBody as? [String: Any] ?? [:]
        return .json(
            200,
            [
                "ok": true,
                "result": [
                    "message_id": 42, "date": Int(Date().timeIntervalSince1970),
                    "chat": ["id": Int64(self.chatId) ?? 0, "type": "supergroup"],
                    "text": body["text"] ?? "",
                ] as [String: Any],
            ]
        )
    }

    public func rateLimited(retryAfter: Double) -> HTTPResponse {
        let seconds = Int(retryAfter.rounded(.up))
        return .json(
            429,
            [
                "ok": false, "error_code": 429, "description": "Too Many Requests: retry after \(seconds)",
                "parameters": ["retry_after": seconds],
            ]
        )
    }

    public func serverError() -> HTTPResponse {
        TelegramBotRules.error(502, "Bad Gateway")
    }
}
