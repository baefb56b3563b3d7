import Foundation

/// Calendar arithmetic on wall-clock time, counted in seconds as if the zone were UTC, in the proleptic Gregorian
/// calendar. Keeping the search in this naive time means no DST rule can shift a field while it is matched.
enum WallClock {
    /// Returns the days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil` algorithm).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Returns the civil date of a count of days since 1970-01-01 (Howard Hinnant's `civil_from_days` algorithm).
    static func date(days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Returns 0 for Sunday through 6 for Saturday.
    static func weekday(days: Int) -> Int {
        // 1970-01-01 was a Thursday.
        ((days % 7) + 7 + 4) % 7
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return self.isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Returns the first instant, in whole seconds since 1970, at which clocks in `zone` show `wallSeconds` or a
    /// later time. A wall time inside a fall-back overlap maps to its first occurrence, and one inside a
    /// spring-forward gap maps to the transition instant that ends the gap.
    ///
    /// Assumes the offset changes at most once between a day before and a day after the wall time. That is true
    /// whenever a zone's offset changes are more than two days apart.
    static func firstInstant(showing wallSeconds: Int, in zone: TimeZone) -> Int {
        let offsets = Set([wallSeconds - 86_400, wallSeconds, wallSeconds + 86_400].map { self.offset(at: $0, zone) })

        let exact = offsets.map { wallSeconds - $0 }.filter { self.wallTime(at: $0, zone) == wallSeconds }
        if let first = exact.min() {
            return first
        }

        // No instant shows this wall time, so it lies in a gap. The clock reads earlier than the wall time at
        // `before` and later at `after`. The instant where it jumps past the wall time ends the gap.
        var before = wallSeconds - (offsets.max() ?? 0)
        var after = wallSeconds - (offsets.min() ?? 0)
        guard self.wallTime(at: before, zone) < wallSeconds, self.wallTime(at: after, zone) > wallSeconds else {
            // NOTE: Reachable only if the offset changes twice within two days. The result may then be off by the
            // size of one change.
            return before
        }
        while after - before > 1 {
            let middle = before + (after - before) / 2
            if self.wallTime(at: middle, zone) >= wallSeconds {
                after = middle
            } else {
                before = middle
            }
        }
        return after
    }

    /// Divides rounding toward negative infinity, so times before 1970 fall into the right minute and day.
    static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }

    static func offset(at instant: Int, _ zone: TimeZone) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    static func wallTime(at instant: Int, _ zone: TimeZone) -> Int {
        instant + self.offset(at: instant, zone)
    }
}
