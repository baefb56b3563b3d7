/// One part of a systemd calendar expression, in the order `Weekday Year-Month-Day Hour:Minute:Second`.
public enum CalendarComponent: String, Sendable, CaseIterable {
    case weekday
    case year
    case month
    case day
    case hour
    case minute
    case second

    /// The smallest value the component accepts. Weekdays count from Sunday as 0.
    public var minimum: Int {
        switch self {
        case .weekday, .hour, .minute, .second: return 0
        case .year: return 1970
        case .month, .day: return 1
        }
    }

    /// The largest value the component accepts. 2199 is systemd's last year.
    public var maximum: Int {
        switch self {
        case .weekday: return 6
        case .year: return 2199
        case .month: return 12
        case .day: return 31
        case .hour: return 23
        case .minute, .second: return 59
        }
    }

    /// A valid value of the component, for the fix suggested in error messages.
    var example: String {
        switch self {
        case .weekday: return "Mon..Fri"
        case .year: return "2027"
        case .month: return "01,07"
        case .day: return "1..7"
        case .hour: return "0/6"
        case .minute: return "00/15"
        case .second: return "00"
        }
    }
}
