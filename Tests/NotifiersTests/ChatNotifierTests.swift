import Foundation
import HTTP
import Notifiers
import StandIns
import Support
import Testing

/// Text with markup of every service, mentions, entities, quotes and a line break, as a job could log it.
let hostileText =
    "*bold* _it_ ~s~ `code` <b>x</b> &amp; @everyone @channel <@123> [a](http://e) # - . ! | \\ \"q\"\nend"

/// A failed run whose reason is `reasonLength` characters of hostile text plus emoji, over every service's limit.
func hostileNotification(reasonLength: Int = 20_000) -> RunNotification {
    var reason = ""
    while reason.count < reasonLength {
        reason += hostileText + " 🚀 "
    }
    return RunNotification(
        kind: .failed,
        job: "job <&> *x* @here",
        runId: "20271204-0300-ab12",
        occurredAt: sampleDate,
        machineId: "psq2w3e4r",
        machineType: "A4000",
        durationSeconds: 125,
        estimatedCostUSD: 0.05,
        failedState: "running",
        reason: reason,
        modelCommitURL: "https://huggingface.co/acme/model/commit/4f2a9c1",
        failedStep: "train"
    )
}

func startChatReceiver(_ rules: any ChatServiceRules) throws -> ChatServiceReceiver {
    let receiver = ChatServiceReceiver(rules: rules)
    try receiver.start()
    return receiver
}

/// Expects `error` to be retryable with `retryAfter` seconds.
func expectRetryable(_ body: () throws -> DeliveryReceipt, retryAfter: Double?) {
    do {
        _ = try body()
        Issue.record("expected a retryable error")
    } catch let error as NotifierError {
        #expect(error.isRetryable)
        #expect(error.status == 429)
        #expect(error.retryAfter == retryAfter)
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

// MARK: - Discord

@Test func discordMessageIsAccepted() throws {
    let rules = DiscordWebhookRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = DiscordNotifier(name: "disc", url: rules.url(on: receiver), http: makeHTTP(LogCapture()))

    let receipt = try notifier.deliver(succeededNotification())

    #expect(receipt.status == 200)
    let request = try #require(receiver.accepted.first)
    #expect(request.request.queryValue("wait") == "true")
    let json = try #require(request.json)
    #expect((json["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [])
    let embed = try #require((json["embeds"] as? [[String: Any]])?.first)
    #expect(embed["title"] as? String == "weekly\\-train succeeded")
    #expect(embed["url"] as? String == "https://huggingface.co/acme/weekly-model/commit/4f2a9c1")
    let fields = embed["fields"] as? [[String: Any]] ?? []
    #expect(fields.contains { $0["name"] as? String == "Estimated cost" && $0["value"] as? String == "\\~$0\\.78" })
    #expect((embed["footer"] as? [String: Any])?["text"] as? String == "event 20271204\\-0300\\-ab12\\:run\\_succeeded")
}

@Test func discordHostileTextFitsLimits() throws {
    let rules = DiscordWebhookRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = DiscordNotifier(name: "disc", url: rules.url(on: receiver), http: makeHTTP(LogCapture()))

    _ = try notifier.deliver(hostileNotification())

    let request = try #require(receiver.accepted.first)
    let json = try #require(request.json)
    let content = try #require(json["content"] as? String)
    #expect(
        content.hasSuffix(
            MessageText.truncationMarker.replacingOccurrences(of: "[", with: "\\[")
                .replacingOccurrences(of: "]", with: "\\]").replacingOccurrences(of: ".", with: "\\.")
        )
    )
    #expect(content.contains("\\<@123\\>"))
    #expect(!content.contains("<b>"))
    let embed = try #require((json["embeds"] as? [[String: Any]])?.first)
    let description = try #require(embed["description"] as? String)
    #expect(description.contains("\\*bold\\*"))
    #expect(description.utf16.count <= DiscordNotifier.embedDescriptionLimit)
}

@Test func discordStandInRejectsLongContent() throws {
    let rules = DiscordWebhookRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let http = makeHTTP(LogCapture())
    let body = try JSONSerialization.data(withJSONObject: ["content": String(repeating: "x", count: 2001)])
    let response = try http.send(
        HTTPClientRequest(
            method: "POST",
            url: rules.url(on: receiver),
            headers: [("Content-Type", "application/json")],
            body: body
        ),
        retry: .never
    )
    #expect(response.status == 400)
}

@Test func discordRetryAfterFromJSON() throws {
    let rules = DiscordWebhookRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    receiver.respond(with: [.rateLimited(retryAfter: 0.35)])
    let notifier = DiscordNotifier(name: "disc", url: rules.url(on: receiver), http: makeHTTP(LogCapture()))

    expectRetryable({ try notifier.deliver(succeededNotification()) }, retryAfter: 0.35)
}

@Test func discordDeletedWebhookIsFinal() throws {
    let rules = DiscordWebhookRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = DiscordNotifier(
        name: "disc",
        url: receiver.baseURL + "/api/webhooks/1/deletedTokenXYZ",
        http: makeHTTP(LogCapture())
    )

    #expect {
        try notifier.deliver(succeededNotification())
    } throws: { error in
        guard let error = error as? NotifierError else { return false }
        return !error.isRetryable && error.status == 404 && !error.description.contains("deletedTokenXYZ")
            && error.description.contains("deleted in Discord")
    }
}

