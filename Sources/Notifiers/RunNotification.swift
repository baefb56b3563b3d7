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
        modelCommitURL: String? = nil
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
        case .teardownFailed: "teardown failed"
        }
    }

    /// A short heading, such as `weekly-train succeeded`. Urgent events start with `ACTION NEEDED:`.
    public var title: String {
        let heading = "\(self.job) \(self.outcome)"
        return self.isUrgent ? "ACTION NEEDED: \(heading)" : heading
    }

    /// One line with the facts that matter for this kind of event, for chat messages and fallbacks.
    ///
    /// For example `nightshift: weekly-train run 20271204-0300-ab12 succeeded in 1h 02m (A4000, ~$0.78)`.
    public var summary: String {
        let run = "\(self.job) run \(self.runId)"
        let details = self.detailsInParentheses
        switch self.kind {
        case .started:
            return "nightshift: \(run) started\(details)"
        case .succeeded:
            let duration = self.durationSeconds.map { " in \(RunNotification.formatDuration($0))" } ?? ""
            return "nightshift: \(run) succeeded\(duration)\(details)"
        case .failed:
            let state = self.failedState.map { " in state \($0)" } ?? ""
            let duration = self.durationSeconds.map { " after \(RunNotification.formatDuration($0))" } ?? ""
            let reason = self.reason.map { ": \($0)" } ?? ""
            return "nightshift: \(run) failed\(state)\(duration)\(details)\(reason)"
        case .teardownFailed:
            let machine = self.machineId.map { "machine \($0)" } ?? "the machine"
            let reason = self.reason.map { ": \($0)" } ?? ""
            return "nightshift: ACTION NEEDED: \(machine) may still be running and billing. "
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

    /// Formats an estimated cost as `~$0.78`. The tilde marks the value as an estimate.
    public static func formatCost(_ dollars: Double) -> String {
        "~$" + String(format: "%.2f", dollars)
    }
}
