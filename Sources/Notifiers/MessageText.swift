import Foundation

/// Length limits and the cutting and splitting of message text that every chat notifier shares.
///
/// Services count their limits in different units, so each call names the unit. A cut always falls between
/// characters of the unescaped text, so an escape sequence or an entity is never split.
public enum MessageText {
    /// The unit in which a service counts the length of a text.
    public enum Unit: Sendable {
        /// UTF-16 code units, never fewer than the scalars or characters, so a safe count for JavaScript services.
        case utf16
        /// Unicode scalars (code points), as Telegram counts its 4096 limit.
        case unicodeScalars
        /// UTF-8 bytes, as ntfy counts its message size limit.
        case utf8

        public func count(_ text: String) -> Int {
            switch self {
            case .utf16: text.utf16.count
            case .unicodeScalars: text.unicodeScalars.count
            case .utf8: text.utf8.count
            }
        }
    }

    /// The text that ends a value cut to fit a limit.
    public static let truncationMarker = "… [truncated]"

    /// Returns `escape(text)` when it fits in `limit`, or else the longest escaped prefix of `text` that fits
    /// together with `truncationMarker`.
    public static func truncate(
        _ text: String,
        limit: Int,
        unit: Unit,
        escape: (String) -> String = { $0 }
    ) -> String {
        let full = escape(text)
        guard unit.count(full) > limit else { return full }
        let marker = escape(MessageText.truncationMarker)
        let room = max(0, limit - unit.count(marker))
        var result = ""
        var used = 0
        for character in text {
            let piece = escape(String(character))
            let size = unit.count(piece)
            if used + size > room {
                break
            }
            result += piece
            used += size
        }
        return result + marker
    }

    /// Splits `text` into pieces whose escaped form each fits in `limit`, cutting after the last line break
    /// that keeps a piece within the limit, or between characters when a single line is too long.
    ///
    /// Escaping each character alone must give the same text as escaping the whole, which holds for the
    /// character-by-character escapes the notifiers use.
    public static func split(
        _ text: String,
        limit: Int,
        unit: Unit,
        escape: (String) -> String = { $0 }
    ) -> [String] {
        precondition(limit > 0, "a split limit must be positive")
        var pieces: [String] = []
        var current = ""
        var used = 0
        // The end of the last line break in `current`, so a piece can end on a whole line.
        var lastBreak: (index: String.Index, used: Int)? = nil
        for character in text {
            let piece = escape(String(character))
            let size = unit.count(piece)
            if used + size > limit && !current.isEmpty {
                if let lastBreak, lastBreak.index < current.endIndex {
                    let rest = String(current[lastBreak.index...])
                    pieces.append(String(current[..<lastBreak.index]))
                    current = rest
                    used -= lastBreak.used
                } else {
                    pieces.append(current)
                    current = ""
                    used = 0
                }
                lastBreak = nil
                // A remaining tail can still leave no room for the new character, so it becomes a piece of its own.
                if used + size > limit && !current.isEmpty {
                    pieces.append(current)
                    current = ""
                    used = 0
                }
            }
            current += piece
            used += size
            if character.isNewline {
                lastBreak = (current.endIndex, used)
            }
        }
        if !current.isEmpty || pieces.isEmpty {
            pieces.append(current)
        }
        return pieces
    }

    /// Returns `text` on one line: every line break and other control character becomes a space.
    public static func singleLine(_ text: String) -> String {
        String(
            text.unicodeScalars.map { scalar -> Character in
                scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}"
                    ? " " : Character(scalar)
            }
        )
    }

    /// Returns `text` with a zero-width space after every `@`, so no chat service reads `@everyone`,
    /// `@channel` or `@user` in it as a mention.
    public static func breakingMentions(_ text: String) -> String {
        text.replacingOccurrences(of: "@", with: "@\u{200B}")
    }

    /// Returns `text` with a backslash before every character in `specials`.
    public static func backslashEscaping(_ text: String, specials: Set<Character>) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            if specials.contains(character) {
                escaped.append("\\")
            }
            escaped.append(character)
        }
        return escaped
    }

    /// Returns the lines of a plain-text message: the title, the facts as `Label: value`, the model commit URL
    /// and the event id, for services that show one text.
    public static func plainLines(for notification: RunNotification) -> [String] {
        var lines = [notification.title]
        for fact in notification.facts {
            lines.append("\(fact.label): \(fact.value)")
        }
        if let url = notification.modelCommitURL {
            lines.append("Model: \(url)")
        }
        lines.append("Event: \(notification.eventId)")
        return lines
    }
}