// MARK: - Telegram

private func telegram(
    _ receiver: ChatServiceReceiver,
    _ rules: TelegramBotRules,
    mode: TelegramNotifier.ParseMode,
    capture: LogCapture = LogCapture()
) -> TelegramNotifier {
    TelegramNotifier(
        name: "tg",
        botToken: rules.token,
        chatId: rules.chatId,
        parseMode: mode,
        apiURL: receiver.baseURL,
        http: makeHTTP(capture)
    )
}

@Test(arguments: [TelegramNotifier.ParseMode.html, .markdownV2])
func telegramHostileTextParses(mode: TelegramNotifier.ParseMode) throws {
    let rules = TelegramBotRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }

    _ = try telegram(receiver, rules, mode: mode).deliver(hostileNotification())

    let requests = receiver.requests
    let rejections = requests.compactMap { $0.rejection }
    #expect(rejections.isEmpty, "\(rejections)")
    #expect(requests.count >= 5)
    let first = try #require(requests.first?.json)
    #expect(first["chat_id"] as? Int == -1_001_234_567_890)
    #expect(first["parse_mode"] as? String == mode.rawValue)
    let text = try #require(first["text"] as? String)
    #expect(text.contains("(1/\(requests.count))") || text.contains("\\(1/\(requests.count)\\)"))
}

@Test func telegramShortMessageIsOnePart() throws {
    let rules = TelegramBotRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }

    _ = try telegram(receiver, rules, mode: .html).deliver(failedNotification())

    let request = try #require(receiver.accepted.first)
    #expect(receiver.requests.count == 1)
    let text = try #require(request.json?["text"] as? String)
    #expect(text.hasPrefix("<b>weekly-train failed</b>\n"))
    #expect(text.contains("Reason: machine stuck in provisioning for 20m"))
    #expect(text.contains("Event: 20271204-0300-ab12:run_failed"))
}

@Test func telegramStandInRejectsUnescapedMarkdown() throws {
    #expect(
        {
            if case .failure = TelegramBotRules.parseMarkdownV2("a-b") { return true }; return false
        }()
    )
    #expect(
        {
            if case .success("a-b") = TelegramBotRules.parseMarkdownV2("a\\-b") { return true }; return false
        }()
    )
    #expect(
        {
            if case .failure = TelegramBotRules.parseHTML("a < b") { return true }; return false
        }()
    )
    #expect(
        {
            if case .success("a<b") = TelegramBotRules.parseHTML("a&lt;b") { return true }; return false
        }()
    )
}

