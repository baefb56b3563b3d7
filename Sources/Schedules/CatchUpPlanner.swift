import Foundation

/// The handling of fires that came due while nightshift could not start them: the daemon was stopped, the host
/// was suspended, or the wall clock jumped forward.
public enum CatchUpPolicy: String, Sendable, CaseIterable {
    /// Start the latest missed fire once if it is still within the starting deadline, and report the older ones.
    case latest
    /// Start only fires that are on time, and report every missed one.
    case none
}

/// Timing settings of one job, as the config file sets them.
public struct JobTiming: Sendable {
    public var name: String
    public var schedule: Schedule
    /// The job's zone; a zone written in a calendar expression overrides it.
    public var timeZone: TimeZone
    public var catchUp: CatchUpPolicy
    /// How long after its due time a fire may still start, in seconds.
    public var startingDeadline: TimeInterval
    public var jitter: Jitter
    /// The seed passed to `Jitter.delay(jobName:scheduled:seed:)`.
    public var jitterSeed: UInt64

    public init(
        name: String,
        schedule: Schedule,
        timeZone: TimeZone,
        catchUp: CatchUpPolicy = .latest,
        startingDeadline: TimeInterval = CatchUpPlanner.defaultStartingDeadline,
        jitter: Jitter = .none,
        jitterSeed: UInt64 = 0
    ) {
        self.name = name
        self.schedule = schedule
        self.timeZone = timeZone
        self.catchUp = catchUp
        self.startingDeadline = startingDeadline
        self.jitter = jitter
        self.jitterSeed = jitterSeed
    }

    /// Returns the instant a fire is due: its scheduled instant plus the job's jitter.
    public func dueDate(of fire: ScheduledFire) -> Date {
        fire.date.addingTimeInterval(self.jitter.delay(jobName: self.name, scheduled: fire.date, seed: self.jitterSeed))
    }
}

/// Fires that came due and will not start.
public struct MissedFires: Sendable, Equatable {
    /// The number of missed fires, exact unless `countIsLowerBound`.
    public var count: Int
    public var countIsLowerBound: Bool
    public var first: ScheduledFire
    public var last: ScheduledFire
}

/// The planner's result for one job at one wake.
public struct CatchUpDecision: Sendable, Equatable {
    /// The fire to start now, nil for none. Persist its `date` as the job's last fire once the run starts.
    public var fire: ScheduledFire?
    /// Fires that will not start, to log and alert; nil when none were missed.
    public var missed: MissedFires?
    /// The scheduled instant up to which every fire is now handled. Persist it when `fire` is nil, so the
    /// missed fires are not reported again.
    public var handledThrough: Date?
    /// When the next fire of this job is due, or nil if the schedule never fires again.
    public var nextDue: Date?
}

/// Decides which fire of a job starts now. Pure: the caller passes the clock reading and the persisted state.
public enum CatchUpPlanner {
    /// One hour: a nightly training run that starts an hour late still finishes the same night, and a later
    /// start is more likely to collide with the next fire or with work that expects the model.
    public static let defaultStartingDeadline: TimeInterval = 3600
    /// How late a fire may start under `catch_up: none` and still count as on time, in seconds. It covers a
    /// daemon that wakes a little late, like systemd's default `AccuracySec=1min`.
    public static let onTimeTolerance: TimeInterval = 60
    /// Missed fires counted one by one; more are reported as a lower bound.
    public static let maximumCountedMisses = 10_000

