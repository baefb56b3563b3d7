import Foundation

/// A repository named by a request path.
struct HubStandInTarget: Sendable {
    var kind: RepoKind
    var id: String
}

/// A response that ends a request early, thrown by handlers so that checks read as guard statements.
struct HubStandInRejection: Error {
    var response: HTTPResponse
}

/// The authentication of a request: no token, one of the accepted tokens, or any other value.
enum HubStandInCredential {
    case anonymous
    case valid
    case invalid
}

extension HubStandIn {
    func handleHub(_ request: HTTPRequest) -> HTTPResponse {
        if request.method == "POST", request.path.contains(".git/info/lfs/objects/complete/") {
            // Assembling the parts reads the whole object, so it runs outside the state lock.
            let response = self.completeMultipart(request)
            self.state.withLock { $0.requests.append(Self.record(request, response, isStorage: false)) }
            return response
        }
        return self.state.withLock { state in
            let response =
                self.takeFault(for: request, &state)
                ?? self.respond(request) { try self.routeHub(request, &state) }
            state.requests.append(Self.record(request, response, isStorage: false))
            return self.applyDrop(to: response, for: request, &state)
        }
    }

    func handleStorage(_ request: HTTPRequest) -> HTTPResponse {
        // A spooled body is hashed before the lock is taken, so a large upload does not stall other requests.
        let upload = self.prepareStoredBody(request)
        let response = self.state.withLock { state in
            let response =
                self.takeFault(for: request, &state)
                ?? self.respond(request) { try self.routeStorage(request, upload, &state) }
            state.requests.append(Self.record(request, response, isStorage: true))
            return self.applyDrop(to: response, for: request, &state)
        }
        if let upload, FileManager.default.fileExists(atPath: upload.path), !upload.kept.current {
            try? FileManager.default.removeItem(atPath: upload.path)
        }
        return response
    }

    private func respond(_ request: HTTPRequest, _ body: () throws -> HTTPResponse) -> HTTPResponse {
        do {
            return try body()
        } catch let rejection as HubStandInRejection {
            // Rejections are normal traffic (409 on create, 404 probes), so they are logged at debug level only.
            self.logger?.debug(
                "Hub stand-in rejected request",
                metadata: [
                    "http.method": request.method,
                    "http.path": request.path,
                    "http.status": String(rejection.response.status),
                    "error": Self.errorMessage(rejection.response),
                ]
            )
            return rejection.response
        } catch {
            self.logger?.error(
                "Hub stand-in failed to handle request",
                metadata: ["http.method": request.method, "http.path": request.path, "error": "\(error)"]
            )
            return Self.errorResponse(500, code: nil, "Stand-in failed: \(error)")
        }
    }

    private static func errorMessage(_ response: HTTPResponse) -> String {
        response.headers.first { $0.name == "X-Error-Message" }?.value ?? ""
    }

    private func routeHub(_ request: HTTPRequest, _ state: inout HubStandInState) throws -> HTTPResponse {
        let segments = Self.segments(of: request)
        let method = request.method

        // Clients call these two routes without needing a token, so an invalid token is not rejected here.
        if method == "GET" && segments == ["api", "agent-harnesses"] {
            return .json(200, ["standardEnvVars": [], "harnesses": [:]])
        }
        if method == "POST" && segments == ["api", "validate-yaml"] {
            return .json(200, [:])
        }
        if self.credential(of: request) == .invalid {
            throw Self.reject(401, code: nil, "Invalid credentials in Authorization header")
        }

        switch (method, segments) {
        case ("GET", ["api", "whoami-v2"]):
            return try self.whoami(request)
        case ("POST", ["api", "repos", "create"]):
            return try self.handleCreateRepo(request, &state)
        case ("DELETE", ["api", "repos", "delete"]):
            return try self.handleDeleteRepo(request, &state)
        default:
            break
        }

        if segments.count >= 4, segments[0] == "api", let kind = RepoKind(apiSegment: segments[1]) {
            let target = HubStandInTarget(kind: kind, id: segments[2] + "/" + segments[3])
            return try self.routeRepositoryAPI(request, target, Array(segments.dropFirst(4)), &state)
        }
        if let (target, isGit, rest) = Self.webTarget(segments) {
            if isGit {
                return try self.routeLFS(request, target, rest, &state)
            }
            if rest.count >= 2, rest[0] == "resolve", method == "GET" || method == "HEAD" {
                let path = rest.dropFirst(2).joined(separator: "/")
                return try self.resolve(request, target, revision: rest[1], path: path, state)
            }
        }
        throw Self.reject(404, code: nil, "No route for \(method) \(request.path)")
    }

