/// A cron expression that `CronSchedule` cannot parse. Each message names the field, the token, what is allowed
/// and how to fix it.
public enum CronParseError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The expression is empty or only whitespace.
    case emptyExpression
    /// The expression does not have exactly five whitespace-separated fields.
    case wrongFieldCount(expression: String, count: Int)
    /// `@reboot`, which a scheduling daemon cannot honour.
    case rebootNotSupported(expression: String)
    /// An `@` word that is not a supported macro, or a macro followed by more text.
    case invalidMacro(expression: String, macro: String)
    /// A list with an empty item, as in `1,,2` or `5,`.
    case emptyListItem(expression: String, field: CronField, fieldText: String)
    /// A token that is neither `*`, a number, a name, a range nor a step.
    case invalidToken(expression: String, field: CronField, token: String)
    /// A number outside the field's range.
    case valueOutOfRange(expression: String, field: CronField, token: String)
    /// A range whose start is after its end, such as `22-2`. Ranges do not wrap.
    case reversedRange(expression: String, field: CronField, token: String, start: Int, end: Int)
    /// A step that is 0, not a number, or larger than the field's maximum.
    case invalidStep(expression: String, field: CronField, token: String)

    static let syntaxSummary = "\"*\", a value, a list (a,b), a range (a-b) or a step (*/n, a-b/n, a/n)"
    static let macroList = "@hourly, @daily, @midnight, @weekly, @monthly, @yearly and @annually"

    public var description: String {
        switch self {
        case .emptyExpression:
            return "cron schedule is empty; write five fields \"minute hour day-of-month month day-of-week\","
                + " for example \"0 3 * * *\" for 03:00 every day, or a macro such as @daily"
        case .wrongFieldCount(let expression, let count):
            let fix: String
            if count > 5 {
                fix = "Seconds and year fields are not supported, so remove the extra fields"
            } else {
                fix = "Add the missing fields, using * for any value"
            }
            return "invalid cron schedule \"\(expression)\": found \(count) fields, but exactly 5 are required"
                + " (minute hour day-of-month month day-of-week). \(fix);"
                + " for example \"0 3 * * *\" runs at 03:00 every day"
        case .rebootNotSupported(let expression):
            return "cron schedule \"\(expression)\" is not supported: nightshift starts jobs at clock times,"
                + " not when the daemon starts. Use a time-based schedule such as @daily or \"0 3 * * *\""
        case .invalidMacro(let expression, let macro):
            return "invalid cron schedule \"\(expression)\": \"\(macro)\" is not a supported macro."
                + " Supported macros are \(Self.macroList), written alone; otherwise write five fields"
        case .emptyListItem(let expression, let field, let fieldText):
            return Self.prefix(expression, field, fieldText)
                + "the list has an empty item. Remove the extra comma, as in \"1,2\""
        case .invalidToken(let expression, let field, let token):
            return Self.prefix(expression, field, token) + Self.tokenProblem(token, field)
        case .valueOutOfRange(let expression, let field, let token):
            return Self.prefix(expression, field, token)
                + "the value is out of range; allowed are \(field.allowedValues)."
                + " Use a value from \(field.minimum) to \(field.maximum)"
        case .reversedRange(let expression, let field, let token, let start, let end):
            return Self.prefix(expression, field, token)
                + "the range starts after it ends, and ranges do not wrap."
                + " Write it as two ranges: \(Self.range(start, field.maximum)),\(Self.range(field.minimum, end))"
        case .invalidStep(let expression, let field, let token):
            return Self.prefix(expression, field, token)
                + "the step after \"/\" must be a whole number from 1 to \(field.maximum),"
                + " for example */15 or 0-30/10"
        }
    }

    private static func range(_ start: Int, _ end: Int) -> String {
        start == end ? "\(start)" : "\(start)-\(end)"
    }

    private static func prefix(_ expression: String, _ field: CronField, _ token: String) -> String {
        "invalid \(field.rawValue) \"\(token)\" in cron schedule \"\(expression)\": "
    }

    /// Explains a token that fits no syntax, with a specific hint for syntax from other cron dialects.
    private static func tokenProblem(_ token: String, _ field: CronField) -> String {
        let allowed = "allowed are \(field.allowedValues), or \(Self.syntaxSummary)."
        let upper = token.uppercased()
        if token == "?" {
            return "\"?\" is not supported; \(allowed) Use * for any value"
        }
        if field == .dayOfMonth || field == .dayOfWeek, Self.usesQuartzExtension(upper) {
            return "the Quartz extensions L, W and # are not supported; \(allowed)"
                + " List the days instead, for example \"\(field.example)\""
        }
        if token.contains("~") {
            return "random values (~) are not supported; \(allowed) Pick a fixed value"
        }
        if !field.names.isEmpty, upper.count > 3, let name = field.names.first(where: { upper.hasPrefix($0) }) {
            return "names are three letters long; \(allowed) Write \(name)"
        }
        if field.names.isEmpty, token.contains(where: { $0.isLetter }) {
            return "names are only allowed in the month and day-of-week fields; \(allowed)"
                + " For example \"\(field.example)\""
        }
        return "\(allowed) For example \"\(field.example)\""
    }

    /// Returns whether the token looks like `L`, `LW`, `L-3`, `15W`, `5L` or `6#3`: digits mixed with L, W or #.
    private static func usesQuartzExtension(_ upperToken: String) -> Bool {
        let markers: Set<Character> = ["L", "W", "#"]
        guard upperToken.contains(where: { markers.contains($0) }) else { return false }
        return upperToken.allSatisfy { markers.contains($0) || $0.isASCII && $0.isNumber || $0 == "-" }
    }
}
