import Foundation

/// A job's schedule: a five-field cron expression or a systemd calendar expression, distinguished by syntax.
///
/// An expression that starts with `@` or has exactly five whitespace-separated fields is cron, so every cron
/// string keeps its meaning. Anything else is a calendar expression: those have at most four parts (weekday,
/// date, time, zone).
///
/// Daylight saving time: fixed-time schedules fire once per named local time. A time that clocks skip fires at the
/// first instant after the gap, and a repeated time fires at its first occurrence. Interval-like schedules (see
/// `isIntervalLike`) fire at every instant whose local reading matches: both passes of a repeated hour fire, and a
/// skipped hour has no fires.
public enum Schedule: Sendable, Equatable, CustomStringConvertible {
    case cron(CronSchedule)
    case calendar(CalendarSchedule)

    /// The syntax `init(parsing:)` reads an expression in.
    public enum Syntax: String, Sendable {
        case cron
        case calendar
    }

    /// Returns the syntax of `expression` by the rule above, without checking that it parses.
    public static func syntax(of expression: String) -> Syntax {
        let fields = expression.split(whereSeparator: \.isWhitespace)
        if fields.count == 5 {
            return .cron
        }
        // `@reboot` and `@daily` are cron macros, but `@1700000000` is a systemd timestamp.
        if let first = fields.first, first.hasPrefix("@"), Int(first.dropFirst()) == nil {
            return .cron
        }
        return .calendar
    }

    public init(parsing expression: String) throws(ScheduleParseError) {
        switch Self.syntax(of: expression) {
        case .cron:
            do {
                self = .cron(try CronSchedule(parsing: expression))
            } catch {
                throw .cron(error)
            }
        case .calendar:
            do {
                self = .calendar(try CalendarSchedule(parsing: expression))
            } catch {
                throw Self.calendarError(error, expression: expression)
            }
        }
    }

    /// Returns nil if the expression parses and can fire, otherwise a message that explains the problem and the
    /// fix. The config loader calls it for each job's `schedule`.
    public static func validate(_ expression: String) -> String? {
        switch Self.syntax(of: expression) {
        case .cron:
            return CronSchedule.validate(expression)
        case .calendar:
            do {
                _ = try CalendarSchedule(parsing: expression)
            } catch {
                return Self.calendarError(error, expression: expression).description
            }
            return CalendarSchedule.validate(expression)
        }
    }

    /// Reports an expression that looks like cron with the wrong number of fields as a cron error, because a
    /// calendar error about it would be confusing.
    private static func calendarError(_ error: CalendarParseError, expression: String) -> ScheduleParseError {
        let fields = expression.split(whereSeparator: \.isWhitespace)
        let cronCharacters = Set("0123456789*,/-")
        let looksLikeCron =
            fields.count >= 2
            && fields.allSatisfy { field in field.allSatisfy { cronCharacters.contains($0) } }
            && !fields.contains { $0.contains("-") && $0.filter({ $0 == "-" }).count >= 2 }
        if looksLikeCron {
            return .cron(.wrongFieldCount(expression: expression, count: fields.count))
        }
        return .calendar(error)
    }

    public var expression: String {
        switch self {
        case .cron(let schedule): return schedule.expression
        case .calendar(let schedule): return schedule.expression
        }
    }

    public var description: String {
        self.expression
    }

    public var syntax: Syntax {
        switch self {
        case .cron: return .cron
        case .calendar: return .calendar
        }
    }

    /// Whether the schedule repeats within a day at an interval, which decides its daylight saving time rule. Cron:
    /// the hour field is `*` or contains a step (`*/15 * * * *`, `0 */2 * * *`, `0 8-18/2 * * *`, `@hourly`).
    /// Calendar: the hour is `*` or has a repetition (`*:0/15`, `0/2:00`, `hourly`, `minutely`).
    public var isIntervalLike: Bool {
        switch self {
        case .cron(let schedule): return schedule.isIntervalLike
        case .calendar(let schedule): return schedule.isIntervalLike
        }
    }

    /// The zone the schedule is read in: the zone a calendar expression names, else `defaultZone`.
    public func effectiveTimeZone(default defaultZone: TimeZone) -> TimeZone {
        switch self {
        case .cron: return defaultZone
        case .calendar(let schedule): return schedule.effectiveTimeZone(default: defaultZone)
        }
    }

    /// Returns the first fire time strictly after `date`, or nil if the schedule never fires again. `timeZone` is
    /// the job's zone; a zone written in a calendar expression overrides it.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> ScheduledFire? {
        switch self {
        case .cron(let schedule): return schedule.nextScheduledFire(after: date, in: timeZone)
        case .calendar(let schedule): return schedule.nextFire(after: date, in: timeZone)
        }
    }

    /// Returns up to `count` consecutive fire times after `date`, strictly increasing.
    public func fireTimes(after date: Date, in timeZone: TimeZone, count: Int) -> [ScheduledFire] {
        var fires: [ScheduledFire] = []
        var cursor = date
        while fires.count < count, let next = self.nextFire(after: cursor, in: timeZone) {
            fires.append(next)
            cursor = next.date
        }
        return fires
    }
}
