/// Expansion of `${NAME}` and `${NAME:-default}` references against the daemon's environment.
///
/// Ordinary values are expanded only when the reference is the whole value, so a training command such as
/// `python train.py --seed ${SEED}` reaches the machine's shell unchanged. Paths of `_file` keys are expanded
/// everywhere, for `${CREDENTIALS_DIRECTORY}/hub-token`. `$${` stands for a literal `${` in both cases.
enum VariableExpansion {
    struct Expanded {
        var value: String
        /// The variables read, in order. Empty when the text contains no reference.
        var variables: [String]
        /// True when at least one reference fell back to its `:-` default, which is written in the file.
        var usedDefault: Bool
    }

    enum Failure: Error {
        /// The variable is not set and the reference gives no default.
        case unset(String)
        /// `${...}` does not contain a valid variable name, or the closing brace is missing. Carries the text
        /// between `${` and `:-` or `}`, so that a default, which may be a secret, is not part of it.
        case invalidReference(String)
    }

    /// Expands `text` when all of it is one reference, and otherwise returns it unchanged.
    static func expandWholeValue(_ text: String, environment: [String: String]) -> Result<Expanded, Failure> {
        if text.hasPrefix("$${") {
            return .success(Expanded(value: String(text.dropFirst()), variables: [], usedDefault: false))
        }
        guard text.hasPrefix("${"), text.hasSuffix("}"), text.count >= 3 else {
            return .success(Expanded(value: text, variables: [], usedDefault: false))
        }
        let inner = String(text.dropFirst(2).dropLast())
        // `${A}-${B}` is not one reference, so it stays literal like any other partial reference.
        guard !inner.contains("${") else {
            return .success(Expanded(value: text, variables: [], usedDefault: false))
        }
        return VariableExpansion.resolve(reference: inner, environment: environment)
    }

    /// Expands every reference inside `text`.
    static func expandAll(_ text: String, environment: [String: String]) -> Result<Expanded, Failure> {
        var output = ""
        var variables: [String] = []
        var usedDefault = false
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let afterDollar = rest[rest.index(after: dollar)...]
            if afterDollar.hasPrefix("${") {
                output += "${"
                rest = afterDollar.dropFirst(2)
                continue
            }
            guard afterDollar.hasPrefix("{") else {
                output += "$"
                rest = afterDollar
                continue
            }
            guard let close = afterDollar.firstIndex(of: "}") else {
                return .failure(.invalidReference(String(afterDollar.dropFirst())))
            }
            let inner = String(afterDollar[afterDollar.index(after: afterDollar.startIndex)..<close])
            switch VariableExpansion.resolve(reference: inner, environment: environment) {
            case .failure(let failure):
                return .failure(failure)
            case .success(let expanded):
                output += expanded.value
                variables += expanded.variables
                usedDefault = usedDefault || expanded.usedDefault
            }
            rest = afterDollar[afterDollar.index(after: close)...]
        }
        output += rest
        return .success(Expanded(value: output, variables: variables, usedDefault: usedDefault))
    }

    /// True when `name` is a portable environment variable name: a letter or `_`, then letters, digits or `_`.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first == "_" || first.properties.isAlphabetic
        else {
            return false
        }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar == "_" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
        }
    }

    /// Resolves the text between `${` and `}`: `NAME` or `NAME:-default`.
    private static func resolve(reference: String, environment: [String: String]) -> Result<Expanded, Failure> {
        let name: String
        let fallback: String?
        if let separator = reference.range(of: ":-") {
            name = String(reference[..<separator.lowerBound])
            fallback = String(reference[separator.upperBound...])
        } else {
            name = reference
            fallback = nil
        }
        guard VariableExpansion.isValidName(name) else {
            return .failure(.invalidReference(name))
        }
        // As in the shell, `:-` also replaces a variable that is set but empty.
        if let value = environment[name], fallback == nil || !value.isEmpty {
            return .success(Expanded(value: value, variables: [name], usedDefault: false))
        }
        if let fallback {
            return .success(Expanded(value: fallback, variables: [name], usedDefault: true))
        }
        return .failure(.unset(name))
    }
}
