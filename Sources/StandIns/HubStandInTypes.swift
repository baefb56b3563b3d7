import Foundation

/// The kind of a Hub repository, as the `type` field and the `repo_type` argument of the Hub API name it.
public enum RepoKind: String, Sendable, CaseIterable {
    case model
    case dataset
    case space

    /// The path segment of the API routes, as in `/api/datasets/{repo_id}`.
    var apiSegment: String { self.rawValue + "s" }

    /// The prefix of web and Git routes: empty for models, `datasets/` and `spaces/` otherwise.
    var webPrefix: String {
        switch self {
        case .model: ""
        case .dataset: "datasets/"
        case .space: "spaces/"
        }
    }

    /// Reads the plural path segment of an API route (`models`, `datasets`, `spaces`).
    init?(apiSegment: String) {
        guard apiSegment.hasSuffix("s"), let kind = RepoKind(rawValue: String(apiSegment.dropLast())) else {
            return nil
        }
        self = kind
    }
}

/// One commit of a `HubStandIn` repository, as tests see it.
public struct HubStandInCommit: Sendable, Equatable {
    /// The 40-hex Git commit id.
    public var id: String
    /// The summary line the client sent.
    public var title: String
    /// The summary followed by the description, separated by a blank line when there is a description.
    public var message: String
    public var date: Date
    /// The paths the commit added, changed or deleted, in the order of its operations.
    public var paths: [String]
}

/// One request a `HubStandIn` received on either of its servers.
public struct HubStandInRequestRecord: Sendable, Equatable {
    public var method: String
    /// The path with percent-encoding removed, without the query string.
    public var path: String
    /// The query string as sent, still percent-encoded.
    public var query: String
    public var status: Int
    /// Whether the request went to the storage server, which contains the LFS objects, rather than the Hub server.
    public var isStorage: Bool
    /// Whether the request carried an `Authorization` header. The token itself is never recorded.
    public var hasAuthorization: Bool
}

/// A failure that `HubStandIn` returns in place of the normal response.
public enum HubStandInFault: Sendable, Equatable {
    /// Fails the next `count` requests whose decoded path contains `pathContains` (an empty string matches every
    /// request) with status `code`, and with `Retry-After: retryAfter` seconds when that is set.
    case status(Int, retryAfter: Int? = nil, count: Int = 1, pathContains: String = "")
    /// Reads the next `count` matching requests whole, then resets the connection without a response.
    case resetConnection(count: Int = 1, pathContains: String = "")
    /// Answers the next `count` matching requests as normal but resets the connection after `afterBodyBytes`
    /// bytes of the response body, as a dropped download would.
    case dropConnection(afterBodyBytes: Int, count: Int = 1, pathContains: String = "")

    var pathContains: String {
        switch self {
        case .status(_, _, _, let path), .resetConnection(_, let path), .dropConnection(_, _, let path): path
        }
    }

    var count: Int {
        switch self {
        case .status(_, _, let count, _), .resetConnection(let count, _), .dropConnection(_, let count, _): count
        }
    }

    /// The same fault with one use fewer.
    var consumed: HubStandInFault {
        switch self {
        case .status(let code, let retryAfter, let count, let path):
            .status(code, retryAfter: retryAfter, count: count - 1, pathContains: path)
        case .resetConnection(let count, let path):
            .resetConnection(count: count - 1, pathContains: path)
        case .dropConnection(let bytes, let count, let path):
            .dropConnection(afterBodyBytes: bytes, count: count - 1, pathContains: path)
        }
    }
}

/// A multipart upload the LFS batch offered: the part size and the ETag of each part received so far.
struct HubStandInMultipartUpload: Sendable {
    let size: Int
    let chunkSize: Int
    var etags: [Int: String] = [:]
    /// The directory that contains one file per received part, named by its number.
    let directory: String

    var partCount: Int { max(1, (self.size + self.chunkSize - 1) / self.chunkSize) }
}
