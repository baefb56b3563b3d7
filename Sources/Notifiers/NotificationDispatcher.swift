import Foundation
import HTTP
import Support

/// The retry schedule of one delivery and the time after which it is given up.
public struct NotificationRetryPolicy: Sendable {
    /// The number of attempts in total, including the first.
    public var maxAttempts: Int
    /// The delay before the first retry, in seconds. Each later delay doubles, with jitter.
    public var baseDelay: Double
    /// The maximum backoff delay between attempts, in seconds. A receiver's `Retry-After` may ask for more and
    /// is honoured up to the expiry.
    public var maxDelay: Double
    /// Seconds after which an undelivered notification is given up.
    public var expiry: Double

    public init(maxAttempts: Int, baseDelay: Double, maxDelay: Double, expiry: Double = 86_400) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.expiry = expiry
    }

    /// Retries for 24 hours, 2 s doubling to at most 5 minutes, so a notification outlives a day-long outage.
    public static let standard = NotificationRetryPolicy(maxAttempts: 100_000, baseDelay: 2, maxDelay: 300)

    /// Returns the delay in seconds before retry number `retry` (1 for the first retry): the receiver's
    /// `retryAfter` when it sent one, and otherwise an exponential backoff with jitter.
    public func delay(beforeRetry retry: Int, retryAfter: Double?) -> Double {
        if let retryAfter {
            return max(0, retryAfter)
        }
        let exponent = Double(min(max(retry - 1, 0), 30))
        let ceiling = min(self.maxDelay, self.baseDelay * pow(2, exponent))
        return Double.random(in: (ceiling / 2)...max(ceiling / 2, ceiling))
    }
}

/// A notifier, the event kinds it receives and, when set, its own expiry in seconds.
public struct NotifierSubscription: Sendable {
    public var notifier: any Notifier
    public var events: Set<RunEventKind>
    /// Overrides `NotificationRetryPolicy.expiry` for this notifier.
    public var expiry: Double?

    public init(notifier: any Notifier, events: Set<RunEventKind>, expiry: Double? = nil) {
        self.notifier = notifier
        self.events = events
        self.expiry = expiry
    }
}

/// Delivers run notifications through a durable `NotificationOutbox`, so neither a receiver's outage nor a
/// daemon restart loses an alert.
///
/// `enqueue` writes one outbox row per subscribed notifier and returns once the rows are committed. Each notifier has
/// its own worker thread, so a slow or dead receiver never delays the others. Each worker sends its rows in the order
/// they were added, so a row waiting for a retry holds back the later rows of that notifier. A failed attempt is
/// retried with backoff, or after the receiver's `Retry-After`, until it is delivered, rejected with a final status, or
/// expired. A new dispatcher on the same outbox resumes every pending row. Delivery is at least once: a crash during an
/// attempt sends that notification again, with the same event id.
public final class NotificationDispatcher: @unchecked Sendable {
    private struct Lane: Sendable {
        let subscription: NotifierSubscription
        var name: String { self.subscription.notifier.name }
    }

    /// Seconds that finished rows are kept for `stats` before they are pruned: 7 days.
    public static let retention: Double = 7 * 86_400

    private let logger: Logger
    private let retry: NotificationRetryPolicy
    private let outbox: NotificationOutbox
    private let clock: @Sendable () -> Date
    private let lanes: [Lane]
    /// Guards `generation`, `stopping`, `running` and `pausedUntil`. Workers wait on it for new work, and flush
    /// waits on it for progress.
    private let condition = NSCondition()
    /// Increases on every enqueue, so a worker that looked for work just before it does not sleep past it.
    private var generation = 0
    private var stopping = false
    private var running = 0
    /// Per notifier: no attempt before this time, set from the receiver's `Retry-After`.
    private var pausedUntil: [String: Date] = [:]

