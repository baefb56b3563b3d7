/// An expression that `Schedule` cannot parse, in the syntax it was detected as.
public enum ScheduleParseError: Error, CustomStringConvertible, Sendable, Equatable {
    case cron(CronParseError)
    case calendar(CalendarParseError)

    public var description: String {
        switch self {
        case .cron(let error): return error.description
        case .calendar(let error): return error.description
        }
    }
}
