import Foundation

/// Lenient accessors for one JSON object as `JSONSerialization` returns it.
///
/// Every accessor returns nil for a missing key, for `null` and for a value of another type, so a field that the
/// API drops, adds or sends as null never fails a whole decode.
struct JSONFields {
    let object: [String: Any]

    init(_ object: [String: Any]) {
        self.object = object
    }

    func string(_ key: String) -> String? {
        self.object[key] as? String
    }

    /// Returns the string when it is present and not empty.
    func nonEmptyString(_ key: String) -> String? {
        guard let value = self.string(key), !value.isEmpty else { return nil }
        return value
    }

    /// Returns a number, also accepted as a numeric string because some documentation examples send `"6"`.
    func double(_ key: String) -> Double? {
        if let number = self.object[key] as? NSNumber {
            return number.doubleValue
        }
        if let text = self.string(key) {
            return Double(text.trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    func int(_ key: String) -> Int? {
        guard let value = self.double(key), value.isFinite, value.rounded() == value else { return nil }
        return Int(exactly: value)
    }

    func int64(_ key: String) -> Int64? {
        guard let value = self.double(key), value.isFinite, value.rounded() == value else { return nil }
        return Int64(exactly: value)
    }

    /// Returns a boolean, also accepted as the strings `"true"` and `"false"`.
    func bool(_ key: String) -> Bool? {
        if let text = self.string(key) {
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: return nil
            }
        }
        return self.object[key] as? Bool
    }

    /// Returns an ISO 8601 date-time, with or without fractional seconds.
    func date(_ key: String) -> Date? {
        guard let text = self.nonEmptyString(key) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) {
            return date
        }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Returns the strings of an array, skipping elements of other types.
    func strings(_ key: String) -> [String] {
        (self.object[key] as? [Any])?.compactMap { $0 as? String } ?? []
    }
}
