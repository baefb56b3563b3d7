import Foundation
import Support

extension ConfigReader {
    static let notifierKeys = [
        "type", "url", "url_file", "secret", "secret_file", "events", "timeout", "expire_after",
        "bot_token", "bot_token_file", "chat_id", "message_thread_id", "api_url", "parse_mode",
        "token", "token_file", "priority", "tags", "username", "channel",
    ]

    /// The notifier types each type-specific key applies to. Keys not listed here apply to every type.
    static let notifierKeyTypes: [String: [NotifierSettings.Kind]] = [
        "secret": [.webhook], "secret_file": [.webhook],
        "bot_token": [.telegram], "bot_token_file": [.telegram], "chat_id": [.telegram],
        "message_thread_id": [.telegram], "api_url": [.telegram], "parse_mode": [.telegram],
        "token": [.ntfy], "token_file": [.ntfy], "priority": [.ntfy], "tags": [.ntfy],
        "username": [.discord, .mattermost], "channel": [.mattermost],
        "url": NotifierSettings.Kind.allCases.filter { $0 != .telegram },
        "url_file": NotifierSettings.Kind.allCases.filter { $0 != .telegram },
    ]

    /// The names ntfy gives its five priorities, from 1 to 5.
    static let ntfyPriorityNames = ["min", "low", "default", "high", "max"]

    /// Reads the `notifiers:` map. Notifiers with errors are left out of the result.
    func notifiers(_ root: MappingView) -> [NotifierSettings] {
        guard let node = root.value("notifiers"),
            let view = self.mapping(node, path: "notifiers", allowedKeys: nil)
        else {
            return []
        }
        var notifiers: [NotifierSettings] = []
        for entry in view.entries {
            let path = view.path(of: entry.name)
            let nameIsValid = self.checkName(entry, path: path, kind: "notifier")
            if let notifier = self.notifier(entry, path: path), nameIsValid {
                notifiers.append(notifier)
            }
        }
        return notifiers
    }

    private func notifier(_ entry: MappingView.Entry, path: String) -> NotifierSettings? {
        guard let view = self.mapping(entry.value, path: path, allowedKeys: ConfigReader.notifierKeys) else {
            return nil
        }
        let kind = self.notifierKind(view)
        if let kind {
            self.checkKeysApply(view, kind: kind)
        }

        let url = kind == .telegram ? (secret: nil, present: false) : self.notifierURL(view, kind: kind)
        let signingSecret = kind == .webhook ? self.secret(view, "secret") : (secret: nil, present: false)
        if kind == .webhook && !signingSecret.present {
            self.missing(
                view,
                "secret",
                expected: "the signing secret of a `webhook` notifier, or `secret_file`",
                example: "${WEBHOOK_SECRET}"
            )
        }
        let telegram = kind == .telegram ? self.telegramSettings(view) : nil
        let ntfy = kind == .ntfy ? self.ntfySettings(view) : nil

        let events = self.events(view)
        let timeout = self.duration(view, "timeout", range: 1...3600, example: "10s")
        let expireAfter = self.duration(view, "expire_after", range: 60...(7 * 86_400), example: "24h")
        let username = kind == .discord || kind == .mattermost ? self.nonEmptyString(view, "username") : nil
        let channel = kind == .mattermost ? self.nonEmptyString(view, "channel") : nil

        guard let kind else { return nil }
        if kind == .telegram {
            guard let telegram, let token = telegram.token, let chatId = telegram.chatId else { return nil }
            return NotifierSettings(
                name: entry.name,
                kind: kind,
                url: nil,
                botToken: token,
                chatId: chatId,
                messageThreadId: telegram.threadId,
                apiURL: telegram.apiURL,
                parseMode: telegram.parseMode,
                events: events ?? Set(RunEventKind.allCases),
                timeout: timeout ?? 10,
                expireAfter: expireAfter ?? NotifierSettings.defaultExpireAfter
            )
        }
        guard let url = url.secret else { return nil }
        if kind == .ntfy && ntfy == nil { return nil }
        return NotifierSettings(
            name: entry.name,
            kind: kind,
            url: url,
            signingSecret: signingSecret.secret,
            accessToken: ntfy?.token,
            priority: ntfy?.priority,
            tags: ntfy?.tags ?? [],
            username: username,
            channel: channel,
            events: events ?? Set(RunEventKind.allCases),
            timeout: timeout ?? 10,
            expireAfter: expireAfter ?? NotifierSettings.defaultExpireAfter
        )
    }

    /// Reports every type-specific key that does not apply to `kind`.
    private func checkKeysApply(_ view: MappingView, kind: NotifierSettings.Kind) {
        for entry in view.entries {
            guard let kinds = ConfigReader.notifierKeyTypes[entry.name], !kinds.contains(kind) else { continue }
            let owners = kinds.map { "`\($0.rawValue)`" }.joined(separator: ", ")
            let fix =
                kind == .telegram && entry.name.hasPrefix("url")
                ? "remove `\(entry.name)`: a `telegram` notifier takes `bot_token` and `chat_id` instead"
                : "remove `\(entry.name)`, or change `type` to \(kinds.count == 1 ? owners : "one of \(owners)")"
            self.error(
                entry.key.position,
                view.path(of: entry.name),
                "`\(entry.name)` applies only to \(owners) notifiers, but this one has `type: \(kind.rawValue)`",
                fix: fix
            )
        }
    }