    private func routeRepositoryAPI(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        _ rest: [String],
        _ state: inout HubStandInState
    ) throws -> HTTPResponse {
        switch (request.method, rest.first ?? "") {
        case ("GET", "") where rest.isEmpty:
            return try self.repoInfo(request, target, revision: "main", state)
        case ("GET", "revision") where rest.count == 2:
            return try self.repoInfo(request, target, revision: rest[1], state)
        case ("GET", "tree") where rest.count >= 2:
            let path = rest.dropFirst(2).joined(separator: "/")
            return try self.tree(request, target, revision: rest[1], path: path, state)
        case ("POST", "paths-info") where rest.count == 2:
            return try self.pathsInfo(request, target, revision: rest[1], state)
        case ("POST", "preupload") where rest.count == 2:
            return try self.preupload(request, target, revision: rest[1], state)
        case ("POST", "commit") where rest.count == 2:
            return try self.commit(request, target, revision: rest[1], &state)
        case ("GET", "commits") where rest.count == 2:
            return try self.listCommits(request, target, revision: rest[1], state)
        case ("GET", "refs") where rest.count == 1:
            return try self.refs(request, target, state)
        case ("PUT", "settings") where rest.count == 1:
            return try self.updateSettings(request, target, &state)
        default:
            throw Self.reject(404, code: nil, "No route for \(request.method) \(request.path)")
        }
    }

    /// Splits the raw path at `/` and decodes each segment, so an encoded `%2F` stays inside its segment.
    static func segments(of request: HTTPRequest) -> [String] {
        request.rawPath.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
    }

    /// Reads a web or Git route: `[datasets/|spaces/]namespace/name/...` or `.../namespace/name.git/...`.
    private static func webTarget(_ segments: [String]) -> (HubStandInTarget, isGit: Bool, rest: [String])? {
        var kind = RepoKind.model
        var start = 0
        if segments.count >= 4, let prefixed = ["datasets": RepoKind.dataset, "spaces": .space][segments[0]],
            segments[3] == "resolve" || segments[2].hasSuffix(".git")
        {
            kind = prefixed
            start = 1
        }
        guard segments.count >= start + 3 else { return nil }
        var name = segments[start + 1]
        let isGit = name.hasSuffix(".git")
        if isGit {
            name.removeLast(4)
        }
        let target = HubStandInTarget(kind: kind, id: segments[start] + "/" + name)
        return (target, isGit, Array(segments.dropFirst(start + 2)))
    }

