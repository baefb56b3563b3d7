/// One of the five fields of a cron expression, in the order they are written.
public enum CronField: String, Sendable, CaseIterable {
    case minute
    case hour
    case dayOfMonth = "day-of-month"
    case month
    case dayOfWeek = "day-of-week"

    /// The smallest value the field accepts.
    public var minimum: Int {
        switch self {
        case .minute, .hour, .dayOfWeek: return 0
        case .dayOfMonth, .month: return 1
        }
    }

    /// The largest value the field accepts. In day-of-week, 7 is a second spelling of Sunday.
    public var maximum: Int {
        switch self {
        case .minute: return 59
        case .hour: return 23
        case .dayOfMonth: return 31
        case .month: return 12
        case .dayOfWeek: return 7
        }
    }

    /// Three-letter names for the values, starting at `minimum`; empty for numeric-only fields.
    var names: [String] {
        switch self {
        case .month:
            return ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        case .dayOfWeek:
            return ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        case .minute, .hour, .dayOfMonth:
            return []
        }
    }

    /// The accepted values in words, for error messages.
    var allowedValues: String {
        switch self {
        case .minute, .hour, .dayOfMonth:
            return "\(self.minimum)-\(self.maximum)"
        case .month:
            return "1-12 or JAN-DEC"
        case .dayOfWeek:
            return "0-7 (0 and 7 are Sunday) or SUN-SAT"
        }
    }

    /// A valid value of the field, for the fix suggested in error messages.
    var example: String {
        switch self {
        case .minute: return "30"
        case .hour: return "2"
        case .dayOfMonth: return "1,15"
        case .month: return "JAN-MAR"
        case .dayOfWeek: return "MON-FRI"
        }
    }
}
