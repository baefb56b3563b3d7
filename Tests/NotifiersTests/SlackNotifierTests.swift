import Foundation
import HTTP
import Notifiers
import StandIns
import Support
import Testing

@Test func slackPayloadShape() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let capture = LogCapture()
    let notifier = SlackNotifier(name: "team", url: receiver.slackURL(token: slackToken), http: makeHTTP(capture))

    let receipt = try notifier.deliver(succeededNotification())

    #expect(receipt.status == 200)
    #expect(receipt.responseSnippet == "ok")
    let delivery = try #require(receiver.deliveries.first)
    #expect(delivery.method == "POST")
    #expect(delivery.path.hasSuffix("/" + slackToken))
    #expect(delivery.header("Content-Type") == "application/json")
    let payload = try #require(delivery.jsonObject)
    #expect(payload["text"] as? String == succeededNotification().summary)
    let blocks = try #require(payload["blocks"] as? [[String: Any]])
    #expect(blocks.map { $0["type"] as? String } == ["header", "section", "context"])
    #expect(slackHeader(payload) == ":white_check_mark: weekly-train succeeded")
    #expect(
        slackFields(payload) == [
            "*Job*\nweekly-train",
            "*Run id*\n20271204-0300-ab12",
            "*Outcome*\nsucceeded",
            "*Duration*\n1h 02m",
            "*Machine*\nA4000 (psq2w3e4r)",
            "*Estimated cost*\n~$0.78",
            "*Model*\n<https://huggingface.co/acme/weekly-model/commit/4f2a9c1|Hub commit>",
        ]
    )
    let context = try #require(blocks.last?["elements"] as? [[String: Any]])
    #expect(context.first?["text"] as? String == "event `20271204-0300-ab12:run_succeeded` at 2027-12-04T04:02:11Z")
}

@Test func slackFailureFieldsAndUrgentWarning() throws {
    let failed = SlackMessage.payload(for: failedNotification())
    #expect(slackHeader(failed) == ":x: weekly-train failed")
    #expect(slackFields(failed).contains("*Failed in state*\nwaitingForReady"))
    #expect(slackFields(failed).contains("*Reason*\nmachine stuck in provisioning for 20m"))

    let urgent = SlackMessage.payload(for: teardownFailedNotification())
    let blocks = try #require(urgent["blocks"] as? [[String: Any]])
    #expect(blocks.map { $0["type"] as? String } == ["header", "section", "section", "context"])
    #expect(slackHeader(urgent) == ":rotating_light: ACTION NEEDED: weekly-train teardown failed")
    let warning = (blocks[1]["text"] as? [String: Any])?["text"] as? String
    #expect(warning?.hasPrefix("*Machine psq2w3e4r may still be running and billing.*") == true)
    #expect((urgent["text"] as? String)?.contains("ACTION NEEDED: machine psq2w3e4r may still be running") == true)
}

@Test func slackEscapesControlCharacters() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let notification = RunNotification(
        kind: .failed,
        job: "a&b",
        runId: "r<1>",
        failedState: "running",
        reason: "loss > 3 & grad < 0 <!channel> <https://evil.example|click>",
        modelCommitURL: "https://hub.example/c?a=1&b=2|x"
    )
    let notifier = SlackNotifier(name: "team", url: receiver.slackURL(), http: makeHTTP(LogCapture()))
    _ = try notifier.deliver(notification)

    let payload = try #require(receiver.deliveries.first?.jsonObject)
    let text = try #require(payload["text"] as? String)
    #expect(text.contains("a&amp;b run r&lt;1&gt; failed"))
    #expect(text.contains("loss &gt; 3 &amp; grad &lt; 0 &lt;!channel&gt; &lt;https://evil.example|click&gt;"))
    #expect(!text.contains("<"))
    #expect(!text.contains(">"))
    let fields = slackFields(payload)
    #expect(fields.contains("*Job*\na&amp;b"))
    let escapedReason = "loss &gt; 3 &amp; grad &lt; 0 &lt;!channel&gt; &lt;https://evil.example|click&gt;"
    #expect(fields.contains("*Reason*\n" + escapedReason))
    #expect(fields.contains("*Model*\n<https://hub.example/c?a=1&amp;b=2%7Cx|Hub commit>"))
    // Only the three control characters change: other punctuation stays as typed.
    #expect(SlackMessage.escape("it's \"fine\" *bold* _x_") == "it's \"fine\" *bold* _x_")
}

@Test func slackTruncatesOverLimits() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let longJob = String(repeating: "j", count: 400)
    let longReason = String(repeating: "&", count: 50_000)
    let notification = RunNotification(kind: .failed, job: longJob, runId: "r1", reason: longReason)
    let notifier = SlackNotifier(name: "team", url: receiver.slackURL(), http: makeHTTP(LogCapture()))

    let receipt = try notifier.deliver(notification)

    #expect(receipt.status == 200)
    let payload = try #require(receiver.deliveries.first?.jsonObject)
    let marker = SlackMessage.truncationMarker
    let text = try #require(payload["text"] as? String)
    #expect(text.utf16.count <= SlackMessage.textLimit)
    #expect(text.utf16.count > SlackMessage.textLimit - 10)
    #expect(text.hasSuffix(marker))
    // The cut never splits an entity, so what precedes the marker ends with a whole `&amp;`.
    #expect(text.dropLast(marker.count).hasSuffix("&amp;"))

    let header = try #require(slackHeader(payload))
    #expect(header.utf16.count <= SlackMessage.headerLimit)
    #expect(header.hasSuffix(marker))
    #expect(header.hasPrefix(":x: jjj"))

    let reasonField = try #require(slackFields(payload).first { $0.hasPrefix("*Reason*\n") })
    #expect(reasonField.utf16.count <= SlackMessage.fieldLimit)
    #expect(reasonField.hasSuffix(marker))
    #expect(reasonField.dropLast(marker.count).hasSuffix("&amp;"))
    let jobField = try #require(slackFields(payload).first { $0.hasPrefix("*Job*\n") })
    #expect(jobField == "*Job*\n" + longJob)
}