    func credential(of request: HTTPRequest) -> HubStandInCredential {
        guard let header = request.header("Authorization") else { return .anonymous }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .invalid }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return self.tokens.contains(token) ? .valid : .invalid
    }

    /// Returns the repository `target` and its key after checking that the request may read or write it.
    ///
    /// As on the Hub, an anonymous request for a private or missing repository gets 401 and an authenticated
    /// request for a missing one gets 404, both with `X-Error-Code: RepoNotFound`. Every valid token may read and
    /// write every repository.
    func authorize(
        _ target: HubStandInTarget,
        canWrite: Bool,
        _ request: HTTPRequest,
        _ state: HubStandInState
    ) throws -> (key: String, repository: HubStandInRepository) {
        let credential = self.credential(of: request)
        let key = HubStandInRepository.key(target.kind, target.id)
        guard let repository = state.repositories[key], !repository.isPrivate || credential == .valid else {
            let status = credential == .valid ? 404 : 401
            let message = "Repository not found: \(target.kind.rawValue) \(target.id)"
            throw Self.reject(status, code: "RepoNotFound", message)
        }
        if canWrite && credential != .valid {
            throw Self.reject(401, code: nil, "Authentication required: send a token in the Authorization header")
        }
        return (key, repository)
    }

    func requireToken(_ request: HTTPRequest) throws {
        guard self.credential(of: request) == .valid else {
            throw Self.reject(401, code: nil, "Authentication required: send a token in the Authorization header")
        }
    }

    /// Returns the snapshot that `revision` names, or throws 404 `RevisionNotFound`.
    static func snapshotIndex(_ repository: HubStandInRepository, _ revision: String) throws -> Int {
        guard let index = repository.snapshotIndex(for: revision) else {
            throw Self.reject(404, code: "RevisionNotFound", "Invalid rev id: \(revision)")
        }
        return index
    }

    /// Returns an error response in the Hub's shape: JSON `{"error": message}` plus `X-Error-Message` and, when
    /// given, `X-Error-Code`, which the Python client maps to its exception types.
    static func errorResponse(
        _ status: Int,
        code: String?,
        _ message: String,
        headers: [(name: String, value: String)] = []
    ) -> HTTPResponse {
        // Header values must stay on one line of printable ASCII, and messages can quote request paths.
        let headerSafe = String(message.unicodeScalars.map { (0x20...0x7E).contains($0.value) ? Character($0) : "?" })
        var all: [(name: String, value: String)] = [("X-Error-Message", headerSafe)]
        if let code {
            all.append(("X-Error-Code", code))
        }
        return .json(status, ["error": message], headers: all + headers)
    }

    static func reject(
        _ status: Int,
        code: String?,
        _ message: String,
        headers: [(name: String, value: String)] = []
    ) -> HubStandInRejection {
        HubStandInRejection(response: self.errorResponse(status, code: code, message, headers: headers))
    }

    /// Returns the JSON object of the request body, or throws 400.
    static func jsonObject(_ request: HTTPRequest) throws -> [String: Any] {
        guard let object = request.jsonBody as? [String: Any] else {
            throw Self.reject(400, code: nil, "The request body must be a JSON object")
        }
        return object
    }

    private func takeFault(for request: HTTPRequest, _ state: inout HubStandInState) -> HTTPResponse? {
        let path = request.path
        for index in state.faults.indices {
            let fault = state.faults[index]
            guard fault.count > 0, fault.pathContains.isEmpty || path.contains(fault.pathContains) else { continue }
            switch fault {
            case .status(let code, let retryAfter, _, _):
                state.faults[index] = fault.consumed
                let headers: [(name: String, value: String)] = retryAfter.map { [("Retry-After", String($0))] } ?? []
                return Self.errorResponse(code, code: nil, "Injected fault: HTTP \(code)", headers: headers)
            case .resetConnection:
                state.faults[index] = fault.consumed
                return .resetConnection
            case .dropConnection:
                continue
            }
        }
        return nil
    }

    /// Marks `response` to be cut short when a `dropConnection` fault matches a successful response with a body.
    private func applyDrop(to response: HTTPResponse, for request: HTTPRequest, _ state: inout HubStandInState)
        -> HTTPResponse
    {
        guard (200..<300).contains(response.status), request.method != "HEAD" else { return response }
        for index in state.faults.indices {
            let fault = state.faults[index]
            guard case .dropConnection(let bytes, let count, let pathContains) = fault, count > 0,
                pathContains.isEmpty || request.path.contains(pathContains)
            else { continue }
            state.faults[index] = fault.consumed
            var dropped = response
            dropped.dropAfterBodyBytes = bytes
            return dropped
        }
        return response
    }

    static func record(
        _ request: HTTPRequest,
        _ response: HTTPResponse,
        isStorage: Bool
    ) -> HubStandInRequestRecord {
        HubStandInRequestRecord(
            method: request.method,
            path: request.path,
            query: request.rawQuery,
            status: response.status,
            isStorage: isStorage,
            hasAuthorization: request.header("Authorization") != nil
        )
    }

    /// Formats a date as the Hub does, ISO 8601 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Reads a query flag the way clients send booleans: `true`, `True` or `1`.
    static func flag(_ request: HTTPRequest, _ name: String) -> Bool {
        guard let value = request.queryValue(name)?.lowercased() else { return false }
        return value == "true" || value == "1"
    }
}
