import Foundation

/// One request that `PaperspaceStandIn` received, as recorded for tests.
public struct PaperspaceStandInRequest: Sendable {
    public var method: String
    /// The decoded path, such as `/machines/psabc123/stop`.
    public var path: String
    /// The query string, still percent-encoded, without the leading `?`.
    public var query: String
    /// The request body. The `Authorization` header is never recorded.
    public var body: Data
    /// The status sent, or nil when the connection was reset instead of answered.
    public var status: Int?
    public var date: Date
}
