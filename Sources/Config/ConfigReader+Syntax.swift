extension ConfigReader {
    /// Records a YAML syntax error with libyaml's wording, plus a fix for the common causes.
    func reportSyntaxError(_ error: YAMLSyntaxError, bytes: [UInt8]) {
        var message = "invalid YAML: \(error.problem)"
        if let context = error.context, let position = error.contextPosition {
            message += " (\(context) at line \(position.line), column \(position.column))"
        }
        self.error(error.position, "", message, fix: ConfigReader.syntaxFix(for: error, bytes: bytes))
    }

    private static func syntaxFix(for error: YAMLSyntaxError, bytes: [UInt8]) -> String {
        let line = ConfigReader.line(error.position.line, of: bytes)
        if line.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
            return "indent with spaces, because YAML does not allow tabs in indentation"
        }
        if let context = error.context, let start = error.contextPosition {
            let place = "at line \(start.line), column \(start.column)"
            if context.contains("quoted scalar") {
                return "close the quote that opens \(place)"
            }
            if context.contains("flow sequence") {
                return "close the `[` that opens \(place) with `]`, and separate items with commas"
            }
            if context.contains("flow mapping") {
                return "close the `{` that opens \(place) with `}`, and separate entries with commas"
            }
        }
        if error.problem.contains("mapping values are not allowed") {
            return "put quotes around a value that contains `: `, or indent the key to match its neighbours"
        }
        if error.problem.contains("could not find expected ':'") {
            return "write `key: value` with a space after the colon, or close the quote or bracket opened here"
        }
        if error.problem.contains("second YAML document") {
            return "remove the `---` line and what follows it, or move it to a separate file"
        }
        if error.problem.contains("undefined alias") {
            return "mark the map with `&name` before it is used as `*name`"
        }
        return "check the indentation and quoting at this position"
    }

    /// Returns line `number` (1-based) of `bytes` as text, or an empty string past the end.
    private static func line(_ number: Int, of bytes: [UInt8]) -> String {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard number >= 1, number <= lines.count else { return "" }
        return String(decoding: lines[number - 1], as: UTF8.self)
    }
}
