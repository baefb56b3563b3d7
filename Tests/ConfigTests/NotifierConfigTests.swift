import Foundation
import Support
import Testing

@testable import Config

@Suite struct NotifierConfigTests {
    static let environment = [
        "DISCORD_URL": "https://discord.com/api/webhooks/123/discordTokenABC",
        "TEAMS_URL": "https://prod.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=teamsSig1",
        "MM_URL": "https://chat.example.com/hooks/mattermostKey123",
        "TG_TOKEN": "123456789:AAHtelegramConfigToken_abc-XYZ",
        "NTFY_TOKEN": "tk_ntfyConfigToken123",
    ]

    @Test func everyNewTypeLoads() throws {
        let text = """
            notifiers:
              disc:
                type: discord
                url: ${DISCORD_URL}
                username: nightshift
              tg:
                type: telegram
                bot_token: ${TG_TOKEN}
                chat_id: -1001234567890
                parse_mode: MarkdownV2
                message_thread_id: 7
              teams:
                type: teams
                url: ${TEAMS_URL}
                events: [run_failed, teardown_failed, budget_warning]
              mm:
                type: mattermost
                url: ${MM_URL}
                channel: town-square
                expire_after: 2h
              phone:
                type: ntfy
                url: https://ntfy.example.com/nightshift-alerts
                token: ${NTFY_TOKEN}
                priority: high
                tags: [robot, training]

            """
        let configuration = try ConfigFixtures.load(text, environment: NotifierConfigTests.environment)
        #expect(configuration.notifiers.map(\.kind) == [.discord, .telegram, .teams, .mattermost, .ntfy])
        let telegram = try #require(configuration.notifier(named: "tg"))
        #expect(telegram.url == nil)
        #expect(telegram.botToken?.value == "123456789:AAHtelegramConfigToken_abc-XYZ")
        #expect(telegram.chatId == "-1001234567890")
        #expect(telegram.parseMode == .markdownv2)
        #expect(telegram.messageThreadId == 7)
        #expect(configuration.notifier(named: "disc")?.username == "nightshift")
        #expect(configuration.notifier(named: "teams")?.events == [.failed, .teardownFailed, .budgetWarning])
        #expect(configuration.notifier(named: "mm")?.channel == "town-square")
        #expect(configuration.notifier(named: "mm")?.expireAfter == 7200)
        #expect(configuration.notifier(named: "disc")?.expireAfter == 86_400)
        let ntfy = try #require(configuration.notifier(named: "phone"))
        #expect(ntfy.priority == 4)
        #expect(ntfy.tags == ["robot", "training"])
        #expect(ntfy.accessToken?.value == "tk_ntfyConfigToken123")
    }

    @Test func telegramRequiresTokenAndChat() throws {
        let text = "notifiers:\n  tg:\n    type: telegram\n"
        let errors = ConfigFixtures.diagnostics(text).filter { $0.severity == .error }
        #expect(errors.map(\.key).sorted() == ["notifiers.tg.bot_token", "notifiers.tg.chat_id"])
        #expect(errors.allSatisfy { $0.line == 3 && $0.column == 5 })
    }

    @Test func telegramRejectsURL() throws {
        let text =
            "notifiers:\n  tg:\n    type: telegram\n    url: https://api.example.com/x\n"
            + "    bot_token: ${TG_TOKEN}\n    chat_id: \"@nightshift_alerts\"\n"
        let error = try #require(ConfigFixtures.singleError(text, environment: NotifierConfigTests.environment))
        #expect(error.key == "notifiers.tg.url")
        #expect(error.line == 4)
        #expect(error.column == 5)
        #expect(error.fix.contains("takes `bot_token` and `chat_id` instead"))
    }

