import Foundation
import HTTP
import Support

extension HubClient {
    /// Returns the account name the token belongs to, from `GET /api/whoami-v2`.
    public func whoami() throws -> String {
        let operation = "check the Hub token"
        guard self.hasToken else { throw HubError.missingToken(operation: operation) }
        let response = try self.send(operation, method: "GET", url: self.endpoint + "/api/whoami-v2", retry: self.retry)
        guard response.isSuccess else {
            throw self.hubError(operation, response, repo: "", type: .model, revision: "")
        }
        guard let name = (response.json as? [String: Any])?["name"] as? String else {
            throw HubError.invalidResponse(operation: operation, detail: "the body has no \"name\" field")
        }
        return name
    }

    /// Creates `repo` and returns its URL; a repo that already exists (409 with its `url`) is not an error.
    ///
    /// NOTE: 409 without a `url`, which the Hub sends while a concurrent create of the same name runs, is also
    /// taken as "exists" and returns the URL the Hub would use.
    @discardableResult
    public func createRepo(repo: String, type: HubRepoType, isPrivate: Bool = true) throws -> String {
        let operation = "create \(type.webPrefix)\(repo)"
        try self.checkRepoID(repo, operation: operation)
        guard self.hasToken else { throw HubError.missingToken(operation: operation) }
        let parts = repo.split(separator: "/", maxSplits: 1).map(String.init)
        var body: [String: Any] = [
            "name": parts.last ?? repo, "type": type.rawValue, "visibility": isPrivate ? "private" : "public",
        ]
        body["organization"] = parts.count == 2 ? parts[0] : NSNull()
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let response = try self.send(
            operation,
            method: "POST",
            url: self.endpoint + "/api/repos/create",
            headers: [("Content-Type", "application/json")],
            body: data,
            retry: self.retry,
            metadata: ["hub.repo": repo]
        )
        let url = (response.json as? [String: Any])?["url"] as? String
        if response.isSuccess || response.status == 409 {
            if response.status == 409 {
                self.logger.debug("Hub repo already exists", metadata: ["hub.repo": repo])
            } else {
                self.logger.info("Hub repo created", metadata: ["hub.repo": repo, "hub.type": type.rawValue])
            }
            return url ?? "\(self.endpoint)/\(type.webPrefix)\(repo)"
        }
        throw self.hubError(operation, response, repo: repo, type: type, revision: "main")
    }
}
