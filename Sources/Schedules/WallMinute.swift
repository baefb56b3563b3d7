/// A wall-clock minute in the proleptic Gregorian calendar, not tied to a zone.
struct WallMinute: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    init(wallSeconds: Int) {
        let minutes = WallClock.floorDivide(wallSeconds, 60)
        let days = WallClock.floorDivide(minutes, 1440)
        let minuteOfDay = minutes - days * 1440
        let date = WallClock.date(days: days)
        self.init(year: date.year, month: date.month, day: date.day, hour: minuteOfDay / 60, minute: minuteOfDay % 60)
    }

    var wallSeconds: Int {
        let days = WallClock.days(year: self.year, month: self.month, day: self.day)
        return ((days * 24 + self.hour) * 60 + self.minute) * 60
    }

    func addingOneMinute() -> WallMinute {
        WallMinute(wallSeconds: self.wallSeconds + 60)
    }

    func startOfNextDay() -> WallMinute {
        let days = WallClock.days(year: self.year, month: self.month, day: self.day) + 1
        let date = WallClock.date(days: days)
        return WallMinute(year: date.year, month: date.month, day: date.day, hour: 0, minute: 0)
    }

    func startOfNextMonth() -> WallMinute {
        if self.month == 12 {
            return WallMinute(year: self.year + 1, month: 1, day: 1, hour: 0, minute: 0)
        }
        return WallMinute(year: self.year, month: self.month + 1, day: 1, hour: 0, minute: 0)
    }
}