    /// Reads `url` or `url_file`, which every type but `telegram` requires.
    private func notifierURL(_ view: MappingView, kind: NotifierSettings.Kind?) -> (secret: Secret?, present: Bool) {
        let url = self.secret(view, "url")
        if !url.present {
            let expected = kind == .ntfy ? "the topic URL or `url_file`" : "the webhook URL or `url_file`"
            let example = kind == .ntfy ? "https://ntfy.example.com/nightshift-alerts" : "${SLACK_WEBHOOK_URL}"
            self.missing(view, "url", expected: expected, example: example)
            return url
        }
        guard let secret = url.secret else { return url }
        let key = view.entry("url") != nil ? "url" : "url_file"
        if !ConfigReader.isHTTPURL(secret.value) {
            // The URL is a credential, so the message names its source and never the value.
            self.error(
                view.value(key)!.position,
                view.path(of: key),
                "invalid notifier URL \(secret): expected an `http://` or `https://` URL with a host name",
                fix: "check the value. \(ConfigReader.urlExample(for: kind))"
            )
            return (nil, true)
        }
        if kind == .ntfy, !ConfigReader.hasTopic(secret.value) {
            self.error(
                view.value(key)!.position,
                view.path(of: key),
                "invalid ntfy URL \(secret): expected a topic URL whose last path segment is the topic",
                fix: "write the topic URL, such as `https://ntfy.example.com/nightshift-alerts`"
            )
            return (nil, true)
        }
        return url
    }

    private static func urlExample(for kind: NotifierSettings.Kind?) -> String {
        switch kind {
        case .discord: "A Discord URL looks like `https://discord.com/api/webhooks/<id>/<token>`"
        case .teams: "A Workflows URL is the HTTP POST URL of the workflow's \"When a Teams webhook request\" trigger"
        case .mattermost: "A Mattermost URL looks like `https://chat.example.com/hooks/<key>`"
        case .ntfy: "An ntfy URL is the topic URL, such as `https://ntfy.example.com/nightshift-alerts`"
        case .webhook: "Write the full endpoint URL, such as `https://hooks.example.com/nightshift`"
        case .slack, .telegram, nil: "A Slack URL looks like `https://hooks.slack.com/services/...`"
        }
    }

    static func hasTopic(_ url: String) -> Bool {
        guard let components = URLComponents(string: url) else { return false }
        return components.path.split(separator: "/").last.map { !$0.isEmpty } ?? false
    }

    private func nonEmptyString(_ view: MappingView, _ name: String) -> String? {
        guard view.entry(name) != nil else { return nil }
        return self.requiredString(view, name, example: "nightshift")
    }

    private struct TelegramValues {
        var token: Secret?
        var chatId: String?
        var threadId: Int?
        var apiURL: String?
        var parseMode: NotifierSettings.TelegramParseMode
    }

    private func telegramSettings(_ view: MappingView) -> TelegramValues {
        let token = self.secret(view, "bot_token")
        if !token.present {
            self.missing(
                view,
                "bot_token",
                expected: "the bot token from @BotFather, or `bot_token_file`",
                example: "${TELEGRAM_BOT_TOKEN}"
            )
        }
        var botToken = token.secret
        if let secret = botToken, !ConfigReader.isTelegramToken(secret.value) {
            let key = view.entry("bot_token") != nil ? "bot_token" : "bot_token_file"
            self.error(
                view.value(key)!.position,
                view.path(of: key),
                "invalid Telegram bot token \(secret): expected `<bot id>:<secret>`, digits, a colon and then letters, "
                    + "digits, `_` or `-`",
                fix: "copy the whole token that @BotFather shows, such as `123456789:AA...`"
            )
            botToken = nil
        }

        var chatId: String? = nil
        if view.entry("chat_id") == nil {
            self.missing(
                view,
                "chat_id",
                expected: "the numeric chat id or an `@channel` name",
                example: "-1001234567890"
            )
        } else if let text = self.string(view, "chat_id") {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if ConfigReader.isTelegramChatId(trimmed) {
                chatId = trimmed
            } else {
                self.error(
                    view.value("chat_id")!.position,
                    view.path(of: "chat_id"),
                    "invalid Telegram chat id `\(text)`: expected a whole number such as `-1001234567890` or a "
                        + "public channel name such as `@nightshift_alerts`",
                    fix: "send a message to the bot and read `chat.id` from its getUpdates, or use `@channelname`"
                )
            }
        }

        let threadId = self.integer(view, "message_thread_id", example: "42")
        let apiURL = self.endpoint(view, "api_url")
        var parseMode = NotifierSettings.TelegramParseMode.html
        if let text = self.string(view, "parse_mode") {
            if let mode = NotifierSettings.TelegramParseMode(rawValue: text.lowercased()) {
                parseMode = mode
            } else {
                self.error(
                    view.value("parse_mode")!.position,
                    view.path(of: "parse_mode"),
                    "unknown Telegram parse mode `\(text)`: expected `html` or `markdownv2`",
                    fix: "write `parse_mode: html`, or remove it to use HTML"
                )
            }
        }
        return TelegramValues(token: botToken, chatId: chatId, threadId: threadId, apiURL: apiURL, parseMode: parseMode)
    }