    /// Creates the dispatcher and starts one worker per notifier, which first resumes rows left in `outbox`.
    ///
    /// Call `stop(timeout:)` before dropping it, because the workers keep it alive.
    public init(
        subscriptions: [NotifierSubscription],
        outbox: NotificationOutbox,
        logger: Logger,
        retry: NotificationRetryPolicy = .standard,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.lanes = subscriptions.map { Lane(subscription: $0) }
        self.outbox = outbox
        self.logger = logger
        self.retry = retry
        self.clock = clock
        self.reportLeftovers()
        for index in self.lanes.indices {
            self.running += 1
            let thread = Thread { [self] in self.work(lane: index) }
            thread.name = "notifier-\(self.lanes[index].name)"
            thread.start()
        }
    }

    /// Creates a dispatcher on an outbox in memory, which does not survive a restart. For tests and demos.
    public convenience init(
        notifiers: [(notifier: any Notifier, events: Set<RunEventKind>)],
        logger: Logger,
        retry: NotificationRetryPolicy = .standard
    ) {
        // An in-memory SQLite database cannot fail to open short of running out of memory.
        let outbox = try! NotificationOutbox(path: ":memory:")
        self.init(
            subscriptions: notifiers.map { NotifierSubscription(notifier: $0.notifier, events: $0.events) },
            outbox: outbox,
            logger: logger,
            retry: retry
        )
    }

    /// The names of the configured notifiers, in order.
    public var notifierNames: [String] {
        self.lanes.map(\.name)
    }

    /// The counts of outbox rows by state. `pending` counts only rows of configured notifiers.
    public var stats: NotificationStats {
        do {
            return try self.outbox.stats(pendingFor: self.notifierNames)
        } catch {
            self.logger.error("Notification outbox not readable", metadata: ["error": "\(error)"])
            return NotificationStats()
        }
    }

    /// The number of notifications waiting for delivery, over all configured notifiers.
    public var pendingCount: Int {
        self.stats.pending
    }

    /// Stores `notification` in the outbox for every notifier named in `names` that subscribes to its kind, or
    /// for every subscribed notifier when `names` is nil, and returns the number of rows added once they are
    /// committed. Delivery happens on the workers.
    ///
    /// A name that matches no configured notifier is logged as a warning and skipped. When the outbox cannot be
    /// written, the failure is logged as critical and 0 is returned, because no retry can help.
    @discardableResult
    public func enqueue(_ notification: RunNotification, to names: [String]? = nil) -> Int {
        var metadata = NotificationDispatcher.metadata(for: notification)
        let known = Set(self.notifierNames)
        for name in names ?? [] where !known.contains(name) {
            self.logger.warning(
                "Notification target is not a configured notifier",
                metadata: metadata.merging(["notifier": name], uniquingKeysWith: { _, new in new })
            )
        }
        let now = self.clock()
        let targets = self.lanes.filter { lane in
            lane.subscription.events.contains(notification.kind) && (names?.contains(lane.name) ?? true)
        }.map { lane in
            (name: lane.name, expiresAt: now.addingTimeInterval(lane.subscription.expiry ?? self.retry.expiry))
        }
        guard !targets.isEmpty else {
            self.logger.debug("Notification has no subscribed notifier", metadata: metadata)
            return 0
        }
        let added: Int
        do {
            added = try self.outbox.add(notification, notifiers: targets, now: now)
        } catch {
            metadata["error"] = "\(error)"
            self.logger.critical("Notification not stored in the outbox", metadata: metadata)
            return 0
        }
        metadata["notifiers.count"] = String(added)
        self.logger.debug("Notification queued", metadata: metadata)
        self.condition.lock()
        self.generation += 1
        self.condition.broadcast()
        self.condition.unlock()
        return added
    }

