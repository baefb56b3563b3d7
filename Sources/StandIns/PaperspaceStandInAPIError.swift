import Foundation

/// An error response of the v1 API: an HTTP status with a tRPC error code and a message.
struct PaperspaceAPIError: Error {
    var status: Int
    var code: String
    var message: String

    static func badRequest(_ message: String) -> PaperspaceAPIError {
        PaperspaceAPIError(status: 400, code: "BAD_REQUEST", message: message)
    }

    static func notFound(_ message: String) -> PaperspaceAPIError {
        PaperspaceAPIError(status: 404, code: "NOT_FOUND", message: message)
    }

    static func unauthorized(_ message: String) -> PaperspaceAPIError {
        PaperspaceAPIError(status: 401, code: "UNAUTHORIZED", message: message)
    }

    static func internalError(_ message: String) -> PaperspaceAPIError {
        PaperspaceAPIError(status: 500, code: "INTERNAL_SERVER_ERROR", message: message)
    }

    var response: HTTPResponse {
        .json(self.status, ["code": self.code, "message": self.message])
    }

    /// Returns the tRPC error code that goes with an HTTP status, or nil for statuses tRPC never sends.
    static func trpcCode(forStatus status: Int) -> String? {
        switch status {
        case 400: "BAD_REQUEST"
        case 401: "UNAUTHORIZED"
        case 403: "FORBIDDEN"
        case 404: "NOT_FOUND"
        case 405: "METHOD_NOT_SUPPORTED"
        case 408: "TIMEOUT"
        case 409: "CONFLICT"
        case 412: "PRECONDITION_FAILED"
        case 413: "PAYLOAD_TOO_LARGE"
        case 429: "TOO_MANY_REQUESTS"
        case 499: "CLIENT_CLOSED_REQUEST"
        case 500: "INTERNAL_SERVER_ERROR"
        default: nil
        }
    }
}

/// Formats a date as the API does: ISO 8601 in UTC with milliseconds.
func formatAPIDate(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}

/// The fields of a JSON object request body, read with the strict types of the v1 schema.
///
/// A field that is absent or JSON null reads as nil. A field of the wrong type (a string where a number or a
/// boolean belongs, for example) raises 400 BAD_REQUEST.
struct JSONBodyFields {
    let values: [String: Any]

    /// Parses `request.body`. An empty body reads as `{}`; text that is not JSON raises 400 PARSE_ERROR.
    init(_ request: HTTPRequest) throws {
        if request.body.isEmpty || request.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            self.values = [:]
            return
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: request.body, options: [.fragmentsAllowed])
        } catch {
            throw PaperspaceAPIError(status: 400, code: "PARSE_ERROR", message: "The request body is not valid JSON.")
        }
        guard let object = parsed as? [String: Any] else {
            throw PaperspaceAPIError.badRequest("The request body must be a JSON object.")
        }
        self.values = object
    }

    private func present(_ key: String) -> Any? {
        guard let value = self.values[key], !(value is NSNull) else { return nil }
        return value
    }

    private static func isBoolean(_ value: Any) -> Bool {
        ObjectIdentifier(type(of: value as AnyObject)) == ObjectIdentifier(type(of: NSNumber(value: true)))
    }

    private func invalid(_ key: String, _ expected: String) -> PaperspaceAPIError {
        .badRequest("Invalid input: `\(key)` must be \(expected).")
    }

    func string(_ key: String) throws -> String? {
        guard let value = self.present(key) else { return nil }
        guard let text = value as? String else { throw self.invalid(key, "a string") }
        return text
    }

    /// Returns a required string, raising 400 when it is missing or empty.
    func requiredString(_ key: String) throws -> String {
        guard let text = try self.string(key) else {
            throw PaperspaceAPIError.badRequest("Invalid input: `\(key)` is required.")
        }
        guard !text.isEmpty else { throw self.invalid(key, "a non-empty string") }
        return text
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = self.present(key) else { return nil }
        guard JSONBodyFields.isBoolean(value), let flag = value as? Bool else { throw self.invalid(key, "a boolean") }
        return flag
    }

    func number(_ key: String) throws -> Double? {
        guard let value = self.present(key) else { return nil }
        guard !JSONBodyFields.isBoolean(value), let number = value as? NSNumber else {
            throw self.invalid(key, "a number")
        }
        return number.doubleValue
    }

    func integer(_ key: String) throws -> Int? {
        guard let number = try self.number(key) else { return nil }
        guard number.rounded() == number, abs(number) < 1e15 else { throw self.invalid(key, "an integer") }
        return Int(number)
    }

    func oneOf(_ key: String, _ allowed: [String]) throws -> String? {
        guard let text = try self.string(key) else { return nil }
        guard allowed.contains(text) else {
            throw self.invalid(key, "one of " + allowed.joined(separator: ", ") + ", got \"\(text)\"")
        }
        return text
    }

    func stringArray(_ key: String) throws -> [String]? {
        guard let value = self.present(key) else { return nil }
        guard let array = value as? [Any], let strings = array as? [String], strings.count == array.count else {
            throw self.invalid(key, "an array of strings")
        }
        return strings
    }

    func contains(_ key: String) -> Bool {
        self.present(key) != nil
    }
}
