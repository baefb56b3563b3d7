import Foundation

/// Parses systemd calendar expressions (`OnCalendar=` syntax of systemd 252) into a `WallPattern`.
struct CalendarParser {
    let expression: String

    /// The parts of an expression after parsing.
    struct Result {
        var pattern: WallPattern
        var timeZone: TimeZone?
        var isIntervalLike: Bool
        var hasFractionalSeconds: Bool
    }

    static let shorthands: [String: String] = [
        "minutely": "*-*-* *:*:00",
        "hourly": "*-*-* *:00:00",
        "daily": "*-*-* 00:00:00",
        "weekly": "Mon *-*-* 00:00:00",
        "monthly": "*-*-01 00:00:00",
        "quarterly": "*-01,04,07,10-01 00:00:00",
        "semiannually": "*-01,07-01 00:00:00",
        "yearly": "*-01-01 00:00:00",
        "annually": "*-01-01 00:00:00",
    ]

    static let weekdayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    func parse() throws(CalendarParseError) -> Result {
        var tokens = self.expression.split(whereSeparator: \.isWhitespace).map(String.init)
        guard !tokens.isEmpty else {
            throw .emptyExpression
        }
        if tokens[0].hasPrefix("@") {
            throw .timestampNotSupported(expression: self.expression)
        }

        var timeZone: TimeZone?
        if tokens.count >= 2, let zone = Self.timeZone(named: tokens[tokens.count - 1]) {
            timeZone = zone
            tokens.removeLast()
        }
        if tokens.count == 1, let expansion = Self.shorthands[tokens[0].lowercased()] {
            tokens = expansion.split(separator: " ").map(String.init)
        }

        var weekdays = CronValueSet(values: 0...6)
        if let first = tokens.first, first.first?.isLetter == true {
            weekdays = try self.parseWeekdays(first)
            tokens.removeFirst()
        }

        var dateToken = "*-*-*"
        var timeToken = "00:00:00"
        switch tokens.count {
        case 0:
            break
        case 1 where tokens[0].contains(":"):
            timeToken = tokens[0]
        case 1:
            dateToken = tokens[0]
        case 2:
            dateToken = tokens[0]
            timeToken = tokens[1]
        default:
            throw .unexpectedToken(expression: self.expression, token: tokens[2])
        }
        if dateToken.contains(":") {
            throw .unexpectedToken(expression: self.expression, token: dateToken)
        }
        if tokens.count == 2, !timeToken.contains(":") {
            throw .unexpectedToken(expression: self.expression, token: timeToken)
        }

        var pattern = try self.parseDate(dateToken)
        pattern.weekdays = weekdays
        let time = try self.parseTime(timeToken)
        pattern.hours = time.hours.set
        pattern.minutes = time.minutes.set
        pattern.seconds = time.seconds.set
        return Result(
            pattern: pattern,
            timeZone: timeZone,
            isIntervalLike: time.hours.isWildcard || time.hours.hasRepetition,
            hasFractionalSeconds: time.seconds.hasFraction
        )
    }

    /// Returns the zone for `UTC` or an IANA name that Foundation recognizes, and nil for any other token.
    static func timeZone(named name: String) -> TimeZone? {
        if name == "UTC" {
            return TimeZone(identifier: "UTC")
        }
        guard name.first?.isLetter == true, !name.contains(":") else {
            return nil
        }
        return TimeZone(identifier: name)
    }

    // MARK: Weekdays

