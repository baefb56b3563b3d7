import Foundation
import Support

/// One run event as sent to every notifier: the facts of the run and the one-line texts built from them.
///
/// The JSON field names are snake_case (`event_id`, `run_id`, `estimated_cost_usd`) because that is what the
/// generic webhook sends. They are fixed in `CodingKeys`, so the names do not depend on the encoder's key strategy.
public struct RunNotification: Sendable, Codable, Equatable {
    /// Stable for one event of one run (`<runId>:<kind>`), so a receiver can drop a repeated delivery.
    public var eventId: String
    public var kind: RunEventKind
    /// The job name from the config file.
    public var job: String
    public var runId: String
    public var occurredAt: Date
    /// The Paperspace machine id, such as `psabc123`, once the machine exists.
    public var machineId: String?
    /// The Paperspace machine type, such as `A4000`.
    public var machineType: String?
    /// Seconds from the start of the run to this event.
    public var durationSeconds: Double?
    /// An estimate from the configured hourly rate, not a billed amount.
    public var estimatedCostUSD: Double?
    /// The lifecycle state the run was in when it failed, such as `waitingForReady`.
    public var failedState: String?
    /// The cause of the failure, or the reason teardown could not be confirmed.
    public var reason: String?
    /// The Hub commit that contains the trained model.
    public var modelCommitURL: String?
    /// The step of the training script that failed, such as `train`, when the status record names one.
    public var failedStep: String?
    /// The fire time a missed or skipped run was scheduled for.
    public var scheduledAt: Date?
    /// The budget in US dollars that a `budget_warning` refers to.
    public var budgetUSD: Double?
    /// Whether this is a test message from `NotifierTester`, not a real run event. Encoded only when true.
    public var isTest: Bool

    enum CodingKeys: String, CodingKey {
        case eventId = "event_id"
        case kind
        case job
        case runId = "run_id"
        case occurredAt = "occurred_at"
        case machineId = "machine_id"
        case machineType = "machine_type"
        case durationSeconds = "duration_seconds"
        case estimatedCostUSD = "estimated_cost_usd"
        case failedState = "failed_state"
        case reason
        case modelCommitURL = "model_commit_url"
        case failedStep = "failed_step"
        case scheduledAt = "scheduled_at"
        case budgetUSD = "budget_usd"
        case isTest = "test"
    }

