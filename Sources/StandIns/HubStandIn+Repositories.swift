import Foundation

/// Account and repository routes: whoami, create, delete, info, refs, commit history and settings.
extension HubStandIn {
    func whoami(_ request: HTTPRequest) throws -> HTTPResponse {
        try self.requireToken(request)
        return .json(
            200,
            [
                "type": "user",
                "id": "0000000000000000000000aa",
                "name": self.user,
                "fullname": self.user,
                "email": "\(self.user)@127.0.0.1",
                "emailVerified": true,
                "isPro": false,
                "canPay": false,
                "avatarUrl": "",
                "periodEnd": NSNull(),
                "orgs": [],
                "auth": ["type": "access_token", "accessToken": ["displayName": "stand-in", "role": "write"]],
            ]
        )
    }

    /// Creates a repository from `{"name", "organization", "type", "visibility" or "private", "sdk"}`.
    /// An existing one gets 409 with its `url`, because `create_repo(exist_ok=True)` reads it from the body.
    func handleCreateRepo(_ request: HTTPRequest, _ state: inout HubStandInState) throws -> HTTPResponse {
        try self.requireToken(request)
        let body = try Self.jsonObject(request)
        let (kind, id) = try self.repositoryName(body)
        let url = "\(state.baseURL)/\(kind.webPrefix)\(id)"
        if let existing = state.repositories[HubStandInRepository.key(kind, id)] {
            let existingURL = "\(state.baseURL)/\(kind.webPrefix)\(existing.id)"
            return .json(409, ["error": "You already created this \(kind.rawValue) repo", "url": existingURL])
        }

        var isPrivate = (body["private"] as? Bool) ?? false
        if let visibility = body["visibility"] {
            guard let text = visibility as? String, ["public", "private", "protected"].contains(text) else {
                throw Self.reject(400, code: nil, "visibility must be public, private or protected")
            }
            isPrivate = text != "public"
        }
        let sdk = body["sdk"] as? String
        if kind == .space && sdk == nil {
            throw Self.reject(400, code: nil, "A Space needs an sdk: gradio, docker or static")
        }
        _ = self.createRepository(&state, kind: kind, id: id, isPrivate: isPrivate, sdk: sdk)
        return .json(200, ["url": url, "name": id, "id": id])
    }

    /// Deletes a repository named by a body of the same shape as create.
    func handleDeleteRepo(_ request: HTTPRequest, _ state: inout HubStandInState) throws -> HTTPResponse {
        try self.requireToken(request)
        let (kind, id) = try self.repositoryName(try Self.jsonObject(request))
        let key = HubStandInRepository.key(kind, id)
        guard state.repositories.removeValue(forKey: key) != nil else {
            throw Self.reject(404, code: "RepoNotFound", "Repository not found: \(kind.rawValue) \(id)")
        }
        return .json(200, [:])
    }

    /// Returns repository info with `sha` and `siblings`; `blobs=true` adds sizes, blob ids and LFS details.
    func repoInfo(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        revision: String,
        _ state: HubStandInState
    ) throws -> HTTPResponse {
        let (_, repository) = try self.authorize(target, canWrite: false, request, state)
        let index = try Self.snapshotIndex(repository, revision)
        let snapshot = repository.history[index]
        let withBlobs = Self.flag(request, "blobs")

        let siblings: [[String: Any]] = snapshot.files.keys.sorted().map { path in
            var sibling: [String: Any] = ["rfilename": path]
            if withBlobs, let blob = snapshot.files[path] {
                sibling["size"] = blob.size
                sibling["blobId"] = blob.gitOID
                if let sha256 = blob.sha256, let pointerSize = blob.pointerSize {
                    sibling["lfs"] = ["sha256": sha256, "size": blob.size, "pointerSize": pointerSize]
                }
            }
            return sibling
        }
        var info: [String: Any] = [
            "_id": String(repository.history[0].commit.id.prefix(24)),
            "id": repository.id,
            "author": repository.namespace,
            "sha": snapshot.commit.id,
            "createdAt": Self.timestamp(repository.createdAt),
            "lastModified": Self.timestamp(snapshot.commit.date),
            "private": repository.isPrivate,
            "gated": false,
            "disabled": false,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": snapshot.files.values.reduce(0) { $0 + $1.size },
        ]
        if repository.kind == .model {
            info["modelId"] = repository.id
        }
        if let sdk = repository.sdk {
            info["sdk"] = sdk
        }
        return .json(200, info)
    }

