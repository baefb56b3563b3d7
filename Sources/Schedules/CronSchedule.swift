import Foundation

/// A five-field cron schedule (`minute hour day-of-month month day-of-week`) with Vixie cron syntax and
/// day-of-month/day-of-week semantics, evaluated in the wall-clock time of an IANA time zone.
///
/// Daylight saving time: a wall time that a spring-forward gap skips fires once, at the first instant after the
/// gap. A wall time that a fall-back overlap repeats fires once, at its first occurrence. Wall times that map to
/// the same instant fire once. Stepped and `*` minute or hour fields follow the same per-wall-time rule, so
/// `0 * * * *` skips the second pass of a repeated hour.
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
    /// false) or `date` is not finite or more than 10^15 seconds from 1970.
    public func nextFire(after date: Date, in timeZone: TimeZone) -> Date? {
        let reference = date.timeIntervalSince1970
        guard self.isSatisfiable, reference.isFinite, abs(reference) < 1e15 else {
            return nil
        }
        let referenceSecond = Int(reference.rounded(.down))
        let referenceWall = WallClock.wallTime(at: referenceSecond, timeZone)

        // Wall times up to the reference minute map to instants at or before `date`, because wall-to-instant
        // mapping never goes backwards. Later wall times can still map to instants before `date` during the second
        // pass of a fall-back overlap, which the check in the loop skips.
        var cursor = WallMinute(wallSeconds: WallClock.floorDivide(referenceWall, 60) * 60 + 60)
        let lastYear = cursor.year + Self.searchYears
        while let match = self.firstMatch(from: cursor, throughYear: lastYear) {
            let instant = WallClock.firstInstant(showing: match.wallSeconds, in: timeZone)
            if TimeInterval(instant) > reference {
                return Date(timeIntervalSince1970: TimeInterval(instant))
            }
            cursor = match.addingOneMinute()
        }
        return nil
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

    var usesAndRule: Bool {
        self.dayOfMonthStartsWithStar || self.dayOfWeekStartsWithStar
    }

    func matchesDay(year: Int, month: Int, day: Int) -> Bool {
        let weekday = WallClock.weekday(days: WallClock.days(year: year, month: month, day: day))
        let dayOfMonthMatches = self.daysOfMonth.contains(day)
        let dayOfWeekMatches = self.daysOfWeek.contains(weekday)
        if self.usesAndRule {
            return dayOfMonthMatches && dayOfWeekMatches
        }
        return dayOfMonthMatches || dayOfWeekMatches
    }

    /// Returns the first wall minute at or after `start` that matches every field, advancing a whole month, day or
    /// hour at a time when that field does not match.
    func firstMatch(from start: WallMinute, throughYear lastYear: Int) -> WallMinute? {
        var time = start
        while time.year <= lastYear {
            guard self.months.contains(time.month) else {
                if let month = self.months.next(atOrAfter: time.month + 1) {
                    time = WallMinute(year: time.year, month: month, day: 1, hour: 0, minute: 0)
                } else {
                    time = WallMinute(year: time.year + 1, month: self.months.first ?? 1, day: 1, hour: 0, minute: 0)
                }
                continue
            }
            guard time.day <= WallClock.daysInMonth(year: time.year, month: time.month) else {
                time = time.startOfNextMonth()
                continue
            }
            guard self.matchesDay(year: time.year, month: time.month, day: time.day) else {
                time = time.startOfNextDay()
                continue
            }
            guard let hour = self.hours.next(atOrAfter: time.hour) else {
                time = time.startOfNextDay()
                continue
            }
            if hour != time.hour {
                time.hour = hour
                time.minute = 0
            }
            guard let minute = self.minutes.next(atOrAfter: time.minute) else {
                time.hour += 1
                time.minute = 0
                continue
            }
            time.minute = minute
            return time
        }
        return nil
    }
}
