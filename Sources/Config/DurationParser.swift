/// Parses the duration syntax of the config file: `90s`, `30m`, `6h`, `2d`, combinations in
/// descending unit order such as `1h30m` or `1d12h`, or a bare integer of seconds.
public enum DurationParser {
    /// The accepted forms, for error messages.
    public static let syntaxHelp =
        "a number with a unit (`90s`, `30m`, `6h`, `2d`), units combined from largest "
        + "to smallest (`1h30m`), or a whole number of seconds (`600`)"

    private static let unitSeconds: [(unit: Character, seconds: Int)] = [
        ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1),
    ]

    /// Returns the duration in seconds, or nil when `text` is not valid duration syntax or overflows.
    public static func seconds(from text: String) -> Double? {
        guard !text.isEmpty else { return nil }
        if text.allSatisfy(\.isASCIIDigit) {
            return Int(text).map(Double.init)
        }

        var total = 0
        var digits = ""
        // Index into `unitSeconds` of the next unit allowed, so each unit appears at most once and in order.
        var nextUnitIndex = 0
        for character in text {
            if character.isASCIIDigit {
                digits.append(character)
                continue
            }
            guard !digits.isEmpty, let number = Int(digits) else { return nil }
            guard let offset = DurationParser.unitSeconds[nextUnitIndex...].firstIndex(where: { $0.unit == character })
            else {
                return nil
            }
            let (product, productOverflow) = number.multipliedReportingOverflow(
                by: DurationParser.unitSeconds[offset].seconds
            )
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            guard !productOverflow, !sumOverflow else { return nil }
            total = sum
            digits = ""
            nextUnitIndex = offset + 1
        }
        // Trailing digits without a unit, as in `1h30`, are ambiguous.
        guard digits.isEmpty else { return nil }
        return Double(total)
    }

    /// Formats `seconds` in the same syntax, largest units first: 5400 becomes `1h30m`, 0 becomes `0s`.
    public static func format(_ seconds: Double) -> String {
        var remaining = Int(seconds.rounded())
        guard remaining > 0 else { return "0s" }
        var text = ""
        for (unit, size) in DurationParser.unitSeconds where remaining >= size {
            text += "\(remaining / size)\(unit)"
            remaining %= size
        }
        return text
    }
}

extension Character {
    var isASCIIDigit: Bool {
        self >= "0" && self <= "9"
    }
}
