/// A systemd calendar expression that `CalendarSchedule` cannot parse. Each message names the part, the token
/// and how to fix it.
public enum CalendarParseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The expression is empty or only whitespace.
    case emptyExpression
    /// A token that fits no part of `[Weekday] [Year-]Month-Day [Hour:Minute[:Second]] [TimeZone]`.
    case unexpectedToken(expression: String, token: String)
    /// A `@` timestamp, which names one instant and not a repeating schedule.
    case timestampNotSupported(expression: String)
    /// A component value, range or repetition that is invalid, with what is wrong in words.
    case invalidComponent(expression: String, component: CalendarComponent, token: String, problem: String)

    static let shorthands = "minutely, hourly, daily, weekly, monthly, quarterly, semiannually, yearly and annually"

    public var description: String {
        switch self {
        case .emptyExpression:
            return "calendar schedule is empty; write `[Weekday] [Year-]Month-Day Hour:Minute[:Second] [TimeZone]`,"
                + " for example \"Mon..Fri *-*-* 03:00\", or a shorthand such as daily"
        case .unexpectedToken(let expression, let token):
            return "invalid calendar schedule \"\(expression)\": unexpected \"\(token)\"; expected at most a weekday"
                + " list, a date (*-*-*), a time (03:00) and a time zone, in this order, or one of the"
                + " shorthands \(Self.shorthands). For example \"Sat *-*-1..7 03:00 Europe/Berlin\""
        case .timestampNotSupported(let expression):
            return "calendar schedule \"\(expression)\" is not supported: a @ timestamp names a single instant."
                + " Write a date and time such as \"2027-06-01 03:00\" instead"
        case .invalidComponent(let expression, let component, let token, let problem):
            return "invalid \(component.rawValue) \"\(token)\" in calendar schedule \"\(expression)\": \(problem)."
                + " For example \"\(component.example)\""
        }
    }
}
