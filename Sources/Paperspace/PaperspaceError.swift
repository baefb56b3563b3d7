import HTTP

/// Errors from `PaperspaceClient`. Each names the operation and the ids involved; none contains the API key.
public enum PaperspaceError: Error, CustomStringConvertible, Sendable {
    /// Paperspace returned an error status. `code` is the API's error code, such as `BAD_REQUEST`, or nil when the
    /// body was not the documented `{code, message}` JSON; `message` is then the start of the body.
    case api(operation: String, status: Int, code: String?, message: String)
    /// No response arrived, or every retry allowed by the policy failed.
    case transport(operation: String, HTTPClientError)
    /// A success status whose body could not be read as the documented JSON.
    case invalidResponse(operation: String, detail: String)
    /// The machine or startup script with `id` does not exist.
    case notFound(operation: String, id: String)
    /// The request was rejected before anything was sent.
    case invalidRequest(operation: String, detail: String)

    public var description: String {
        switch self {
        case .api(let operation, let status, let code, let message):
            let statusText = code.map { "\(status) \($0)" } ?? "\(status)"
            let shownMessage = message.isEmpty ? "(empty body)" : message
            let hint = PaperspaceError.hint(forStatus: status)
            return "\(operation): Paperspace returned \(statusText): \(shownMessage)\(hint)"
        case .transport(let operation, let error):
            return "\(operation): the request to Paperspace failed: \(error)"
        case .invalidResponse(let operation, let detail):
            return "\(operation): Paperspace returned a response that could not be read: \(detail)"
        case .notFound(let operation, let id):
            return "\(operation): Paperspace has no machine or startup script with id \(id); it may have been deleted"
        case .invalidRequest(let operation, let detail):
            return "\(operation): invalid request, not sent: \(detail)"
        }
    }

    /// The HTTP status of an `api` error, else nil.
    public var status: Int? {
        if case .api(_, let status, _, _) = self { return status }
        return nil
    }

    /// The API error code of an `api` error, else nil.
    public var code: String? {
        if case .api(_, _, let code, _) = self { return code }
        return nil
    }

    /// Returns a next step for the statuses that have an obvious one, else an empty string.
    private static func hint(forStatus status: Int) -> String {
        switch status {
        case 401: " (check that paperspace.api_key is a valid API key of the team)"
        case 403: " (the API key's team may lack access to this resource or machine type)"
        case 429: " (Paperspace is rate limiting this API key; try again later)"
        default: ""
        }
    }
}