@Test func telegramRetryAfterFromParameters() throws {
    let rules = TelegramBotRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    receiver.respond(with: [.rateLimited(retryAfter: 3)])

    expectRetryable({ try telegram(receiver, rules, mode: .html).deliver(succeededNotification()) }, retryAfter: 3)
}

@Test func telegramTokenNeverShown() throws {
    let rules = TelegramBotRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let capture = LogCapture()
    let notifier = TelegramNotifier(
        name: "tg",
        botToken: "987654321:AAwrongTokenForTheStandIn_xyz",
        chatId: rules.chatId,
        apiURL: receiver.baseURL,
        http: makeHTTP(capture)
    )

    #expect {
        try notifier.deliver(succeededNotification())
    } throws: { error in
        guard let error = error as? NotifierError else { return false }
        return error.status == 401 && !error.isRetryable && !error.description.contains("AAwrongToken")
    }
    #expect(!notifier.description.contains("AAwrongToken"))
    #expect(!rawLogStrings(capture).contains { $0.contains("AAwrongToken") })
}

// MARK: - Teams

@Test func teamsCardIsAccepted() throws {
    let rules = TeamsWorkflowRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = TeamsNotifier(name: "teams", url: rules.url(on: receiver), http: makeHTTP(LogCapture()))

    let receipt = try notifier.deliver(teardownFailedNotification())

    #expect(receipt.status == 202)
    let json = try #require(receiver.accepted.first?.json)
    let attachment = try #require((json["attachments"] as? [[String: Any]])?.first)
    #expect(attachment["contentUrl"] is NSNull)
    let card = try #require(attachment["content"] as? [String: Any])
    #expect(card["version"] as? String == "1.4")
    let body = card["body"] as? [[String: Any]] ?? []
    #expect(body.first?["text"] as? String == "ACTION NEEDED: weekly\\-train teardown failed")
    #expect(body.first?["color"] as? String == "Attention")
}

@Test func teamsHostileTextFitsLimits() throws {
    let rules = TeamsWorkflowRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = TeamsNotifier(name: "teams", url: rules.url(on: receiver), http: makeHTTP(LogCapture()))

    _ = try notifier.deliver(hostileNotification())

    let request = try #require(receiver.accepted.first)
    #expect(request.request.body.count < TeamsWorkflowRules.payloadLimit)
    let card = ((request.json?["attachments"] as? [[String: Any]])?.first?["content"]) as? [String: Any]
    let facts = ((card?["body"] as? [[String: Any]])?.first { $0["type"] as? String == "FactSet" })?["facts"]
    let reason = (facts as? [[String: String]])?.first { $0["title"] == "Reason" }?["value"]
    #expect(reason?.hasSuffix("… \\[truncated\\]") == true)
    #expect((reason?.utf16.count ?? .max) <= TeamsNotifier.textLimit)
    #expect(card?["actions"] != nil)
}

@Test func teamsRateLimitUsesRetryAfter() throws {
    let rules = TeamsWorkflowRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    receiver.respond(with: [.rateLimited(retryAfter: 2)])
    let notifier = TeamsNotifier(name: "teams", url: rules.url(on: receiver), http: makeHTTP(LogCapture()))

    expectRetryable({ try notifier.deliver(succeededNotification()) }, retryAfter: 2)
}

@Test func teamsMissingSignatureIsFinal() throws {
    let rules = TeamsWorkflowRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let url = rules.url(on: receiver).replacingOccurrences(of: rules.signature, with: "wrongSig")
    let notifier = TeamsNotifier(name: "teams", url: url, http: makeHTTP(LogCapture()))

    #expect {
        try notifier.deliver(succeededNotification())
    } throws: { error in
        guard let error = error as? NotifierError else { return false }
        return error.status == 401 && !error.isRetryable && !error.description.contains("wrongSig")
    }
}

// MARK: - Mattermost

