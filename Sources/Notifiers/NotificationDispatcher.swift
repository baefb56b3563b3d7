import Foundation
import HTTP
import Support

/// How often and how patiently the dispatcher retries one delivery.
public struct NotificationRetryPolicy: Sendable {
    /// The number of attempts in total, including the first.
    public var maxAttempts: Int
    /// The delay before the first retry, in seconds. Each later delay doubles, with jitter.
    public var baseDelay: Double
    /// The maximum delay between attempts, in seconds, including one requested by `Retry-After`.
    public var maxDelay: Double

    public init(maxAttempts: Int, baseDelay: Double, maxDelay: Double) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// 8 attempts, 2 s doubling to at most 120 s: a receiver may be down for about 2 to 4 minutes in total
    /// before a notification is given up.
    public static let standard = NotificationRetryPolicy(maxAttempts: 8, baseDelay: 2, maxDelay: 120)

    /// Returns the delay in seconds before retry number `retry` (1 for the first retry). A `retryAfter` from
    /// the receiver is honoured up to `maxDelay`; otherwise the delay backs off exponentially with jitter.
    public func delay(beforeRetry retry: Int, retryAfter: Double?) -> Double {
        RetryPolicy(maxAttempts: self.maxAttempts, baseDelay: self.baseDelay, maxDelay: self.maxDelay)
            .delay(beforeRetry: retry, retryAfter: retryAfter)
    }
}

/// Delivers run notifications to the configured notifiers in the background, so a slow or unreachable
/// receiver never delays or fails a run.
///
/// Each notifier has its own queue and worker thread, so one receiver's outage does not hold back the others,
/// and one notifier receives events in the order they were sent. A failed attempt is retried while the error is
/// retryable and attempts remain; after that the notification is logged as an error and dropped.
///
/// NOTE: the queue lives in memory only. Notifications still queued when the process exits are lost; a durable
/// outbox in the state directory is planned but not built.
public final class NotificationDispatcher: @unchecked Sendable {
    private struct Lane {
        let notifier: any Notifier
        let events: Set<RunEventKind>
        /// Notifications not yet finished; the first one is being delivered while `workerRunning` is set.
        var queue: [RunNotification] = []
        var workerRunning = false
    }

    private let logger: Logger
    private let retry: NotificationRetryPolicy
    /// Guards `lanes`; flush waits on it until every queue is empty.
    private let condition = NSCondition()
    private var lanes: [Lane]

    /// Creates a dispatcher. `events` lists the event kinds each notifier receives.
    public init(
        notifiers: [(notifier: any Notifier, events: Set<RunEventKind>)],
        logger: Logger,
        retry: NotificationRetryPolicy = .standard
    ) {
        self.lanes = notifiers.map { Lane(notifier: $0.notifier, events: $0.events) }
        self.logger = logger
        self.retry = retry
    }

    /// The names of the configured notifiers, in order.
    public var notifierNames: [String] {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.lanes.map { $0.notifier.name }
    }

    /// The number of notifications queued or being delivered, over all notifiers.
    public var pendingCount: Int {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.lanes.reduce(0) { $0 + $1.queue.count }
    }

    /// Queues `notification` for every notifier named in `names` that subscribes to its kind, or for every
    /// subscribed notifier when `names` is nil. Returns at once and never throws.
    ///
    /// A name that matches no configured notifier is logged as a warning and skipped.
    public func send(_ notification: RunNotification, to names: [String]? = nil) {
        let metadata = NotificationDispatcher.metadata(for: notification)
        self.condition.lock()
        let known = Set(self.lanes.map { $0.notifier.name })
        var started: [Int] = []
        var queued = 0
        for index in self.lanes.indices {
            let lane = self.lanes[index]
            guard lane.events.contains(notification.kind) else { continue }
            if let names, !names.contains(lane.notifier.name) { continue }
            self.lanes[index].queue.append(notification)
            queued += 1
            if !lane.workerRunning {
                self.lanes[index].workerRunning = true
                started.append(index)
            }
        }
        self.condition.unlock()

        for name in names ?? [] where !known.contains(name) {
            self.logger.warning(
                "Notification target is not a configured notifier",
                metadata: metadata.merging(
                    ["notifier": name],
                    uniquingKeysWith: { _, new in new }
                )
            )
        }
        self.logger.debug(
            "Notification queued",
            metadata: metadata.merging(
                ["notifiers.count": String(queued)],
                uniquingKeysWith: { _, new in new }
            )
        )
        for index in started {
            let thread = Thread { [self] in self.drain(lane: index) }
            thread.name = "notifier-\(index)"
            thread.start()
        }
    }