    /// Returns what to start at `now`, given the scheduled instant of the job's last fire (nil for a new job,
    /// which starts with its first fire after `now`). `awakeSince`, when given, is the wall time from which
    /// the daemon has watched the clock without a jump or suspend; fires due since then count as on time.
    public static func decide(
        _ timing: JobTiming,
        lastFire: Date?,
        now: Date,
        awakeSince: Date? = nil
    ) -> CatchUpDecision {
        guard let lastFire else {
            let next = timing.schedule.nextFire(after: now, in: timing.timeZone)
            return CatchUpDecision(fire: nil, missed: nil, handledThrough: nil, nextDue: next.map(timing.dueDate))
        }

        var due: [ScheduledFire] = []
        var count = 0
        var cursor = lastFire
        var nextDue: Date?
        while let fire = timing.schedule.nextFire(after: cursor, in: timing.timeZone) {
            let dueDate = timing.dueDate(of: fire)
            if dueDate > now {
                nextDue = dueDate
                break
            }
            count += 1
            if due.count < 2 {
                due.append(fire)
            } else {
                due[1] = fire
            }
            cursor = fire.date
            if count >= Self.maximumCountedMisses {
                return self.decideAfterLongGap(timing, first: due[0], now: now, awakeSince: awakeSince)
            }
        }
        guard let first = due.first, let last = due.last else {
            return CatchUpDecision(fire: nil, missed: nil, handledThrough: nil, nextDue: nextDue)
        }
        let startable = Self.canStart(last, timing: timing, now: now, awakeSince: awakeSince)
        let missedCount = startable ? count - 1 : count
        var missed: MissedFires?
        if missedCount > 0 {
            let lastMissed = startable ? Self.fireBefore(last, from: lastFire, timing: timing) ?? first : last
            missed = MissedFires(count: missedCount, countIsLowerBound: false, first: first, last: lastMissed)
        }
        return CatchUpDecision(
            fire: startable ? last : nil,
            missed: missed,
            handledThrough: last.date,
            nextDue: nextDue
        )
    }

    static func canStart(_ fire: ScheduledFire, timing: JobTiming, now: Date, awakeSince: Date?) -> Bool {
        let lateness = now.timeIntervalSince(timing.dueDate(of: fire))
        if let awakeSince, timing.dueDate(of: fire) >= awakeSince, lateness <= timing.startingDeadline {
            return true
        }
        switch timing.catchUp {
        case .latest:
            return lateness <= timing.startingDeadline
        case .none:
            return lateness <= min(Self.onTimeTolerance, timing.startingDeadline)
        }
    }

    /// Returns the fire just before `fire`, searching forward from `start`.
    private static func fireBefore(_ fire: ScheduledFire, from start: Date, timing: JobTiming) -> ScheduledFire? {
        var previous: ScheduledFire?
        var cursor = start
        while let next = timing.schedule.nextFire(after: cursor, in: timing.timeZone), next.date < fire.date {
            previous = next
            cursor = next.date
        }
        return previous
    }

    /// Handles more missed fires than are counted: finds the latest due fire by searching from a window before
    /// `now` that doubles until it contains one.
    private static func decideAfterLongGap(
        _ timing: JobTiming,
        first: ScheduledFire,
        now: Date,
        awakeSince: Date?
    ) -> CatchUpDecision {
        var window = max(timing.startingDeadline, 3600) + timing.jitter.limit
        var latest: ScheduledFire?
        var beforeLatest: ScheduledFire?
        var nextDue: Date?
        while latest == nil, window < 1e10 {
            var cursor = max(first.date, now.addingTimeInterval(-window))
            while let fire = timing.schedule.nextFire(after: cursor, in: timing.timeZone) {
                let dueDate = timing.dueDate(of: fire)
                if dueDate > now {
                    nextDue = dueDate
                    break
                }
                beforeLatest = latest
                latest = fire
                cursor = fire.date
            }
            window *= 2
        }
        let last = latest ?? first
        let startable = Self.canStart(last, timing: timing, now: now, awakeSince: awakeSince)
        let lastMissed = startable ? beforeLatest ?? first : last
        let missed = MissedFires(
            count: Self.maximumCountedMisses,
            countIsLowerBound: true,
            first: first,
            last: lastMissed
        )
        return CatchUpDecision(
            fire: startable ? last : nil,
            missed: missed,
            handledThrough: last.date,
            nextDue: nextDue
        )
    }
}