    @Test func telegramBadTokenHidesValue() throws {
        let text = "notifiers:\n  tg:\n    type: telegram\n    bot_token: ${TG_TOKEN}\n    chat_id: 12345\n"
        let error = try #require(
            ConfigFixtures.singleError(text, environment: ["TG_TOKEN": "not-a-telegram-token-value"])
        )
        #expect(error.key == "notifiers.tg.bot_token")
        #expect(error.line == 4)
        #expect(error.column == 16)
        #expect(error.message.hasPrefix("invalid Telegram bot token [secret from $TG_TOKEN]"))
        #expect(!error.message.contains("not-a-telegram"))
    }

    @Test func telegramBadChatAndMode() throws {
        let text =
            "notifiers:\n  tg:\n    type: telegram\n    bot_token: ${TG_TOKEN}\n    chat_id: my chat\n"
            + "    parse_mode: markdown\n"
        let errors = ConfigFixtures.diagnostics(text, environment: NotifierConfigTests.environment)
        let chat = try #require(errors.first { $0.key == "notifiers.tg.chat_id" })
        #expect(chat.line == 5)
        #expect(chat.column == 14)
        #expect(chat.message.hasPrefix("invalid Telegram chat id `my chat`"))
        let mode = try #require(errors.first { $0.key == "notifiers.tg.parse_mode" })
        #expect(mode.line == 6)
        #expect(mode.message == "unknown Telegram parse mode `markdown`: expected `html` or `markdownv2`")
    }

    @Test func ntfyRequiresTopic() throws {
        let text = "notifiers:\n  phone:\n    type: ntfy\n    url: https://ntfy.example.com/\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "notifiers.phone.url")
        #expect(error.line == 4)
        #expect(error.column == 10)
        #expect(error.message.contains("expected a topic URL"))
    }

    @Test func ntfyBadPriorityAndTag() throws {
        let text =
            "notifiers:\n  phone:\n    type: ntfy\n    url: https://ntfy.example.com/t\n    priority: 9\n"
            + "    tags: [\"a,b\"]\n"
        let errors = ConfigFixtures.diagnostics(text)
        let priority = try #require(errors.first { $0.key == "notifiers.phone.priority" })
        #expect(priority.line == 5)
        #expect(priority.column == 15)
        #expect(priority.message.hasPrefix("invalid ntfy priority `9`: expected 1 to 5"))
        let tag = try #require(errors.first { $0.key == "notifiers.phone.tags[0]" })
        #expect(tag.line == 6)
    }

    @Test func keysOfOtherTypesRejected() throws {
        let cases: [(type: String, key: String, value: String, owner: String)] = [
            ("discord", "chat_id", "1", "`telegram`"),
            ("teams", "token", "tk_x123456", "`ntfy`"),
            ("mattermost", "priority", "3", "`ntfy`"),
            ("ntfy", "username", "bot", "`discord`, `mattermost`"),
            ("discord", "channel", "x", "`mattermost`"),
            ("teams", "secret", "abcdef123456", "`webhook`"),
        ]
        for item in cases {
            let text =
                "notifiers:\n  n:\n    type: \(item.type)\n    url: https://h.example.com/a/b\n"
                + "    \(item.key): \(item.value)\n"
            let errors = ConfigFixtures.diagnostics(text).filter { $0.message.contains("applies only") }
            let error = try #require(errors.first, "\(item)")
            #expect(error.key == "notifiers.n.\(item.key)")
            #expect(error.line == 5)
            #expect(error.column == 5)
            #expect(
                error.message == "`\(item.key)` applies only to \(item.owner) notifiers, but this one has "
                    + "`type: \(item.type)`"
            )
        }
    }

    @Test func newEventNamesAccepted() throws {
        let text =
            "notifiers:\n  d:\n    type: discord\n    url: ${DISCORD_URL}\n"
            + "    events: [run_missed, run_skipped, budget_warning]\n"
        let configuration = try ConfigFixtures.load(text, environment: NotifierConfigTests.environment)
        #expect(configuration.notifiers.first?.events == [.missed, .skipped, .budgetWarning])
    }

    @Test func expireAfterOutOfRange() throws {
        let text = "notifiers:\n  d:\n    type: discord\n    url: ${DISCORD_URL}\n    expire_after: 30s\n"
        let error = try #require(ConfigFixtures.singleError(text, environment: NotifierConfigTests.environment))
        #expect(error.key == "notifiers.d.expire_after")
        #expect(error.line == 5)
        #expect(error.column == 19)
    }
}
