import Foundation
import HTTP
import Notifiers
import StandIns
import Support
import Testing

private func temporaryDatabase() -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("journal.sqlite").path
}

private func ntfy(_ receiver: ChatServiceReceiver, name: String = "phone", capture: LogCapture) throws -> NtfyNotifier {
    try NtfyNotifier(name: name, topicURL: receiver.baseURL + "/alerts", http: makeHTTP(capture))
}

@Test func outboxSurvivesRestart() throws {
    let path = temporaryDatabase()
    let receiver = try startChatReceiver(NtfyRules())
    defer { receiver.stop() }
    receiver.stop()
    let capture = LogCapture()
    let retry = NotificationRetryPolicy(maxAttempts: 1000, baseDelay: 0.05, maxDelay: 0.1)
    let notifications = (1...3).map { succeededNotification(runId: "run-\($0)") }

    let first = NotificationDispatcher(
        subscriptions: [NotifierSubscription(notifier: try ntfy(receiver, capture: capture), events: [.succeeded])],
        outbox: try NotificationOutbox(path: path),
        logger: makeLogger(capture),
        retry: retry
    )
    for notification in notifications {
        #expect(first.enqueue(notification) == 1)
    }
    #expect(first.enqueue(notifications[0]) == 0, "a repeated event id is queued once")
    Thread.sleep(forTimeInterval: 0.3)
    #expect(first.stop(timeout: 5))
    #expect(first.stats.pending == 3)
    #expect(receiver.requests.isEmpty)

    try receiver.start()
    let second = NotificationDispatcher(
        subscriptions: [NotifierSubscription(notifier: try ntfy(receiver, capture: capture), events: [.succeeded])],
        outbox: try NotificationOutbox(path: path),
        logger: makeLogger(capture),
        retry: retry
    )
    defer { second.stop() }
    #expect(second.flush(timeout: 5))

    let ids = receiver.accepted.compactMap { ($0.json?["message"] as? String)?.components(separatedBy: "Event: ").last }
    #expect(ids.sorted() == notifications.map(\.eventId).sorted())
    #expect(second.stats == NotificationStats(pending: 0, delivered: 3, expired: 0, rejected: 0))
    #expect(capture.records.contains { $0.message == "Resuming notifications from the outbox" })
}

@Test func outboxExpiresUndelivered() throws {
    let receiver = try startChatReceiver(NtfyRules())
    defer { receiver.stop() }
    receiver.stop()
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        subscriptions: [
            NotifierSubscription(notifier: try ntfy(receiver, capture: capture), events: [.teardownFailed], expiry: 0.3)
        ],
        outbox: try NotificationOutbox(path: ":memory:"),
        logger: makeLogger(capture),
        retry: NotificationRetryPolicy(maxAttempts: 1000, baseDelay: 0.05, maxDelay: 0.1)
    )
    defer { dispatcher.stop() }

    dispatcher.enqueue(teardownFailedNotification())

    #expect(dispatcher.flush(timeout: 5))
    #expect(dispatcher.stats.expired == 1)
    #expect(dispatcher.stats.delivered == 0)
    let expired = try #require(capture.records.first { $0.message == "Notification expired undelivered" })
    #expect(expired.level == .critical)
    #expect(expired.metadata["event.id"] == "20271204-0300-ab12:teardown_failed")
}

@Test func outboxHonoursRetryAfter() throws {
    let rules = DiscordWebhookRules()
    let receiver = try startChatReceiver(rules)
    defer { receiver.stop() }
    receiver.respond(with: [.rateLimited(retryAfter: 0.6)])
    let capture = LogCapture()
    let notifier = DiscordNotifier(name: "disc", url: rules.url(on: receiver), http: makeHTTP(capture))
    let dispatcher = NotificationDispatcher(
        subscriptions: [NotifierSubscription(notifier: notifier, events: Set(RunEventKind.allCases))],
        outbox: try NotificationOutbox(path: ":memory:"),
        logger: makeLogger(capture),
        retry: NotificationRetryPolicy(maxAttempts: 10, baseDelay: 0.01, maxDelay: 0.02)
    )
    defer { dispatcher.stop() }

    dispatcher.enqueue(succeededNotification(runId: "a"))
    dispatcher.enqueue(succeededNotification(runId: "b"))

    #expect(dispatcher.flush(timeout: 5))
    let requests = receiver.requests
    #expect(requests.map(\.status) == [429, 200, 200])
    if requests.count == 3 {
        let gap = requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt)
        #expect(gap >= 0.55, "gap \(gap)")
    }
    let retry = try #require(capture.records.first { $0.message == "Notification delivery failed, retrying" })
    #expect(retry.metadata["retry.after_s"] == "0.6")
}

@Test func slowChatReceiverDoesNotBlockOthers() throws {
    let slow = try startChatReceiver(MattermostWebhookRules())
    defer { slow.stop() }
    slow.setDelay(1.5)
    let fast = try startChatReceiver(NtfyRules())
    defer { fast.stop() }
    let capture = LogCapture()
    let mattermost = MattermostNotifier(
        name: "mm",
        url: MattermostWebhookRules().url(on: slow),
        http: makeHTTP(capture)
    )
    let dispatcher = NotificationDispatcher(
        subscriptions: [
            NotifierSubscription(notifier: mattermost, events: Set(RunEventKind.allCases)),
            NotifierSubscription(notifier: try ntfy(fast, capture: capture), events: Set(RunEventKind.allCases)),
        ],
        outbox: try NotificationOutbox(path: ":memory:"),
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 3)
    )
    defer { dispatcher.stop() }

    let started = Date()
    dispatcher.enqueue(succeededNotification(runId: "x1"))
    dispatcher.enqueue(succeededNotification(runId: "x2"))

    #expect(fast.waitForAccepted(count: 2, timeout: 1))
    #expect(Date().timeIntervalSince(started) < 1)
    #expect(dispatcher.flush(timeout: 8))
    #expect(slow.accepted.count == 2)
}

@Test func rejectedRowIsCountedNotRetried() throws {
    let receiver = try startChatReceiver(NtfyRules(token: "tk_needed"))
    defer { receiver.stop() }
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        subscriptions: [NotifierSubscription(notifier: try ntfy(receiver, capture: capture), events: [.failed])],
        outbox: try NotificationOutbox(path: ":memory:"),
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 5)
    )
    defer { dispatcher.stop() }

    dispatcher.enqueue(failedNotification())
    dispatcher.enqueue(succeededNotification())

    #expect(dispatcher.flush(timeout: 5))
    #expect(receiver.requests.count == 1)
    #expect(dispatcher.stats == NotificationStats(pending: 0, delivered: 0, expired: 0, rejected: 1))
}