    /// Waits up to `timeout` seconds until every queued notification was delivered or given up. Returns true
    /// when the queues are empty. Call it before the process exits, because queued notifications live in
    /// memory only.
    public func flush(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: max(0, timeout))
        self.condition.lock()
        var pending = self.lanes.reduce(0) { $0 + $1.queue.count }
        while pending > 0 {
            if !self.condition.wait(until: deadline) {
                pending = self.lanes.reduce(0) { $0 + $1.queue.count }
                break
            }
            pending = self.lanes.reduce(0) { $0 + $1.queue.count }
        }
        self.condition.unlock()
        if pending > 0 {
            self.logger.warning(
                "Notifications still pending after flush timeout",
                metadata: ["notifications.pending": String(pending), "flush.timeout_s": String(format: "%g", timeout)]
            )
            return false
        }
        return true
    }

    /// Delivers the lane's notifications one after another until its queue is empty, then ends the thread.
    private func drain(lane index: Int) {
        while true {
            self.condition.lock()
            guard let next = self.lanes[index].queue.first else {
                self.lanes[index].workerRunning = false
                self.condition.broadcast()
                self.condition.unlock()
                return
            }
            let notifier = self.lanes[index].notifier
            self.condition.unlock()

            self.deliverWithRetries(next, via: notifier)

            self.condition.lock()
            self.lanes[index].queue.removeFirst()
            self.condition.broadcast()
            self.condition.unlock()
        }
    }

    /// Makes up to `retry.maxAttempts` attempts and logs the outcome of each.
    private func deliverWithRetries(_ notification: RunNotification, via notifier: any Notifier) {
        let metadata = NotificationDispatcher.metadata(for: notification).merging(
            ["notifier": notifier.name],
            uniquingKeysWith: { _, new in new }
        )
        let maxAttempts = max(1, self.retry.maxAttempts)
        for attempt in 1...maxAttempts {
            var details = metadata
            details["delivery.attempt"] = String(attempt)
            details["delivery.max_attempts"] = String(maxAttempts)
            let failure: NotifierError
            do {
                let receipt = try notifier.deliver(notification)
                details["http.status"] = String(receipt.status)
                self.logger.info("Notification delivered", metadata: details)
                return
            } catch let error as NotifierError {
                failure = error
            } catch {
                // A notifier outside this module threw its own error type: its meaning is unknown, so it is final.
                details["error"] = "\(error)"
                self.logFinalFailure("Notification delivery failed, not retrying", notification, details)
                return
            }

            details["error"] = failure.description
            if let status = failure.status {
                details["http.status"] = String(status)
            }
            guard failure.isRetryable else {
                self.logFinalFailure("Notification rejected by receiver, not retrying", notification, details)
                return
            }
            guard attempt < maxAttempts else {
                self.logFinalFailure("Notification not delivered, attempts exhausted", notification, details)
                return
            }
            let delay = self.retry.delay(beforeRetry: attempt, retryAfter: failure.retryAfter)
            details["retry.delay_s"] = String(format: "%.2f", delay)
            if let retryAfter = failure.retryAfter {
                details["retry.after_s"] = String(format: "%g", retryAfter)
            }
            self.logger.warning("Notification delivery failed, retrying", metadata: details)
            Thread.sleep(forTimeInterval: delay)
        }
    }

    /// Logs a notification that will not be delivered: critical for an urgent event, because then no person
    /// learns that a machine may still be billing, and an error otherwise.
    private func logFinalFailure(_ message: String, _ notification: RunNotification, _ details: Logger.Metadata) {
        if notification.isUrgent {
            self.logger.critical(message, metadata: details)
        } else {
            self.logger.error(message, metadata: details)
        }
    }

    private static func metadata(for notification: RunNotification) -> Logger.Metadata {
        [
            "event.id": notification.eventId,
            "event.kind": notification.kind.rawValue,
            "run.id": notification.runId,
            "job": notification.job,
        ]
    }
}