    private func parseWeekdays(_ token: String) throws(CalendarParseError) -> CronValueSet {
        var set = CronValueSet()
        for item in token.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds: [Substring]
            if item.contains("..") {
                bounds = item.components(separatedBy: "..").map { Substring($0) }
            } else {
                bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            }
            guard bounds.count == 1 || bounds.count == 2 else {
                throw self.invalid(.weekday, String(item), "expected a weekday or a range such as Mon..Fri")
            }
            let start = try self.weekday(bounds[0], item: item)
            let end = bounds.count == 2 ? try self.weekday(bounds[1], item: item) : start
            // systemd counts weekdays from Monday, so Mon..Sun is a valid range and Sun..Mon is reversed.
            let startFromMonday = (start + 6) % 7
            let endFromMonday = (end + 6) % 7
            guard startFromMonday <= endFromMonday else {
                throw self.invalid(.weekday, String(item), "the range starts after it ends; weeks start on Monday")
            }
            for value in startFromMonday...endFromMonday {
                set.insert((value + 1) % 7)
            }
        }
        return set
    }

    private func weekday(_ text: Substring, item: Substring) throws(CalendarParseError) -> Int {
        let lowered = text.lowercased()
        if lowered.count >= 3,
            let index = Self.weekdayNames.firstIndex(where: { $0 == lowered || $0.prefix(3) == lowered })
        {
            return index
        }
        let problem: String
        if item == text, let shorthand = Self.shorthands.keys.first(where: { $0.hasPrefix(lowered.prefix(3)) }) {
            problem = "expected a weekday such as Mon or Monday, or a shorthand alone such as \(shorthand)"
        } else {
            problem = "expected a weekday such as Mon or Monday (three letters or the full English name)"
        }
        throw self.invalid(.weekday, String(item), problem)
    }

    // MARK: Date

    private func parseDate(_ token: String) throws(CalendarParseError) -> WallPattern {
        var pattern = WallPattern(
            years: nil,
            months: CronValueSet(values: 1...12),
            daysOfMonth: CronValueSet(),
            daysFromEnd: [],
            weekdays: CronValueSet(values: 0...6),
            dayRule: .both,
            hours: CronValueSet(),
            minutes: CronValueSet(),
            seconds: CronValueSet()
        )
        let yearMonth: [Substring]
        let dayText: Substring
        let fromEnd: Bool
        if let tilde = token.firstIndex(of: "~") {
            yearMonth = token[..<tilde].split(separator: "-", omittingEmptySubsequences: false)
            dayText = token[token.index(after: tilde)...]
            fromEnd = true
        } else {
            var parts = token.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count >= 2 else {
                throw .unexpectedToken(expression: self.expression, token: token)
            }
            dayText = parts.removeLast()
            yearMonth = parts
            fromEnd = false
        }
        guard yearMonth.count == 1 || yearMonth.count == 2 else {
            throw .unexpectedToken(expression: self.expression, token: token)
        }
        if yearMonth.count == 2 {
            let years = try self.parseValues(yearMonth[0], .year)
            pattern.years = years.isWildcard ? nil : years.years
        }
        pattern.months = try self.parseValues(yearMonth[yearMonth.count - 1], .month).set
        if fromEnd {
            pattern.daysFromEnd = try self.parseDaysFromEnd(dayText)
        } else {
            pattern.daysOfMonth = try self.parseValues(dayText, .day).set
        }
        return pattern
    }

    /// Parses the day list after `~`, where each value counts back from the last day of the month.
    private func parseDaysFromEnd(_ text: Substring) throws(CalendarParseError) -> [EndOfMonthRange] {
        var ranges: [EndOfMonthRange] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, parts[0] != "*" else {
                throw self.invalid(.day, String(item), "after ~, expected a day count such as ~01, ~03/1 or ~1..7")
            }
            let step = parts.count == 2 ? try self.parseStep(parts[1], .day, item: item) : nil
            let bounds = parts[0].components(separatedBy: "..")
            guard bounds.count <= 2 else {
                throw self.invalid(.day, String(item), "expected a range with one \"..\"")
            }
            let low = try self.parseInteger(Substring(bounds[0]), .day, item: item)
            let high = bounds.count == 2 ? try self.parseInteger(Substring(bounds[1]), .day, item: item) : nil
            if let high, high < low {
                throw self.invalid(.day, String(item), "the range starts after it ends")
            }
            if let high {
                ranges.append(EndOfMonthRange(earliestOffset: high, latestOffset: low, step: step ?? 1))
            } else if let step {
                guard step < low else {
                    throw self.invalid(
                        .day,
                        String(item),
                        "the repetition never repeats, because ~\(low) is only \(low) days from the end."
                            + " Write ~\(low) alone, or a smaller repetition"
                    )
                }
                ranges.append(EndOfMonthRange(earliestOffset: low, latestOffset: 1, step: step))
            } else {
                ranges.append(EndOfMonthRange(earliestOffset: low, latestOffset: low, step: 1))
            }
        }
        return ranges
    }

    // MARK: Time

    private func parseTime(_ token: String) throws(CalendarParseError) -> (
        hours: ValueList, minutes: ValueList, seconds: ValueList
    ) {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else {
            throw .unexpectedToken(expression: self.expression, token: token)
        }
        let hours = try self.parseValues(parts[0], .hour)
        let minutes = try self.parseValues(parts[1], .minute)
        var seconds = ValueList(component: .second)
        seconds.set.insert(0)
        if parts.count == 3 {
            seconds = try self.parseValues(parts[2], .second)
        }
        return (hours, minutes, seconds)
    }

    // MARK: Numeric components

    /// Parses `*`, values, `a..b`, `a/n` and `a..b/n`, comma-separated.
    private func parseValues(_ text: Substring, _ component: CalendarComponent) throws(CalendarParseError)
        -> ValueList
    {
        var list = ValueList(component: component)
        if text == "*" {
            list.isWildcard = true
            list.insert(range: component.minimum...component.maximum, step: 1)
            return list
        }
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw self.invalid(component, String(text), "the list has an empty item")
            }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else {
                throw self.invalid(component, String(item), "expected at most one \"/\"")
            }
            if parts[0] == "*" {
                throw self.invalid(
                    component,
                    String(item),
                    "a repetition needs a start value, as in 0/\(parts.count == 2 ? parts[1] : "15"), not *"
                )
            }
            let step = parts.count == 2 ? try self.parseStep(parts[1], component, item: item) : nil
            if step != nil {
                list.hasRepetition = true
            }
            let bounds = parts[0].components(separatedBy: "..")
            guard bounds.count <= 2 else {
                throw self.invalid(component, String(item), "expected a range with one \"..\"")
            }
            let low = try self.parseInteger(Substring(bounds[0]), component, item: item, list: &list)
            let high: Int
            if bounds.count == 2 {
                high = try self.parseInteger(Substring(bounds[1]), component, item: item, list: &list)
                guard low <= high else {
                    throw self.invalid(
                        component,
                        String(item),
                        "the range starts after it ends, and ranges do not wrap"
                    )
                }
            } else if let step {
                // systemd rejects a repetition that cannot repeat, so nightshift does too.
                guard low + step <= component.maximum else {
                    throw self.invalid(
                        component,
                        String(item),
                        "the repetition never repeats, because \(low) + \(step) is past \(component.maximum)."
                            + " Write \(low) alone, or a smaller repetition"
                    )
                }
                high = component.maximum
            } else {
                high = low
            }
            list.insert(range: low...high, step: step ?? 1)
        }
        return list
    }

    private func parseStep(_ text: Substring, _ component: CalendarComponent, item: Substring)
        throws(CalendarParseError) -> Int
    {
        var digits = text
        if let dot = text.firstIndex(of: "."), component == .second {
            guard text[text.index(after: dot)...].allSatisfy({ $0 == "0" }) else {
                throw self.invalid(
                    component,
                    String(item),
                    "nightshift fires on whole seconds, so a repetition must be a whole number of seconds"
                )
            }
            digits = text[..<dot]
        }
        let limit = component.maximum - component.minimum + 1
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigitCharacter), let step = Int(digits), step >= 1,
            step <= limit
        else {
            throw self.invalid(
                component,
                String(item),
                "the repetition after \"/\" must be a whole number from 1 to \(limit)"
            )
        }
        return step
    }

    private func parseInteger(_ text: Substring, _ component: CalendarComponent, item: Substring)
        throws(CalendarParseError) -> Int
    {
        var list = ValueList(component: component)
        return try self.parseInteger(text, component, item: item, list: &list)
    }

    /// Parses one number. Seconds may have a fraction of up to six digits, which is dropped; years of one or two
    /// digits mean 2000-2069 (0-69) or 1970-1999 (70-99), as in systemd.
    private func parseInteger(
        _ text: Substring,
        _ component: CalendarComponent,
        item: Substring,
        list: inout ValueList
    ) throws(CalendarParseError) -> Int {
        var digits = text
        if component == .second, let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...]
            guard !fraction.isEmpty, fraction.count <= 6, fraction.allSatisfy(\.isASCIIDigitCharacter) else {
                throw self.invalid(component, String(item), "expected seconds with at most six decimal places")
            }
            if fraction.contains(where: { $0 != "0" }) {
                list.hasFraction = true
            }
            digits = text[..<dot]
        }
        guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy(\.isASCIIDigitCharacter), var value = Int(digits)
        else {
            throw self.invalid(
                component,
                String(item),
                "expected a number, a range (a..b) or a repetition (a/n), or * for any value"
            )
        }
        if component == .year, digits.count <= 2 {
            value += value < 70 ? 2000 : 1900
        }
        guard value >= component.minimum, value <= component.maximum else {
            throw self.invalid(
                component,
                String(item),
                "\(value) is out of range; allowed are \(component.minimum)-\(component.maximum)"
            )
        }
        return value
    }

    private func invalid(_ component: CalendarComponent, _ token: String, _ problem: String) -> CalendarParseError {
        .invalidComponent(expression: self.expression, component: component, token: token, problem: problem)
    }
}

/// Values of one numeric component. Years do not fit in a 64-bit set, so they are kept as a sorted array.
struct ValueList {
    let component: CalendarComponent
    var set = CronValueSet()
    var years: [Int] = []
    var isWildcard = false
    var hasRepetition = false
    var hasFraction = false

    mutating func insert(range: ClosedRange<Int>, step: Int) {
        for value in stride(from: range.lowerBound, through: range.upperBound, by: step) {
            if self.component == .year {
                if !self.years.contains(value) {
                    self.years.append(value)
                }
            } else {
                self.set.insert(value)
            }
        }
        self.years.sort()
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool {
        self >= "0" && self <= "9"
    }
}