    /// Creates a notification. `eventId` defaults to `RunNotification.eventId(runId:kind:)`.
    public init(
        kind: RunEventKind,
        job: String,
        runId: String,
        occurredAt: Date = Date(),
        eventId: String? = nil,
        machineId: String? = nil,
        machineType: String? = nil,
        durationSeconds: Double? = nil,
        estimatedCostUSD: Double? = nil,
        failedState: String? = nil,
        reason: String? = nil,
        modelCommitURL: String? = nil,
        failedStep: String? = nil,
        scheduledAt: Date? = nil,
        budgetUSD: Double? = nil,
        isTest: Bool = false
    ) {
        self.eventId = eventId ?? RunNotification.eventId(runId: runId, kind: kind)
        self.kind = kind
        self.job = job
        self.runId = runId
        self.occurredAt = occurredAt
        self.machineId = machineId
        self.machineType = machineType
        self.durationSeconds = durationSeconds
        self.estimatedCostUSD = estimatedCostUSD
        self.failedState = failedState
        self.reason = reason
        self.modelCommitURL = modelCommitURL
        self.failedStep = failedStep
        self.scheduledAt = scheduledAt
        self.budgetUSD = budgetUSD
        self.isTest = isTest
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.eventId = try container.decode(String.self, forKey: .eventId)
        self.kind = try container.decode(RunEventKind.self, forKey: .kind)
        self.job = try container.decode(String.self, forKey: .job)
        self.runId = try container.decode(String.self, forKey: .runId)
        self.occurredAt = try container.decode(Date.self, forKey: .occurredAt)
        self.machineId = try container.decodeIfPresent(String.self, forKey: .machineId)
        self.machineType = try container.decodeIfPresent(String.self, forKey: .machineType)
        self.durationSeconds = try container.decodeIfPresent(Double.self, forKey: .durationSeconds)
        self.estimatedCostUSD = try container.decodeIfPresent(Double.self, forKey: .estimatedCostUSD)
        self.failedState = try container.decodeIfPresent(String.self, forKey: .failedState)
        self.reason = try container.decodeIfPresent(String.self, forKey: .reason)
        self.modelCommitURL = try container.decodeIfPresent(String.self, forKey: .modelCommitURL)
        self.failedStep = try container.decodeIfPresent(String.self, forKey: .failedStep)
        self.scheduledAt = try container.decodeIfPresent(Date.self, forKey: .scheduledAt)
        self.budgetUSD = try container.decodeIfPresent(Double.self, forKey: .budgetUSD)
        self.isTest = try container.decodeIfPresent(Bool.self, forKey: .isTest) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.eventId, forKey: .eventId)
        try container.encode(self.kind, forKey: .kind)
        try container.encode(self.job, forKey: .job)
        try container.encode(self.runId, forKey: .runId)
        try container.encode(self.occurredAt, forKey: .occurredAt)
        try container.encodeIfPresent(self.machineId, forKey: .machineId)
        try container.encodeIfPresent(self.machineType, forKey: .machineType)
        try container.encodeIfPresent(self.durationSeconds, forKey: .durationSeconds)
        try container.encodeIfPresent(self.estimatedCostUSD, forKey: .estimatedCostUSD)
        try container.encodeIfPresent(self.failedState, forKey: .failedState)
        try container.encodeIfPresent(self.reason, forKey: .reason)
        try container.encodeIfPresent(self.modelCommitURL, forKey: .modelCommitURL)
        try container.encodeIfPresent(self.failedStep, forKey: .failedStep)
        try container.encodeIfPresent(self.scheduledAt, forKey: .scheduledAt)
        try container.encodeIfPresent(self.budgetUSD, forKey: .budgetUSD)
        if self.isTest {
            try container.encode(true, forKey: .isTest)
        }
    }

    /// Returns the event id `<runId>:<kind>`. It uses no `.` because Standard Webhooks signs
    /// `<id>.<timestamp>.<body>` and forbids a full stop in the id.
    public static func eventId(runId: String, kind: RunEventKind) -> String {
        "\(runId):\(kind.rawValue)"
    }

    /// Whether a person must act now: teardown could not confirm that the machine is gone.
    public var isUrgent: Bool {
        self.kind == .teardownFailed
    }

    /// The outcome in a few words, such as `succeeded` or `teardown failed`.
    public var outcome: String {
        switch self.kind {
        case .started: "started"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .missed: "missed"
        case .skipped: "skipped, still running"
        case .teardownFailed: "teardown failed"
        case .budgetWarning: "budget warning"
        case .orphanSwept: "orphan machine deleted"
        }
    }

    /// A short heading, such as `weekly-train succeeded`. Urgent events start with `ACTION NEEDED:` and test
    /// messages with `TEST:`.
    public var title: String {
        let heading = "\(self.job) \(self.outcome)"
        if self.isTest {
            return "TEST: \(heading)"
        }
        return self.isUrgent ? "ACTION NEEDED: \(heading)" : heading
    }

    /// One line with the facts that matter for this kind of event, for chat messages and fallbacks.
    ///
    /// For example `nightshift: weekly-train run 20271204-0300-ab12 succeeded in 1h 02m (A4000, ~$0.78)`.
    public var summary: String {
        let run = "\(self.job) run \(self.runId)"
        let details = self.detailsInParentheses
        let prefix = self.isTest ? "nightshift TEST: " : "nightshift: "
        return prefix + self.summaryBody(run: run, details: details)
    }

    private func summaryBody(run: String, details: String) -> String {
        switch self.kind {
        case .started:
            return "\(run) started\(details)"
        case .succeeded:
            let duration = self.durationSeconds.map { " in \(RunNotification.formatDuration($0))" } ?? ""
            return "\(run) succeeded\(duration)\(details)"
        case .failed:
            let step = self.failedStep.map { " at step \($0)" } ?? ""
            let state = self.failedState.map { " in state \($0)" } ?? ""
            let duration = self.durationSeconds.map { " after \(RunNotification.formatDuration($0))" } ?? ""
            let reason = self.reason.map { ": \($0)" } ?? ""
            return "\(run) failed\(step)\(state)\(duration)\(details)\(reason)"
        case .missed:
            let when = self.scheduledAt.map { " scheduled for \(RunNotification.formatTime($0))" } ?? ""
            let reason = self.reason.map { ": \($0)" } ?? ""
            return "\(self.job) missed the run\(when)\(reason)"
        case .skipped:
            let when = self.scheduledAt.map { " at \(RunNotification.formatTime($0))" } ?? ""
            return "\(self.job) skipped the fire time\(when) because run \(self.runId) is still running"
        case .budgetWarning:
            let spent = self.estimatedCostUSD.map { " has cost \(RunNotification.formatCost($0))" } ?? ""
            let budget = self.budgetUSD.map { " of its \(RunNotification.formatDollars($0)) budget" } ?? ""
            let reason = self.reason.map { ": \($0)" } ?? ""
            return "\(run)\(spent)\(budget)\(reason)"
        case .orphanSwept:
            let machine = self.machineId.map { "machine \($0)" } ?? "a machine"
            let reason = self.reason.map { ": \($0)" } ?? ""
            return "\(machine) of \(run) was left running with no run owning it, and was deleted\(reason)"
        case .teardownFailed:
            let machine = self.machineId.map { "machine \($0)" } ?? "the machine"
            let reason = self.reason.map { ": \($0)" } ?? ""
            return "ACTION NEEDED: \(machine) may still be running and billing. "
                + "\(run) could not confirm teardown\(reason)"
        }
    }

    /// The machine type and cost as ` (A4000, ~$0.78)`, or an empty string when neither is known.
    private var detailsInParentheses: String {
        var parts: [String] = []
        if let machineType = self.machineType {
            parts.append(machineType)
        }
        if let cost = self.estimatedCostUSD {
            parts.append(RunNotification.formatCost(cost))
        }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
    }

    /// Formats seconds as `1h 02m`, `12m 05s` or `45s`, rounded to whole seconds.
    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded())
        let hours = total / 3600
        let minutes = (total % 3600) / 60
        let remainder = total % 60
        if hours > 0 {
            return "\(hours)h " + String(format: "%02dm", minutes)
        }
        if minutes > 0 {
            return "\(minutes)m " + String(format: "%02ds", remainder)
        }
        return "\(remainder)s"
    }

    /// Formats a date as ISO 8601 in UTC, such as `2027-12-04T03:00:00Z`.
    public static func formatTime(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// The facts of this notification as labelled values, in display order, for notifiers that show fields.
    /// Only the values the notification has are listed.
    public var facts: [(label: String, value: String)] {
        var facts: [(label: String, value: String)] = []
        func add(_ label: String, _ value: String?) {
            if let value { facts.append((label, value)) }
        }
        add("Job", self.job)
        add("Run id", self.runId)
        add("Outcome", self.outcome)
        add("Scheduled for", self.scheduledAt.map(RunNotification.formatTime))
        add("Duration", self.durationSeconds.map(RunNotification.formatDuration))
        add("Machine", self.machineText)
        add("Estimated cost", self.estimatedCostUSD.map(RunNotification.formatCost))
        add("Budget", self.budgetUSD.map(RunNotification.formatDollars))
        add("Failed step", self.failedStep)
        add("Failed in state", self.failedState)
        add("Reason", self.reason)
        return facts
    }

    /// The machine type and id as `A4000 (psabc123)`, or whichever of them is known.
    public var machineText: String? {
        switch (self.machineType, self.machineId) {
        case (let type?, let id?): "\(type) (\(id))"
        case (let type?, nil): type
        case (nil, let id?): id
        case (nil, nil): nil
        }
    }

    /// Formats an amount as `$12.50`.
    public static func formatDollars(_ dollars: Double) -> String {
        "$" + String(format: "%.2f", dollars)
    }

    /// Formats an estimated cost as `~$0.78`. The tilde marks the value as an estimate.
    public static func formatCost(_ dollars: Double) -> String {
        "~$" + String(format: "%.2f", dollars)
    }
}
