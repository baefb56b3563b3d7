import Foundation

/// A systemd calendar expression (the `OnCalendar=` syntax of systemd 252), such as `Mon..Fri *-*-* 03:00`,
/// `*-*~01 02:00 Europe/Moscow` or `daily`. Weekday and date AND, as in systemd. Seconds are whole: a fraction
/// such as `03:00:07.25` is dropped, so the fire is at 03:00:07.
public struct CalendarSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written, before parsing.
    public let expression: String
    /// The zone written at the end of the expression. It overrides the zone passed to `nextFire(after:in:)`.
    public let timeZone: TimeZone?
    /// Whether the hour component is `*` or has a repetition (`*:0/15`, `0/2:00`, `hourly`), which makes the
    /// schedule follow elapsed time across daylight saving time changes.
    public let isIntervalLike: Bool
    /// Whether a second value had a fraction that nightshift drops.
    public let hasFractionalSeconds: Bool
    let pattern: WallPattern

    /// Parses an expression. Weekday names, shorthands and zone names follow systemd, and the first two are
    /// case-insensitive.
    public init(parsing expression: String) throws(CalendarParseError) {
        let result = try CalendarParser(expression: expression).parse()
        self.expression = expression
        self.timeZone = result.timeZone
        self.isIntervalLike = result.isIntervalLike
        self.hasFractionalSeconds = result.hasFractionalSeconds
        self.pattern = result.pattern
    }

    /// Returns nil if the expression parses and fires at least once after 1970, otherwise a message that explains
    /// the problem and the fix.
    public static func validate(_ expression: String) -> String? {
        let schedule: CalendarSchedule
        do {
            schedule = try CalendarSchedule(parsing: expression)
        } catch {
            return error.description
        }
        guard schedule.canFire else {
            return "calendar schedule \"\(expression)\" never fires: no date matches its weekday, year, month and day"
                + " together (weekdays and dates must both match, and months have 28 to 31 days)."
                + " Choose a date that exists, or remove the weekday"
        }
        return nil
    }

    public var description: String {
        self.expression
    }

    /// Whether some date from 1970 on matches.
    public var canFire: Bool {
        let start = WallTime(year: 1970, month: 1, day: 1).wallSeconds
        return self.pattern.firstMatch(atOrAfter: start, throughYear: self.pattern.lastSearchYear(from: 1970)) != nil
    }

    /// The zone the schedule is read in: its own zone if the expression names one, else `defaultZone`.
    public func effectiveTimeZone(default defaultZone: TimeZone) -> TimeZone {
        self.timeZone ?? defaultZone
    }

    /// Returns the first fire time strictly after `date`, or nil if there is none. `timeZone` applies only when
    /// the expression names no zone.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> ScheduledFire? {
        FireSearch.next(
            self.pattern,
            intervalLike: self.isIntervalLike,
            after: date,
            in: self.effectiveTimeZone(default: timeZone)
        )
    }
}
