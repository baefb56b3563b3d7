import HTTP

/// Errors from `HubClient`. Each names the operation and the repo, revision or path involved; none contains the
/// token.
///
/// The Hub states the kind of a 4xx in its `X-Error-Code` header (`RepoNotFound`, `RevisionNotFound`,
/// `EntryNotFound`, `GatedRepo`), and those codes map to their own cases whatever the status.
public enum HubError: Error, CustomStringConvertible, Sendable {
    /// A 401 that is not a missing or gated repo: the token is invalid, expired or absent.
    case unauthorized(operation: String, message: String)
    /// `tokenSent` is false when the client had no token; the Hub then reports private repos as missing too.
    case repoNotFound(operation: String, repo: String, type: HubRepoType, tokenSent: Bool)
    case gatedRepo(operation: String, repo: String, message: String)
    case revisionNotFound(operation: String, repo: String, revision: String)
    case entryNotFound(operation: String, repo: String, revision: String, path: String)
    /// HTTP 412: the branch head is no longer the commit the request was based on.
    case commitConflict(operation: String, repo: String, revision: String, message: String)
    /// Any other error status. `code` is the `X-Error-Code` header when present.
    case http(operation: String, status: Int, code: String?, message: String)
    /// No response arrived, or every retry allowed by the policy failed.
    case transport(operation: String, HTTPClientError)
    /// A success status whose body or headers could not be read as documented.
    case invalidResponse(operation: String, detail: String)
    /// An argument was rejected before anything was sent.
    case invalidArgument(operation: String, detail: String)
    /// A download whose size or SHA-256 differs from what the Hub announced for it.
    case integrity(operation: String, detail: String)
    /// An upload or other write was requested without any token.
    case missingToken(operation: String)
    /// A local file could not be read, written or renamed.
    case localFile(operation: String, path: String, detail: String)
    /// A file changed between hashing and commit, so nothing was committed; a later upload may find it settled.
    case localFileChanged(operation: String, path: String, hashedSize: Int64, currentSize: Int64)
    /// The caller's cancellation signal was raised.
    case cancelled(operation: String)

    public var description: String {
        switch self {
        case .unauthorized(let operation, let message):
            let detail = message.isEmpty ? "" : " (Hub message: \(message))"
            return "\(operation): the Hub rejected the token (invalid, expired or missing); "
                + "check --token / HF_TOKEN or hub.token\(detail)"
        case .repoNotFound(let operation, let repo, let type, let tokenSent):
            let hint =
                tokenSent
                ? "check the repo id and that the token can read the repo"
                : "no token was sent, and the Hub reports private repos as missing without one; "
                    + "pass --token or set HF_TOKEN"
            return "\(operation): \(type.rawValue) repo \(repo) was not found; \(hint)"
        case .gatedRepo(let operation, let repo, let message):
            return "\(operation): \(repo) is gated; accept its access conditions on the Hub with the token's account"
                + (message.isEmpty ? "" : " (Hub message: \(message))")
        case .revisionNotFound(let operation, let repo, let revision):
            return "\(operation): revision \(revision) was not found in \(repo)"
        case .entryNotFound(let operation, let repo, let revision, let path):
            return "\(operation): \(path) was not found in \(repo) at revision \(revision)"
        case .commitConflict(let operation, let repo, let revision, let message):
            return "\(operation): \(repo)@\(revision) moved past the expected parent commit (HTTP 412), so someone "
                + "else committed meanwhile; run the sync again to compare with the new head"
                + (message.isEmpty ? "" : " (Hub message: \(message))")
        case .http(let operation, let status, let code, let message):
            let statusText = code.map { "\(status) \($0)" } ?? "\(status)"
            return "\(operation): the Hub returned \(statusText): \(message.isEmpty ? "(empty body)" : message)"
        case .transport(let operation, let error):
            return "\(operation): the request to the Hub failed: \(error)"
        case .invalidResponse(let operation, let detail):
            return "\(operation): the Hub returned a response that could not be read: \(detail)"
        case .invalidArgument(let operation, let detail):
            return "\(operation): invalid argument, nothing was sent: \(detail)"
        case .integrity(let operation, let detail):
            return "\(operation): the downloaded content does not match the Hub's metadata: \(detail)"
        case .missingToken(let operation):
            return "\(operation): no Hub token: pass --token, set HF_TOKEN, or write the token to $HF_HOME/token"
        case .localFile(let operation, let path, let detail):
            return "\(operation): local file \(path): \(detail)"
        case .localFileChanged(let operation, let path, let hashedSize, let currentSize):
            return "\(operation): local file \(path): changed while it was uploaded (\(hashedSize) bytes when "
                + "hashed, \(currentSize) now), so nothing was committed; run the upload again once it is no "
                + "longer being written"
        case .cancelled(let operation):
            return "\(operation): cancelled"
        }
    }
}