    /// Waits up to `timeout` seconds until no notification of a configured notifier is pending. Returns true
    /// when none is. Rows still pending stay in the outbox and are sent by the next dispatcher on it.
    public func flush(timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: max(0, timeout))
        while true {
            let pending = self.pendingCount
            if pending == 0 {
                return true
            }
            self.condition.lock()
            let woken = self.condition.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.05)))
            self.condition.unlock()
            if !woken && Date() >= deadline {
                self.logger.warning(
                    "Notifications still pending after flush timeout",
                    metadata: [
                        "notifications.pending": String(self.pendingCount),
                        "flush.timeout_s": String(format: "%g", timeout),
                    ]
                )
                return false
            }
        }
    }

    /// Stops the workers after the attempts in flight and waits up to `timeout` seconds for them to end.
    /// Returns true when every worker ended. Pending rows stay in the outbox.
    @discardableResult
    public func stop(timeout: Double = 30) -> Bool {
        let deadline = Date(timeIntervalSinceNow: max(0, timeout))
        self.condition.lock()
        defer { self.condition.unlock() }
        self.stopping = true
        self.condition.broadcast()
        while self.running > 0 {
            if !self.condition.wait(until: deadline) {
                return self.running == 0
            }
        }
        return true
    }

    // MARK: - Workers

    /// Delivers the lane's due rows one at a time until `stop` is called.
    private func work(lane index: Int) {
        let lane = self.lanes[index]
        defer {
            self.condition.lock()
            self.running -= 1
            self.condition.broadcast()
            self.condition.unlock()
        }
        while true {
            self.condition.lock()
            let generation = self.generation
            let stopping = self.stopping
            let paused = self.pausedUntil[lane.name]
            self.condition.unlock()
            if stopping {
                return
            }

            let entry: OutboxEntry?
            do {
                entry = try self.outbox.nextPending(notifier: lane.name)
            } catch {
                self.logger.error(
                    "Notification outbox not readable, retrying",
                    metadata: ["notifier": lane.name, "error": "\(error)"]
                )
                self.sleep(until: self.clock().addingTimeInterval(5), generation: generation)
                continue
            }
            let now = self.clock()
            guard let entry else {
                self.sleep(until: now.addingTimeInterval(60), generation: generation)
                continue
            }
            if entry.expiresAt <= now {
                self.expire(entry, via: lane, reason: "expired", now: now)
                continue
            }
            let readyAt = max(entry.nextAttemptAt, paused ?? entry.nextAttemptAt)
            if readyAt > now {
                self.sleep(until: min(readyAt, entry.expiresAt), generation: generation)
                continue
            }
            self.attempt(entry, via: lane)
        }
    }

    /// Waits until `date`, a new enqueue after `generation`, or `stop`.
    private func sleep(until date: Date, generation: Int) {
        let wallDeadline = Date(timeIntervalSinceNow: max(0, date.timeIntervalSince(self.clock())))
        self.condition.lock()
        defer { self.condition.unlock() }
        while !self.stopping && self.generation == generation {
            if !self.condition.wait(until: wallDeadline) {
                return
            }
        }
    }

    /// Makes one attempt for `entry` and records its outcome in the outbox.
    private func attempt(_ entry: OutboxEntry, via lane: Lane) {
        let notification = entry.notification
        let attempts = entry.attempts + 1
        var details = NotificationDispatcher.metadata(for: notification)
        details["notifier"] = lane.name
        details["delivery.attempt"] = String(attempts)

        let failure: NotifierError
        do {
            let receipt = try lane.subscription.notifier.deliver(notification)
            details["http.status"] = String(receipt.status)
            self.logger.info("Notification delivered", metadata: details)
            self.record(entry, state: .delivered, attempts: attempts, error: nil)
            return
        } catch let error as NotifierError {
            failure = error
        } catch {
            // A notifier outside this module threw its own error type: its meaning is unknown, so it is final.
            details["error"] = "\(error)"
            self.logFinalFailure("Notification delivery failed, not retrying", notification, details)
            self.record(entry, state: .rejected, attempts: attempts, error: "\(error)")
            return
        }

        details["error"] = failure.description
        if let status = failure.status {
            details["http.status"] = String(status)
        }
        guard failure.isRetryable else {
            self.logFinalFailure("Notification rejected by receiver, not retrying", notification, details)
            self.record(entry, state: .rejected, attempts: attempts, error: failure.description)
            return
        }
        guard attempts < max(1, self.retry.maxAttempts) else {
            self.logFinalFailure("Notification not delivered, attempts exhausted", notification, details)
            self.record(entry, state: .expired, attempts: attempts, error: failure.description)
            return
        }
        let now = self.clock()
        let delay = self.retry.delay(beforeRetry: attempts, retryAfter: failure.retryAfter)
        let next = now.addingTimeInterval(delay)
        if let retryAfter = failure.retryAfter {
            // The wait applies to the receiver, so no other row of this notifier is sent before it either.
            details["retry.after_s"] = String(format: "%g", retryAfter)
            self.condition.lock()
            self.pausedUntil[lane.name] = next
            self.condition.unlock()
        }
        if next >= entry.expiresAt {
            self.logFinalFailure("Notification expired undelivered", notification, details)
            self.record(entry, state: .expired, attempts: attempts, error: failure.description)
            return
        }
        details["retry.delay_s"] = String(format: "%.2f", delay)
        do {
            try self.outbox.scheduleRetry(
                id: entry.id,
                attempts: attempts,
                nextAttemptAt: next,
                error: failure.description
            )
        } catch {
            details["outbox.error"] = "\(error)"
        }
        self.logger.warning("Notification delivery failed, retrying", metadata: details)
    }

    private func expire(_ entry: OutboxEntry, via lane: Lane, reason: String, now: Date) {
        var details = NotificationDispatcher.metadata(for: entry.notification)
        details["notifier"] = lane.name
        details["delivery.attempts"] = String(entry.attempts)
        details["notification.age_s"] = String(format: "%.0f", now.timeIntervalSince(entry.createdAt))
        self.logFinalFailure("Notification expired undelivered", entry.notification, details)
        self.record(entry, state: .expired, attempts: entry.attempts, error: reason)
    }

    private func record(_ entry: OutboxEntry, state: NotificationOutbox.State, attempts: Int, error: String?) {
        do {
            try self.outbox.finish(id: entry.id, state: state, attempts: attempts, at: self.clock(), error: error)
        } catch {
            self.logger.error(
                "Notification outcome not stored in the outbox",
                metadata: ["notifier": entry.notifier, "event.id": entry.notification.eventId, "error": "\(error)"]
            )
        }
        self.condition.lock()
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// Logs pending rows left for notifiers that are no longer configured, and expires those past their expiry.
    private func reportLeftovers() {
        let now = self.clock()
        _ = try? self.outbox.prune(finishedBefore: now.addingTimeInterval(-NotificationDispatcher.retention))
        guard let entries = try? self.outbox.pendingEntries() else { return }
        let known = Set(self.notifierNames)
        var orphans: [String: Int] = [:]
        for entry in entries where !known.contains(entry.notifier) {
            if entry.expiresAt <= now {
                try? self.outbox.finish(
                    id: entry.id,
                    state: .expired,
                    attempts: entry.attempts,
                    at: now,
                    error: "expired"
                )
            } else {
                orphans[entry.notifier, default: 0] += 1
            }
        }
        for (notifier, count) in orphans.sorted(by: { $0.key < $1.key }) {
            self.logger.warning(
                "Outbox contains notifications for a notifier that is not configured",
                metadata: ["notifier": notifier, "notifications.pending": String(count)]
            )
        }
        let resumed = entries.filter { known.contains($0.notifier) }.count
        if resumed > 0 {
            self.logger.info(
                "Resuming notifications from the outbox",
                metadata: ["notifications.pending": String(resumed)]
            )
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
