import Foundation

/// A five-field cron schedule (`minute hour day-of-month month day-of-week`) with Vixie cron syntax and
/// day-of-month/day-of-week semantics, evaluated in the wall-clock time of an IANA time zone.
///
/// Daylight saving time follows the policy of `Schedule`: fixed-time schedules fire once per named wall time (a
/// skipped time at the end of the gap, a repeated time at its first occurrence), and interval-like schedules, whose
/// hour field is `*` or has a step, fire at every instant whose local reading matches.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written, before parsing.
    public let expression: String

    let minutes: CronValueSet
    let hours: CronValueSet
    let daysOfMonth: CronValueSet
    let months: CronValueSet
    /// Sunday is 0; a 7 in the expression is stored as 0.
    let daysOfWeek: CronValueSet
    /// Whether the field's text starts with `*`. As in Vixie cron, the day-of-month and day-of-week fields are
    /// ORed only when neither starts with `*`, so `*/2` counts as unrestricted.
    let dayOfMonthStartsWithStar: Bool
    let dayOfWeekStartsWithStar: Bool
    /// Whether the hour field is `*` or contains a step, which makes the schedule follow elapsed time across
    /// daylight saving time changes.
    public let isIntervalLike: Bool

    /// The maximum search span for a next fire time, in years. After one 400-year Gregorian cycle dates and
    /// weekdays repeat, so a schedule that matches no date in one cycle matches none at all.
    static let searchYears = 400

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
        "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]

    /// Parses five fields or a macro such as `@daily`. Month and weekday names and macros are case-insensitive.
    public init(parsing expression: String) throws(CronParseError) {
        self.expression = expression
        var fields = expression.split(whereSeparator: \.isWhitespace)
        guard let firstField = fields.first else {
            throw .emptyExpression
        }

        if firstField.hasPrefix("@") {
            let macro = firstField.lowercased()
            if macro == "@reboot" {
                throw .rebootNotSupported(expression: expression)
            }
            guard fields.count == 1, let expansion = Self.macros[macro] else {
                throw .invalidMacro(expression: expression, macro: String(firstField))
            }
            fields = expansion.split(separator: " ")
        }

        guard fields.count == 5 else {
            throw .wrongFieldCount(expression: expression, count: fields.count)
        }
        let parsers = CronField.allCases.map { CronFieldParser(expression: expression, field: $0) }
        self.minutes = try parsers[0].parse(fields[0])
        self.hours = try parsers[1].parse(fields[1])
        self.daysOfMonth = try parsers[2].parse(fields[2])
        self.months = try parsers[3].parse(fields[3])
        self.daysOfWeek = try parsers[4].parse(fields[4])
        self.dayOfMonthStartsWithStar = fields[2].hasPrefix("*")
        self.dayOfWeekStartsWithStar = fields[4].hasPrefix("*")
        self.isIntervalLike = fields[1] == "*" || fields[1].contains("/")
    }

    /// Returns nil if the expression parses and can fire, otherwise a message that explains the problem and the
    /// fix. Unlike `init(parsing:)`, this also rejects schedules that never fire, such as `0 0 30 2 *`.
    public static func validate(_ expression: String) -> String? {
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(parsing: expression)
        } catch {
            return error.description
        }
        guard schedule.isSatisfiable else {
            return "cron schedule \"\(expression)\" never fires: no day in the day-of-month field exists in the"
                + " months of the month field (April, June, September and November have 30 days, February 29)."
                + " Choose days that exist in those months"
        }
        return nil
    }

    public var description: String {
        self.expression
    }

    /// Whether some date matches the day and month fields. Only the AND rule can fail: with the OR rule every
    /// month contains each weekday, and every valid day of a month falls on each weekday in some year.
    public var isSatisfiable: Bool {
        guard self.usesAndRule else {
            return true
        }
        return self.months.values.contains { month in
            let lastDay = WallClock.daysInMonth(year: 2000, month: month)
            return self.daysOfMonth.next(atOrAfter: 1).map { $0 <= lastDay } ?? false
        }
    }

    /// Returns the first fire time strictly after `date`, or nil if the schedule never fires (`isSatisfiable` is
    /// false) or `date` is not finite or more than 10^12 seconds from 1970.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        self.nextScheduledFire(after: date, in: timeZone)?.date
    }

    /// Returns the first fire time strictly after `date`, with the local time it was moved from when daylight
    /// saving time skipped the named time.
    public func nextScheduledFire(after date: Date, in timeZone: TimeZone) -> ScheduledFire? {
        guard self.isSatisfiable else {
            return nil
        }
        return FireSearch.next(self.pattern, intervalLike: self.isIntervalLike, after: date, in: timeZone)
    }

    /// Returns up to `count` consecutive fire times after `date`, strictly increasing.
    public func fireTimes(after date: Date, in timeZone: TimeZone, count: Int) -> [Date] {
        var times: [Date] = []
        var cursor = date
        while times.count < count, let next = self.nextFire(after: cursor, in: timeZone) {
            times.append(next)
            cursor = next
        }
        return times
    }

    var pattern: WallPattern {
        WallPattern(
            years: nil,
            months: self.months,
            daysOfMonth: self.daysOfMonth,
            daysFromEnd: [],
            weekdays: self.daysOfWeek,
            dayRule: self.usesAndRule ? .both : .either,
            hours: self.hours,
            minutes: self.minutes,
            seconds: CronValueSet(values: [0])
        )
    }

    var usesAndRule: Bool {
        self.dayOfMonthStartsWithStar || self.dayOfWeekStartsWithStar
    }
}
