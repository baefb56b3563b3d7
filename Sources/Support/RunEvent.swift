/// The kinds of run events that notifiers can subscribe to. The raw values are the names used in the config file
/// and in the `kind` field of notifications, so they stay snake_case and never change.
public enum RunEventKind: String, Sendable, CaseIterable, Codable {
    case started = "run_started"
    case succeeded = "run_succeeded"
    case failed = "run_failed"
    /// A scheduled fire time passed without a run, for example while the daemon was stopped.
    case missed = "run_missed"
    /// A fire time came while the previous run of the same job was still running, so no new run started.
    case skipped = "run_skipped"
    /// Teardown could not confirm that the machine is gone: a person must look, because it may still cost money.
    case teardownFailed = "teardown_failed"
    /// The orphan sweep found a machine of this agent that no run owned, and deleted it.
    case orphanSwept = "orphan_swept"
    /// The estimated cost of a run or of a job's runs reached the warning share of its budget.
    case budgetWarning = "budget_warning"
}
