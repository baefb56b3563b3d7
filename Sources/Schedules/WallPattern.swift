/// The wall-clock times a schedule names, as sets of field values, shared by the cron and calendar syntaxes.
/// Matching happens in naive wall time (seconds counted as if the zone were UTC), so no DST rule shifts a field.
struct WallPattern: Sendable, Equatable {
    /// The rule that combines the day-of-month and weekday sets.
    enum DayRule: Sendable, Equatable {
        /// A day matches when its day of month matches and its weekday matches (systemd, and cron when a day field
        /// starts with `*`).
        case both
        /// A day matches when either its day of month or its weekday matches (cron when both fields are restricted).
        case either
    }

    /// Allowed years in ascending order, or nil for every year.
    var years: [Int]?
    var months: CronValueSet
    var daysOfMonth: CronValueSet
    /// Days counted from the end of the month, from systemd's `~` syntax.
    var daysFromEnd: [EndOfMonthRange]
    /// Sunday is 0.
    var weekdays: CronValueSet
    var dayRule: DayRule
    var hours: CronValueSet
    var minutes: CronValueSet
    var seconds: CronValueSet

    /// The last year a search may reach when it starts in `year`. After one 400-year Gregorian cycle dates and
    /// weekdays repeat, so a pattern without a match in one cycle has none at all.
    func lastSearchYear(from year: Int) -> Int {
        if let years = self.years {
            return years.last ?? year
        }
        return year + 400
    }

    func matchesDay(year: Int, month: Int, day: Int) -> Bool {
        let weekday = WallClock.weekday(days: WallClock.days(year: year, month: month, day: day))
        let lastDay = WallClock.daysInMonth(year: year, month: month)
        let dayMatches =
            self.daysOfMonth.contains(day) || self.daysFromEnd.contains { $0.contains(day: day, lastDay: lastDay) }
        switch self.dayRule {
        case .both:
            return dayMatches && self.weekdays.contains(weekday)
        case .either:
            return dayMatches || self.weekdays.contains(weekday)
        }
    }

    func matches(wallSeconds: Int) -> Bool {
        let time = WallTime(wallSeconds: wallSeconds)
        guard self.years.map({ $0.contains(time.year) }) ?? true, self.months.contains(time.month) else {
            return false
        }
        return self.matchesDay(year: time.year, month: time.month, day: time.day) && self.hours.contains(time.hour)
            && self.minutes.contains(time.minute) && self.seconds.contains(time.second)
    }

    /// Returns the first wall time at or after `start` that matches every field, or nil if none does through
    /// `lastYear`. Skips a whole year, month, day, hour or minute at a time when that field does not match.
    func firstMatch(atOrAfter start: Int, throughYear lastYear: Int) -> Int? {
        var time = WallTime(wallSeconds: start)
        while time.year <= lastYear {
            if let years = self.years, !years.contains(time.year) {
                guard let year = years.first(where: { $0 > time.year }) else { return nil }
                time = WallTime(year: year, month: 1, day: 1)
                continue
            }
            guard self.months.contains(time.month) else {
                if let month = self.months.next(atOrAfter: time.month + 1) {
                    time = WallTime(year: time.year, month: month, day: 1)
                } else {
                    time = WallTime(year: time.year + 1, month: 1, day: 1)
                }
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
                time.second = 0
            }
            guard let minute = self.minutes.next(atOrAfter: time.minute) else {
                time = time.startOfHour(time.hour + 1)
                continue
            }
            if minute != time.minute {
                time.minute = minute
                time.second = 0
            }
            guard let second = self.seconds.next(atOrAfter: time.second) else {
                time = time.startOfMinute(time.minute + 1)
                continue
            }
            time.second = second
            return time.wallSeconds
        }
        return nil
    }
}

/// Days counted back from the last day of a month: offset 1 is the last day. systemd writes `~3` for the offset 3,
/// `~5..7` for the offsets 5 to 7, and `~7/2` or `~1..7/2` for a repetition that starts at the earliest day of the
/// range and counts forward toward the end of the month.
struct EndOfMonthRange: Sendable, Equatable {
    /// The largest offset, which is the earliest day.
    var earliestOffset: Int
    /// The smallest offset, which is the latest day.
    var latestOffset: Int
    var step: Int

    func contains(day: Int, lastDay: Int) -> Bool {
        let firstDay = lastDay - self.earliestOffset + 1
        let finalDay = lastDay - self.latestOffset + 1
        return day >= firstDay && day <= finalDay && (day - firstDay) % self.step == 0
    }
}
