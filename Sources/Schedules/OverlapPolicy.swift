/// What happens when a job's fire comes due while a run of the same job is still active.
public enum OverlapPolicy: String, Sendable, CaseIterable {
    /// Drop the new fire and alert. The default, because two training runs of one job compete for the same
    /// outputs and double the machine cost.
    case skip
    /// Keep at most one fire waiting and start it when the active run ends.
    case queue

    /// The action for a fire that is due now.
    public enum Decision: Sendable, Equatable {
        /// No run is active: start now. A queued fire, if any, is replaced by this one.
        case start
        /// Keep this fire until the active run ends.
        case enqueue
        /// Drop this fire; log and alert with the reason.
        case skip(SkipReason)
    }

    public enum SkipReason: String, Sendable {
        /// A run is active and the policy is `skip`.
        case runActive = "run_active"
        /// A run is active and another fire already waits, so the queue is full.
        case queueFull = "queue_full"
    }

    public func decide(runIsActive: Bool, runIsQueued: Bool) -> Decision {
        guard runIsActive else {
            return .start
        }
        switch self {
        case .skip:
            return .skip(.runActive)
        case .queue:
            return runIsQueued ? .skip(.queueFull) : .enqueue
        }
    }
}
