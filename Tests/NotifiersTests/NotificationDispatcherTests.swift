import Foundation
import HTTP
import Notifiers
import StandIns
import Support
import Testing

private func webhook(_ receiver: WebhookReceiver, _ capture: LogCapture, name: String = "ops", path: String = "/hooks")
    throws -> WebhookNotifier
{
    try WebhookNotifier(name: name, url: receiver.url(path: path), secret: webhookSecret, http: makeHTTP(capture))
}

@Test func receiverDownThenUpDelivers() throws {
    let receiver = try startReceiver(secret: webhookSecret)
    defer { receiver.stop() }
    receiver.simulateDown()
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        notifiers: [(try webhook(receiver, capture), Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: NotificationRetryPolicy(maxAttempts: 40, baseDelay: 0.05, maxDelay: 0.1)
    )

    dispatcher.enqueue(succeededNotification())
    Thread.sleep(forTimeInterval: 0.4)
    #expect(receiver.deliveries.isEmpty)
    #expect(dispatcher.pendingCount == 1)
    try receiver.start()

    #expect(dispatcher.flush(timeout: 5))
    #expect(receiver.deliveries.count == 1)
    #expect(receiver.deliveries.first?.signatureValid == true)
    let retries = capture.records.filter { $0.message == "Notification delivery failed, retrying" }
    #expect(retries.count >= 2)
    #expect(retries.first?.metadata["error"]?.contains("could not reach") == true)
    #expect(capture.records.contains { $0.message == "Notification delivered" })
    #expect(!capture.records.contains { $0.level >= .error })
}

@Test func receiverDownForGoodGivesUp() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    receiver.simulateDown()
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        notifiers: [(try webhook(receiver, capture), Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 3)
    )

    let started = Date()
    dispatcher.enqueue(failedNotification())
    let sendTime = Date().timeIntervalSince(started)

    #expect(sendTime < 0.1, "send took \(sendTime) s")
    #expect(dispatcher.flush(timeout: 5))
    #expect(receiver.deliveries.isEmpty)
    let failure = try #require(capture.records.first { $0.level >= .error })
    #expect(failure.level == .error)
    #expect(failure.message == "Notification not delivered, attempts exhausted")
    #expect(failure.metadata["notifier"] == "ops")
    #expect(failure.metadata["event.id"] == "20271204-0300-ab12:run_failed")
    #expect(failure.metadata["event.kind"] == "run_failed")
    #expect(failure.metadata["run.id"] == "20271204-0300-ab12")
    #expect(failure.metadata["job"] == "weekly-train")
    #expect(failure.metadata["delivery.attempt"] == "3")
    #expect(capture.records.filter { $0.message == "Notification delivery failed, retrying" }.count == 2)
}

@Test func undeliveredTeardownAlertIsCritical() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    receiver.simulateDown()
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        notifiers: [(try webhook(receiver, capture), Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 2)
    )
    dispatcher.enqueue(teardownFailedNotification())
    #expect(dispatcher.flush(timeout: 5))
    let failure = try #require(capture.records.first { $0.level >= .error })
    #expect(failure.level == .critical)
    #expect(failure.metadata["event.kind"] == "teardown_failed")
}

@Test func sendReturnsBeforeSlowReceiver() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    receiver.respond(with: WebhookReply.accepted.delayed(by: 1.0))
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        notifiers: [(try webhook(receiver, capture), Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 2)
    )

    let started = Date()
    dispatcher.enqueue(succeededNotification())
    let sendTime = Date().timeIntervalSince(started)

    #expect(sendTime < 0.1, "send took \(sendTime) s")
    #expect(!dispatcher.flush(timeout: 0.2))
    #expect(dispatcher.pendingCount == 1)
    #expect(capture.records.contains { $0.message == "Notifications still pending after flush timeout" })
    #expect(dispatcher.flush(timeout: 5))
    #expect(dispatcher.pendingCount == 0)
    #expect(receiver.deliveries.count == 1)
}

@Test func dispatcherHonoursSubscriptions() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        notifiers: [
            (try webhook(receiver, capture, name: "failures", path: "/failures"), [.failed, .teardownFailed]),
            (try webhook(receiver, capture, name: "everything", path: "/all"), Set(RunEventKind.allCases)),
        ],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 2)
    )
    #expect(dispatcher.notifierNames == ["failures", "everything"])

    dispatcher.enqueue(succeededNotification())
    dispatcher.enqueue(failedNotification())
    #expect(dispatcher.flush(timeout: 5))

    let paths = receiver.deliveries.map(\.path)
    #expect(paths.filter { $0 == "/failures" }.count == 1)
    #expect(paths.filter { $0 == "/all" }.count == 2)
    let failureDeliveries = receiver.deliveries.filter { $0.path == "/failures" }
    let failureKinds = failureDeliveries.compactMap { $0.jsonObject?["type"] as? String }
    #expect(failureKinds == ["run_failed"])
}

