/// A date and time as clocks in some zone show it, to the second, without the zone.
public struct LocalDateTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    init(wallSeconds: Int) {
        let time = WallTime(wallSeconds: wallSeconds)
        self.init(
            year: time.year,
            month: time.month,
            day: time.day,
            hour: time.hour,
            minute: time.minute,
            second: time.second
        )
    }

    var wallSeconds: Int {
        WallTime(
            year: self.year,
            month: self.month,
            day: self.day,
            hour: self.hour,
            minute: self.minute,
            second: self.second
        ).wallSeconds
    }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool {
        lhs.wallSeconds < rhs.wallSeconds
    }

    /// `2027-03-14 02:30:00`.
    public var description: String {
        func pad(_ value: Int, _ width: Int = 2) -> String {
            let digits = String(abs(value))
            return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(self.year, 4))-\(pad(self.month))-\(pad(self.day)) "
            + "\(pad(self.hour)):\(pad(self.minute)):\(pad(self.second))"
    }
}
