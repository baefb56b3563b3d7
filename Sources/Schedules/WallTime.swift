/// A wall-clock time to the second in the proleptic Gregorian calendar, not tied to a zone. Hours and minutes may
/// briefly overflow (hour 24, minute 60) while the search advances, and the `start…` helpers normalize them.
struct WallTime: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    init(wallSeconds: Int) {
        let days = WallClock.floorDivide(wallSeconds, 86_400)
        let secondOfDay = wallSeconds - days * 86_400
        let date = WallClock.date(days: days)
        self.init(
            year: date.year,
            month: date.month,
            day: date.day,
            hour: secondOfDay / 3600,
            minute: secondOfDay % 3600 / 60,
            second: secondOfDay % 60
        )
    }

    var wallSeconds: Int {
        let days = WallClock.days(year: self.year, month: self.month, day: self.day)
        return days * 86_400 + self.hour * 3600 + self.minute * 60 + self.second
    }

    func startOfNextDay() -> WallTime {
        let date = WallClock.date(days: WallClock.days(year: self.year, month: self.month, day: self.day) + 1)
        return WallTime(year: date.year, month: date.month, day: date.day)
    }

    /// Returns the start of `hour` on this day, or of the next day when `hour` is 24.
    func startOfHour(_ hour: Int) -> WallTime {
        hour >= 24 ? self.startOfNextDay() : WallTime(year: self.year, month: self.month, day: self.day, hour: hour)
    }

    /// Returns the start of `minute` in this hour, or of the next hour when `minute` is 60.
    func startOfMinute(_ minute: Int) -> WallTime {
        if minute >= 60 {
            return self.startOfHour(self.hour + 1)
        }
        return WallTime(year: self.year, month: self.month, day: self.day, hour: self.hour, minute: minute)
    }
}