@Test func dispatcherSendsToNamedNotifiers() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        notifiers: [
            (try webhook(receiver, capture, name: "a", path: "/a"), Set(RunEventKind.allCases)),
            (try webhook(receiver, capture, name: "b", path: "/b"), Set(RunEventKind.allCases)),
        ],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 2)
    )

    dispatcher.enqueue(succeededNotification(), to: ["b", "missing"])
    #expect(dispatcher.flush(timeout: 5))

    #expect(receiver.deliveries.map(\.path) == ["/b"])
    let warning = try #require(capture.records.first { $0.level == .warning })
    #expect(warning.message == "Notification target is not a configured notifier")
    #expect(warning.metadata["notifier"] == "missing")
}

@Test func deliveriesKeepOrderAcrossRetries() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    receiver.respond(with: .serverError)
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        notifiers: [(try webhook(receiver, capture), Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 3)
    )
    let runs = ["r1", "r2", "r3"]
    for run in runs {
        dispatcher.enqueue(RunNotification(kind: .started, job: "j", runId: run))
    }
    #expect(dispatcher.flush(timeout: 5))
    let accepted = receiver.deliveries.filter { $0.responseStatus == 204 }
    let delivered = accepted.compactMap { $0.jsonObject?["run_id"] as? String }
    #expect(delivered == runs)
}

@Test func slowReceiverDoesNotDelayOthers() throws {
    let slow = try startReceiver()
    defer { slow.stop() }
    let fast = try startReceiver()
    defer { fast.stop() }
    slow.respond(with: WebhookReply.slackOK.delayed(by: 1.5))
    let capture = LogCapture()
    let dispatcher = NotificationDispatcher(
        notifiers: [
            (SlackNotifier(name: "slow", url: slow.slackURL(), http: makeHTTP(capture)), Set(RunEventKind.allCases)),
            (try webhook(fast, capture, name: "fast"), Set(RunEventKind.allCases)),
        ],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 2)
    )

    dispatcher.enqueue(succeededNotification())

    // The fast notifier finishes while the slow one is still waiting for its response.
    let fastDelivered = waitUntil(timeout: 1.0) {
        capture.records.contains { $0.message == "Notification delivered" && $0.metadata["notifier"] == "fast" }
    }
    #expect(fastDelivered)
    #expect(slow.waitForDeliveries(count: 1, timeout: 1.0))
    #expect(dispatcher.pendingCount == 1)
    #expect(dispatcher.flush(timeout: 5))
    #expect(capture.records.contains { $0.message == "Notification delivered" && $0.metadata["notifier"] == "slow" })
}

@Test func secretsNeverLoggedOrShown() throws {
    let slack = try startReceiver()
    defer { slack.stop() }
    let hook = try startReceiver(secret: webhookSecret)
    defer { hook.stop() }
    let capture = LogCapture()
    let slackURL = slack.slackURL(token: slackToken)
    let hookURL = hook.url(path: "/hooks/\(webhookPathToken)?token=\(webhookPathToken)")
    let slackNotifier = SlackNotifier(name: "team", url: slackURL, http: makeHTTP(capture))
    let hookNotifier = try WebhookNotifier(name: "ops", url: hookURL, secret: webhookSecret, http: makeHTTP(capture))
    let dispatcher = NotificationDispatcher(
        notifiers: [(slackNotifier, Set(RunEventKind.allCases)), (hookNotifier, Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 3)
    )

    // Every path that logs: delivered, retried after 429 and 500, rejected, and unreachable until given up.
    slack.respond(with: [.tooManyRequests(retryAfter: 0), .slackError(404, "no_service")])
    hook.respond(with: [.serverError])
    dispatcher.enqueue(succeededNotification())
    dispatcher.enqueue(failedNotification())
    #expect(dispatcher.flush(timeout: 5))
    slack.simulateDown()
    hook.simulateDown()
    dispatcher.enqueue(teardownFailedNotification())
    #expect(dispatcher.flush(timeout: 5))

    var errors: [NotifierError] = []
    for notifier in [slackNotifier as any Notifier, hookNotifier] {
        do {
            _ = try notifier.deliver(succeededNotification())
        } catch let error as NotifierError {
            errors.append(error)
        }
    }
    try slack.start()
    slack.respond(with: .slackError(410, "channel_is_archived"))
    do {
        _ = try slackNotifier.deliver(succeededNotification())
    } catch let error as NotifierError {
        errors.append(error)
    }

    #expect(errors.count == 3)
    #expect(capture.records.contains { $0.message == "Notification delivered" })
    #expect(capture.records.contains { $0.message == "Notification delivery failed, retrying" })
    #expect(capture.records.contains { $0.message == "Notification rejected by receiver, not retrying" })
    #expect(capture.records.contains { $0.message == "Notification not delivered, attempts exhausted" })
    #expect(capture.records.contains { $0.label == "http" })

    let forbidden = [
        slackURL, hookURL, slackToken, webhookPathToken, webhookSecret, String(webhookSecret.dropFirst(6)),
    ]
    let visibleText =
        rawLogStrings(capture) + [capture.text] + errors.map(\.description)
        + ["\(slackNotifier)", "\(hookNotifier)", String(reflecting: hookNotifier)]
    for secret in forbidden {
        let leaks = visibleText.filter { $0.contains(secret) }
        #expect(leaks.isEmpty, "\(secret) appears in: \(leaks.first ?? "")")
    }
}