    /// Lists the commits reachable from `revision`, newest first, in pages linked by `Link: rel="next"`.
    func listCommits(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        revision: String,
        _ state: HubStandInState
    ) throws -> HTTPResponse {
        let (_, repository) = try self.authorize(target, canWrite: false, request, state)
        let index = try Self.snapshotIndex(repository, revision)
        let entries: [[String: Any]] = repository.history[...index].reversed().map { snapshot in
            [
                "id": snapshot.commit.id,
                "title": snapshot.commit.title,
                "message": snapshot.commit.message,
                "authors": [["user": self.user]],
                "date": Self.timestamp(snapshot.commit.date),
            ]
        }
        // NOTE: the Hub's commit page size is not documented; 50 is an assumption.
        return try Self.page(entries, request, pageSize: state.pageSize ?? 50, baseURL: state.baseURL)
    }

    func refs(_ request: HTTPRequest, _ target: HubStandInTarget, _ state: HubStandInState) throws -> HTTPResponse {
        let (_, repository) = try self.authorize(target, canWrite: false, request, state)
        let headID = repository.head?.commit.id ?? ""
        var refs: [String: Any] = [
            "branches": [["name": "main", "ref": "refs/heads/main", "targetCommit": headID]],
            "converts": [],
            "tags": [],
        ]
        if Self.flag(request, "include_prs") {
            refs["pullRequests"] = []
        }
        return .json(200, refs)
    }

    /// Changes visibility from `{"private": Bool}` or `{"visibility": "public"|"private"}`.
    func updateSettings(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        _ state: inout HubStandInState
    ) throws -> HTTPResponse {
        let (key, _) = try self.authorize(target, canWrite: true, request, state)
        let body = try Self.jsonObject(request)
        if let isPrivate = body["private"] as? Bool {
            state.repositories[key]?.isPrivate = isPrivate
        }
        if let visibility = body["visibility"] as? String {
            state.repositories[key]?.isPrivate = visibility != "public"
        }
        return .json(200, [:])
    }

    /// Reads `name`, `organization` and `type` of a create or delete body and checks the name as the Hub does.
    private func repositoryName(_ body: [String: Any]) throws -> (RepoKind, String) {
        guard let name = body["name"] as? String, !name.isEmpty else {
            throw Self.reject(400, code: nil, "name is required")
        }
        var kind = RepoKind.model
        if let type = body["type"] as? String {
            guard let parsed = RepoKind(rawValue: type) else {
                throw Self.reject(400, code: nil, "Invalid repo type \(type): use model, dataset or space")
            }
            kind = parsed
        }
        // Older clients send the whole id in `name`.
        let parts = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let namespace = (body["organization"] as? String) ?? (parts.count == 2 ? parts[0] : self.user)
        let shortName = parts.last ?? name
        guard parts.count <= 2, Self.isValidRepoName(namespace), Self.isValidRepoName(shortName) else {
            throw Self.reject(
                400,
                code: nil,
                "Invalid repo name \(namespace)/\(shortName): use letters, digits, '-', '_' and '.', "
                    + "without '--' or '..', not starting or ending with '-' or '.', at most 96 characters"
            )
        }
        return (kind, namespace + "/" + shortName)
    }

    private static func isValidRepoName(_ name: String) -> Bool {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        let badEnds = name.hasPrefix("-") || name.hasPrefix(".") || name.hasSuffix("-") || name.hasSuffix(".")
        return !name.isEmpty && name.count <= 96 && allowed && !badEnds && !name.contains("--")
            && !name.contains("..")
    }
}