@Test func truncateCountsUTF16Units() {
    // Each emoji is one character but two UTF-16 code units.
    let emoji = String(repeating: "🚀", count: 100)
    let cut = SlackMessage.truncate(emoji, limit: 50, escaping: false)
    #expect(cut.utf16.count <= 50)
    #expect(cut.hasSuffix(SlackMessage.truncationMarker))
    #expect(SlackMessage.truncate("short", limit: 50, escaping: true) == "short")
    #expect(SlackMessage.truncate("a&b", limit: 7, escaping: true) == "a&amp;b")
}

@Test func slackErrorsAreFinalWithFixes() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let notifier = SlackNotifier(name: "team", url: receiver.slackURL(token: slackToken), http: makeHTTP(LogCapture()))
    let cases: [(Int, String, String)] = [
        (400, "invalid_payload", "bug in nightshift"),
        (403, "action_prohibited", "workspace admin"),
        (404, "no_service", "Create a new incoming webhook"),
        (404, "channel_not_found", "channel no longer exists"),
        (410, "channel_is_archived", "Unarchive"),
    ]
    for (status, code, hint) in cases {
        receiver.respond(with: .slackError(status, code))
        let error = try #require(throws: NotifierError.self) { try notifier.deliver(succeededNotification()) }
        #expect(!error.isRetryable, "\(code)")
        #expect(error.status == status, "\(code)")
        #expect(error.description.contains(code), "\(code)")
        #expect(error.description.contains(hint), "\(code): \(error.description)")
        #expect(error.description.contains("will not be retried"), "\(code)")
        #expect(!error.description.contains(slackToken), "\(code)")
    }
}

@Test func slackRateLimitIsRetryable() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let notifier = SlackNotifier(name: "team", url: receiver.slackURL(), http: makeHTTP(LogCapture()))
    receiver.respond(with: [.tooManyRequests(retryAfter: 7), .slackError(500, "rollup_error")])

    let limited = try #require(throws: NotifierError.self) { try notifier.deliver(succeededNotification()) }
    #expect(limited.isRetryable)
    #expect(limited.status == 429)
    #expect(limited.retryAfter == 7)

    let serverError = try #require(throws: NotifierError.self) { try notifier.deliver(succeededNotification()) }
    #expect(serverError.isRetryable)
    #expect(serverError.retryAfter == nil)
    #expect(serverError.description.contains("rollup_error"))
}

@Test func slackRateLimitRetriedThenDelivered() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let capture = LogCapture()
    let notifier = SlackNotifier(name: "team", url: receiver.slackURL(token: slackToken), http: makeHTTP(capture))
    let dispatcher = NotificationDispatcher(
        notifiers: [(notifier, Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: NotificationRetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 5)
    )
    receiver.respond(with: .tooManyRequests(retryAfter: 1))

    dispatcher.enqueue(succeededNotification())

    #expect(dispatcher.flush(timeout: 5))
    let deliveries = receiver.deliveries
    #expect(deliveries.map(\.responseStatus) == [429, 200])
    if deliveries.count == 2 {
        // The second attempt waited for Retry-After rather than the 0.01 s backoff.
        let gap = deliveries[1].receivedAt.timeIntervalSince(deliveries[0].receivedAt)
        #expect(gap >= 0.9, "gap \(gap)")
    }
    let retry = try #require(capture.records.first { $0.message == "Notification delivery failed, retrying" })
    #expect(retry.level == .warning)
    #expect(retry.metadata["retry.after_s"] == "1")
    #expect(retry.metadata["http.status"] == "429")
    let delivered = try #require(capture.records.first { $0.message == "Notification delivered" })
    #expect(delivered.metadata["delivery.attempt"] == "2")
    #expect(delivered.metadata["notifier"] == "team")
}

@Test func slackNoServiceNotRetried() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let capture = LogCapture()
    let notifier = SlackNotifier(name: "team", url: receiver.slackURL(token: slackToken), http: makeHTTP(capture))
    let dispatcher = NotificationDispatcher(
        notifiers: [(notifier, Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 5)
    )
    receiver.respond(with: .slackError(404, "no_service"))

    dispatcher.enqueue(failedNotification())

    #expect(dispatcher.flush(timeout: 5))
    #expect(receiver.deliveries.count == 1)
    let failure = try #require(capture.records.first { $0.level >= .error })
    #expect(failure.message == "Notification rejected by receiver, not retrying")
    #expect(failure.metadata["notifier"] == "team")
    #expect(failure.metadata["event.id"] == "20271204-0300-ab12:run_failed")
    #expect(failure.metadata["http.status"] == "404")
    #expect(failure.metadata["delivery.attempt"] == "1")
    #expect(failure.metadata["error"]?.contains("no_service") == true)
    #expect(!capture.records.contains { $0.message == "Notification delivery failed, retrying" })
}

@Test func slackNotifierDescriptionHidesURL() {
    let notifier = SlackNotifier(
        name: "team",
        url: "https://hooks.slack.com/services/T1/B2/\(slackToken)",
        http: makeHTTP(LogCapture())
    )
    #expect(notifier.displayURL == "https://hooks.slack.com/[REDACTED]")
    #expect("\(notifier)" == "SlackNotifier(team, https://hooks.slack.com/[REDACTED])")
    #expect(!String(reflecting: notifier).contains(slackToken))
}