@Test func mattermostSplitsLongPosts() throws {
    let rules = MattermostWebhookRules(maxPostLength: 4000)
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = MattermostNotifier(
        name: "mm",
        url: rules.url(on: receiver),
        channel: "town-square",
        http: makeHTTP(LogCapture())
    )

    let receipt = try notifier.deliver(hostileNotification())

    #expect(receipt.responseSnippet == "ok")
    let requests = receiver.requests
    let rejections = requests.compactMap { $0.rejection }
    #expect(rejections.isEmpty, "\(rejections)")
    #expect(requests.count >= 5)
    let texts = requests.compactMap { $0.json?["text"] as? String }
    #expect(texts.allSatisfy { !$0.contains("@everyone") && !$0.contains("@channel") && !$0.contains("@here") })
    #expect(texts.allSatisfy { $0.unicodeScalars.count <= MattermostNotifier.textLimit })
    #expect(texts.first?.hasPrefix("**job \\<&\\> \\*x\\* @\u{200B}here failed \\(1/\(texts.count)\\)**") == true)
    #expect(requests.first?.json?["channel"] as? String == "town-square")
}

@Test func mattermostRateLimitUsesRetryAfter() throws {
    let rules = MattermostWebhookRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    receiver.respond(with: [.rateLimited(retryAfter: 4)])
    let notifier = MattermostNotifier(name: "mm", url: rules.url(on: receiver), http: makeHTTP(LogCapture()))

    expectRetryable({ try notifier.deliver(succeededNotification()) }, retryAfter: 4)
}

// MARK: - ntfy

@Test func ntfyPublishesJSON() throws {
    let rules = NtfyRules(token: "tk_ntfyAccessToken123")
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = try NtfyNotifier(
        name: "phone",
        topicURL: receiver.baseURL + "/nightshift-alerts",
        token: "tk_ntfyAccessToken123",
        tags: ["robot"],
        http: makeHTTP(LogCapture())
    )

    _ = try notifier.deliver(teardownFailedNotification())

    let request = try #require(receiver.accepted.first)
    #expect(request.request.path == "/")
    let json = try #require(request.json)
    #expect(json["topic"] as? String == "nightshift-alerts")
    #expect(json["priority"] as? Int == 5)
    #expect(json["tags"] as? [String] == ["rotating_light", "robot"])
    #expect(json["title"] as? String == "ACTION NEEDED: weekly-train teardown failed")
    #expect((json["message"] as? String)?.contains("Event: 20271204-0300-ab12:teardown_failed") == true)
}

@Test func ntfyLongMessageIsCut() throws {
    let rules = NtfyRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = try NtfyNotifier(
        name: "phone",
        topicURL: receiver.baseURL + "/alerts",
        http: makeHTTP(LogCapture())
    )

    _ = try notifier.deliver(hostileNotification())

    let json = try #require(receiver.accepted.first?.json)
    let message = try #require(json["message"] as? String)
    #expect(message.utf8.count <= NtfyNotifier.messageLimit)
    #expect(message.hasSuffix(MessageText.truncationMarker))
    #expect(!(json["title"] as? String ?? "\n").contains("\n"))
    #expect(json["priority"] as? Int == 4)
}

@Test func ntfyWrongTokenIsFinal() throws {
    let rules = NtfyRules(token: "tk_right")
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = try NtfyNotifier(
        name: "phone",
        topicURL: receiver.baseURL + "/alerts",
        token: "tk_wrongSecretValue",
        http: makeHTTP(LogCapture())
    )

    #expect {
        try notifier.deliver(succeededNotification())
    } throws: { error in
        guard let error = error as? NotifierError else { return false }
        return error.status == 401 && !error.isRetryable && !error.description.contains("tk_wrong")
    }
}