    /// Returns whether `token` has the shape of a Bot API token: the bot id, a colon and the secret part.
    static func isTelegramToken(_ token: String) -> Bool {
        let parts = token.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isASCII), parts[0].allSatisfy(\.isNumber),
            parts[1].count >= 20
        else {
            return false
        }
        return parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    static func isTelegramChatId(_ text: String) -> Bool {
        if text.hasPrefix("@") {
            let name = text.dropFirst()
            return name.count >= 4 && name.first?.isLetter == true
                && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
        return Int64(text) != nil
    }

    private struct NtfyValues {
        var token: Secret?
        var priority: Int?
        var tags: [String]
    }

    private func ntfySettings(_ view: MappingView) -> NtfyValues? {
        var valid = true
        let token = self.secret(view, "token")
        if token.present && token.secret == nil {
            valid = false
        }
        if let secret = token.secret, !secret.value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) {
            let key = view.entry("token") != nil ? "token" : "token_file"
            self.error(
                view.value(key)!.position,
                view.path(of: key),
                "invalid ntfy access token \(secret): expected printable ASCII without spaces",
                fix: "copy the token (it starts with `tk_`) from `ntfy token add` or the web app again"
            )
            valid = false
        }

        var priority: Int? = nil
        if let node = view.value("priority"), let text = self.string(view, "priority") {
            let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
            if let number = Int(trimmed), (1...5).contains(number) {
                priority = number
            } else if let index = ConfigReader.ntfyPriorityNames.firstIndex(of: trimmed) {
                priority = index + 1
            } else if trimmed == "urgent" {
                priority = 5
            } else {
                self.error(
                    node.position,
                    view.path(of: "priority"),
                    "invalid ntfy priority `\(text)`: expected 1 to 5 or one of "
                        + Suggestions.list(ConfigReader.ntfyPriorityNames),
                    fix: "write `priority: 3` (default) or `priority: high`"
                )
                valid = false
            }
        }

        var tags: [String] = []
        for item in self.stringList(view, "tags") ?? [] {
            let tag = item.value.trimmingCharacters(in: .whitespaces)
            guard !tag.isEmpty, !tag.contains(","), tag.allSatisfy({ $0.isASCII && !$0.isNewline }) else {
                self.error(
                    item.position,
                    item.path,
                    "invalid ntfy tag `\(item.value)`: expected a non-empty ASCII word without commas",
                    fix: "write an emoji short code such as `robot` or a word such as `training`"
                )
                valid = false
                continue
            }
            tags.append(tag)
        }
        return valid ? NtfyValues(token: token.secret, priority: priority, tags: tags) : nil
    }

    private func notifierKind(_ view: MappingView) -> NotifierSettings.Kind? {
        let names = NotifierSettings.Kind.allCases.map(\.rawValue)
        guard view.entry("type") != nil else {
            self.missing(view, "type", expected: "one of \(Suggestions.list(names))", example: "slack")
            return nil
        }
        guard let text = self.string(view, "type") else { return nil }
        if let kind = NotifierSettings.Kind(rawValue: text) {
            return kind
        }
        let suggestion = Suggestions.closest(to: text, in: names)
        self.error(
            view.value("type")!.position,
            view.path(of: "type"),
            "unknown notifier type `\(text)`: expected one of \(Suggestions.list(names))"
                + ConfigReader.didYouMean(suggestion),
            fix: "write `type: slack` for a Slack incoming webhook, `type: webhook` for a signed JSON webhook, "
                + "or the name of another supported service"
        )
        return nil
    }

    private func events(_ view: MappingView) -> Set<RunEventKind>? {
        guard let items = self.stringList(view, "events") else { return nil }
        let names = RunEventKind.allCases.map(\.rawValue)
        var events = Set<RunEventKind>()
        for item in items {
            guard let event = RunEventKind(rawValue: item.value) else {
                let suggestion = Suggestions.closest(to: item.value, in: names)
                self.error(
                    item.position,
                    item.path,
                    "unknown event `\(item.value)`: expected one of \(Suggestions.list(names))"
                        + ConfigReader.didYouMean(suggestion),
                    fix: suggestion.map { "write `\($0)`" } ?? "use one of \(Suggestions.list(names))"
                )
                continue
            }
            events.insert(event)
        }
        if case .sequence(let written) = view.value("events")!.content, written.isEmpty {
            self.error(
                view.value("events")!.position,
                view.path(of: "events"),
                "expected at least one event, got an empty list",
                fix: "list events such as `[run_failed, teardown_failed]`, or remove `events` to receive all of them"
            )
        }
        return events
    }
}
