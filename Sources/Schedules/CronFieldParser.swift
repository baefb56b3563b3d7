/// Parses one field of a cron expression into the set of values it matches, following Vixie cron syntax.
struct CronFieldParser {
    let expression: String
    let field: CronField

    /// Parses a comma-separated list of `*`, values, ranges and steps.
    func parse(_ text: Substring) throws(CronParseError) -> CronValueSet {
        var set = CronValueSet()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw .emptyListItem(expression: self.expression, field: self.field, fieldText: String(text))
            }
            set.bits |= try self.parseItem(item).bits
        }
        if self.field == .dayOfWeek, set.contains(7) {
            set.remove(7)
            set.insert(0)
        }
        return set
    }

    /// Parses `*`, `a`, `a-b`, `*/n`, `a-b/n` or `a/n`. As in Vixie cron, `a/n` runs from `a` to the field's maximum.
    private func parseItem(_ item: Substring) throws(CronParseError) -> CronValueSet {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw self.invalidToken(item)
        }
        let step = parts.count == 2 ? try self.parseStep(parts[1], item: item) : nil
        let range = parts[0]

        let low: Int
        let high: Int
        if range == "*" {
            low = self.field.minimum
            high = self.field.maximum
        } else if range.contains("-") {
            let bounds = range.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, !bounds[0].isEmpty, !bounds[1].isEmpty else {
                throw self.invalidToken(item)
            }
            low = try self.parseValue(bounds[0])
            let end = try self.parseValue(bounds[1])
            // Sunday is both 0 and 7, so `FRI-SUN` or `5-0` runs through Sunday instead of being reversed.
            high = self.field == .dayOfWeek && end == 0 ? 7 : end
            guard low <= high else {
                throw .reversedRange(
                    expression: self.expression,
                    field: self.field,
                    token: String(item),
                    start: low,
                    end: high
                )
            }
        } else {
            low = try self.parseValue(range)
            high = step == nil ? low : self.field.maximum
        }

        var set = CronValueSet()
        for value in stride(from: low, through: high, by: step ?? 1) {
            set.insert(value)
        }
        return set
    }

    private func parseStep(_ text: Substring, item: Substring) throws(CronParseError) -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let step = Int(text), step >= 1,
            step <= self.field.maximum
        else {
            throw .invalidStep(expression: self.expression, field: self.field, token: String(item))
        }
        return step
    }

    /// Parses a number or a three-letter name, case-insensitive, and checks it against the field's range.
    private func parseValue(_ text: Substring) throws(CronParseError) -> Int {
        if !text.isEmpty, text.allSatisfy(\.isASCIIDigit) {
            guard let value = Int(text), value >= self.field.minimum, value <= self.field.maximum else {
                throw .valueOutOfRange(expression: self.expression, field: self.field, token: String(text))
            }
            return value
        }
        if let index = self.field.names.firstIndex(of: text.uppercased()) {
            return self.field.minimum + index
        }
        throw self.invalidToken(text)
    }

    private func invalidToken(_ token: Substring) -> CronParseError {
        .invalidToken(expression: self.expression, field: self.field, token: String(token))
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool {
        self >= "0" && self <= "9"
    }
}
