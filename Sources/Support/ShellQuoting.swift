/// Returns `value` quoted for a POSIX shell so that it is passed as one word, unexpanded.
///
/// The value is wrapped in single quotes and each embedded single quote becomes `'\''`. Nothing inside single
/// quotes is special to bash, so hostile values (`$(...)`, backquotes, newlines, `;`) stay literal.
public func shellQuote(_ value: String) -> String {
    if !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0)) }) {
        return value
    }
    return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
