import Schedules

/// The per-job settings that decide when a fire starts, shared by training and `hub_upload` jobs: catch-up after
/// downtime, its deadline, overlap with a running job, and jitter.
public struct FirePolicy: Sendable, Equatable {
    /// `catch_up`: what to do with fires missed while the daemon was down. Default `latest`.
    public var catchUp: CatchUpPolicy
    /// `starting_deadline`: how late a fire may still start, in seconds. Default 3600.
    public var startingDeadline: Double
    /// `overlap`: what happens to a fire while a run of the same job is active. Default `skip`.
    public var overlap: OverlapPolicy
    /// `jitter` and `jitter_mode`: a start delay below the limit. Default none, mode `stable`.
    public var jitter: Jitter

    public init(
        catchUp: CatchUpPolicy = .latest,
        startingDeadline: Double = CatchUpPlanner.defaultStartingDeadline,
        overlap: OverlapPolicy = .skip,
        jitter: Jitter = .none
    ) {
        self.catchUp = catchUp
        self.startingDeadline = startingDeadline
        self.overlap = overlap
        self.jitter = jitter
    }
}
