import Foundation

/// One fire time of a schedule.
public struct ScheduledFire: Sendable, Hashable, CustomStringConvertible {
    /// The instant the job is due, in whole seconds.
    public var date: Date
    /// The local time the schedule named when the daylight saving time policy moved the fire because clocks
    /// skipped that time, nil when the fire is at the named time.
    public var movedFrom: LocalDateTime?

    public init(date: Date, movedFrom: LocalDateTime? = nil) {
        self.date = date
        self.movedFrom = movedFrom
    }

    public var description: String {
        let instant = Int(self.date.timeIntervalSince1970)
        guard let movedFrom = self.movedFrom else {
            return "\(LocalDateTime(wallSeconds: instant))Z"
        }
        return "\(LocalDateTime(wallSeconds: instant))Z (moved from \(movedFrom))"
    }
}