@Test func ntfyRateLimitIsRetryable() throws {
    let rules = NtfyRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    receiver.respond(with: [.rateLimited(retryAfter: 1)])
    let notifier = try NtfyNotifier(name: "phone", topicURL: receiver.baseURL + "/alerts", http: makeHTTP(LogCapture()))

    expectRetryable({ try notifier.deliver(succeededNotification()) }, retryAfter: nil)
}

@Test func ntfyRejectsTopiclessURL() {
    #expect(throws: NotifierError.self) {
        try NtfyNotifier(name: "phone", topicURL: "http://127.0.0.1:9/", http: makeHTTP(LogCapture()))
    }
}

// MARK: - Shared text handling

@Test func splitKeepsEveryCharacter() {
    let text = (1...300).map { "line \($0) *x*" }.joined(separator: "\n")
    let escape: (String) -> String = { DiscordNotifier.escape($0) }
    let pieces = MessageText.split(text, limit: 200, unit: .utf16, escape: escape)
    #expect(pieces.count > 10)
    #expect(pieces.allSatisfy { $0.utf16.count <= 200 })
    #expect(pieces.joined() == escape(text))
    #expect(pieces.dropLast().allSatisfy { $0.hasSuffix("\n") })
}

@Test func splitCutsOverlongLine() {
    let text = String(repeating: "🚀", count: 1000)
    let pieces = MessageText.split(text, limit: 300, unit: .unicodeScalars)
    #expect(pieces.count == 4)
    #expect(pieces.allSatisfy { $0.unicodeScalars.count <= 300 })
    #expect(pieces.joined() == text)
}

@Test func newEventKindsHaveSummaries() {
    let missed = RunNotification(
        kind: .missed,
        job: "nightly",
        runId: "r1",
        scheduledAt: sampleDate
    )
    #expect(missed.summary == "nightshift: nightly missed the run scheduled for 2027-12-04T04:02:11Z")
    let skipped = RunNotification(kind: .skipped, job: "nightly", runId: "r0", scheduledAt: sampleDate)
    #expect(skipped.summary.contains("because run r0 is still running"))
    let budget = RunNotification(
        kind: .budgetWarning,
        job: "nightly",
        runId: "r2",
        estimatedCostUSD: 8.5,
        budgetUSD: 10
    )
    #expect(budget.summary == "nightshift: nightly run r2 has cost ~$8.50 of its $10.00 budget")
    #expect(RunEventKind.budgetWarning.rawValue == "budget_warning")
    #expect(RunEventKind.missed.rawValue == "run_missed")
    #expect(RunEventKind.skipped.rawValue == "run_skipped")
}

// MARK: - Tester

@Test func testerReportsEachOutcome() throws {
    let rules = DiscordWebhookRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    let notifier = DiscordNotifier(name: "disc", url: rules.url(on: receiver), http: makeHTTP(LogCapture()))

    let delivered = NotifierTester.run(notifier)
    #expect(delivered.outcome == .delivered)
    #expect(delivered.exitCode == .success)
    #expect(delivered.status == 200)
    let sent = try #require(receiver.accepted.first?.json)
    #expect((sent["content"] as? String)?.hasPrefix("nightshift TEST") == true)

    receiver.respond(with: [.rateLimited(retryAfter: 2)])
    let limited = NotifierTester.run(notifier)
    #expect(limited.outcome == .retryable)
    #expect(limited.exitCode == .temporaryFailure)
    #expect(limited.retryAfter == 2)

    let gone = DiscordNotifier(
        name: "gone",
        url: receiver.baseURL + "/api/webhooks/9/goneTok",
        http: makeHTTP(LogCapture())
    )
    let rejected = NotifierTester.run(gone)
    #expect(rejected.outcome == .rejected)
    #expect(rejected.exitCode == .unavailable)
    #expect(rejected.answer.contains("Unknown Webhook"))
    #expect(!rejected.description.contains("goneTok"))

    receiver.stop()
    let down = NotifierTester.run(notifier)
    #expect(down.outcome == .retryable)
    #expect(down.status == nil)
    #expect(!down.description.contains(rules.token))
}
