import Foundation

/// One reading of the clocks at a scheduler wake.
public struct ClockReading: Sendable, Equatable {
    /// The wall clock (`CLOCK_REALTIME`).
    public var wall: Date
    /// Seconds of `CLOCK_MONOTONIC`, which stops while the host is suspended.
    public var monotonic: TimeInterval
    /// Seconds of `CLOCK_BOOTTIME`, which keeps counting during suspend; nil when unknown.
    public var boottime: TimeInterval?

    public init(wall: Date, monotonic: TimeInterval, boottime: TimeInterval? = nil) {
        self.wall = wall
        self.monotonic = monotonic
        self.boottime = boottime
    }
}

/// The movement of the clocks between two wakes.
public enum ClockEvent: Sendable, Equatable {
    case normal
    /// The wall clock moved ahead of the monotonic clock by this many seconds, without a suspend.
    case forwardJump(TimeInterval)
    /// The wall clock moved back by this many seconds relative to the monotonic clock.
    case backwardJump(TimeInterval)
    /// The host was suspended for about this many seconds (`CLOCK_BOOTTIME` advanced with the wall clock).
    case resumed(TimeInterval)
    /// The wall clock moved ahead of the monotonic clock, and without a boot time a suspend cannot be told from a clock jump.
    case forwardJumpOrResume(TimeInterval)
}

/// The fires of one job across wakes, exactly once: a backward clock jump never fires a handled instant again,
/// because fires at or before `handledThrough` are never returned; a forward jump or a resume goes through
/// `CatchUpPlanner`, so missed fires start (`catch_up: latest`) or are reported, never dropped silently.
public struct ScheduleTracker: Sendable {
    public let timing: JobTiming
    /// The scheduled instant of the latest fire started or reported. Persist it across restarts.
    public private(set) var handledThrough: Date?
    public private(set) var previous: ClockReading?
    /// The wall time since when wakes were continuous, without a jump or suspend.
    public private(set) var awakeSince: Date?
    /// Differences between wall and monotonic elapsed time up to this many seconds count as normal drift.
    public static let jumpTolerance: TimeInterval = 5

    /// The result of one wake.
    public struct Step: Sendable, Equatable {
        public var clockEvent: ClockEvent
        public var decision: CatchUpDecision
    }

    /// Starts tracking. `lastFire` is the persisted scheduled instant of the job's last fire. It is nil for a new
    /// job, whose first wake sets the baseline, so nothing counts as missed.
    public init(timing: JobTiming, lastFire: Date?) {
        self.timing = timing
        self.handledThrough = lastFire
    }

    public static func classify(from previous: ClockReading, to current: ClockReading) -> ClockEvent {
        let wallElapsed = current.wall.timeIntervalSince(previous.wall)
        let monotonicElapsed = current.monotonic - previous.monotonic
        let drift = wallElapsed - monotonicElapsed
        if abs(drift) <= Self.jumpTolerance {
            return .normal
        }
        if drift < 0 {
            return .backwardJump(-drift)
        }
        guard let before = previous.boottime, let after = current.boottime else {
            return .forwardJumpOrResume(drift)
        }
        let suspended = (after - before) - monotonicElapsed
        return abs(suspended - drift) <= Self.jumpTolerance ? .resumed(suspended) : .forwardJump(drift)
    }

    /// Processes one wake and returns the fire to start, if any, and missed fires to report.
    public mutating func wake(at reading: ClockReading) -> Step {
        let event = self.previous.map { Self.classify(from: $0, to: reading) } ?? .normal
        if self.previous == nil || event != .normal {
            self.awakeSince = reading.wall
        }
        if self.previous == nil, self.handledThrough == nil {
            self.handledThrough = reading.wall
        }
        self.previous = reading

        let decision = CatchUpPlanner.decide(
            self.timing,
            lastFire: self.handledThrough,
            now: reading.wall,
            awakeSince: self.awakeSince
        )
        if let handled = decision.handledThrough {
            self.handledThrough = max(handled, self.handledThrough ?? handled)
        }
        return Step(clockEvent: event, decision: decision)
    }
}
