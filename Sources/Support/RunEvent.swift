/// The kinds of run events that notifiers can subscribe to. The raw values are the names used in the config file.
public enum RunEventKind: String, Sendable, CaseIterable, Codable {
    case started = "run_started"
    case succeeded = "run_succeeded"
    case failed = "run_failed"
    /// Teardown could not confirm that the machine is gone: a person must look, because it may still cost money.
    case teardownFailed = "teardown_failed"
}
