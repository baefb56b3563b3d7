import Foundation
import Support

/// The Git LFS batch API with the basic transfer, its verify step, and the storage server behind it.
///
/// Upload and download links point at the storage server, a different origin, as the Hub's point at S3 or a CDN.
/// The storage server takes no credentials: clients send none there, and its URLs are unguessable only in name.
extension HubStandIn {
    func routeLFS(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        _ rest: [String],
        _ state: inout HubStandInState
    ) throws -> HTTPResponse {
        switch (request.method, rest) {
        case ("POST", ["info", "lfs", "objects", "batch"]):
            return try self.lfsBatch(request, target, state)
        case ("POST", ["info", "lfs", "objects", "verify"]):
            return try self.lfsVerify(request, target, state)
        default:
            throw Self.reject(404, code: nil, "No route for \(request.method) \(request.path)")
        }
    }

    /// Returns basic-transfer actions for `{"operation": "upload"|"download", "objects": [{"oid", "size"}]}`.
    /// An upload of an object that the repository already stores gets no `actions`, so the client skips it.
    private func lfsBatch(_ request: HTTPRequest, _ target: HubStandInTarget, _ state: HubStandInState) throws
        -> HTTPResponse
    {
        let body = try Self.jsonObject(request)
        guard let operation = body["operation"] as? String, operation == "upload" || operation == "download" else {
            throw Self.reject(400, code: nil, "operation must be upload or download")
        }
        let (_, repository) = try self.authorize(target, canWrite: operation == "upload", request, state)
        if let transfers = body["transfers"] as? [String], !transfers.contains("basic") {
            throw Self.reject(400, code: nil, "Only the basic transfer is supported; offered: \(transfers)")
        }
        if let algorithm = body["hash_algo"] as? String, algorithm != "sha256" && algorithm != "sha_256" {
            throw Self.reject(400, code: nil, "Unsupported hash_algo \(algorithm): use sha256")
        }
        guard let objects = body["objects"] as? [[String: Any]] else {
            throw Self.reject(400, code: nil, "objects must be an array of {oid, size}")
        }

        let objectPath = "\(target.kind.apiSegment)/\(repository.id)"
        let answers: [[String: Any]] = objects.map { object in
            let oid = (object["oid"] as? String) ?? ""
            let size = (object["size"] as? Int) ?? -1
            var answer: [String: Any] = ["oid": oid, "size": size]
            guard oid.count == 64, oid.allSatisfy(\.isHexDigit), size >= 0 else {
                answer["error"] = ["code": 422, "message": "oid must be 64 hex digits and size a non-negative integer"]
                return answer
            }
            let stored = repository.lfsObjects[oid.lowercased()]
            answer["authenticated"] = true
            if operation == "download" {
                if stored == nil {
                    answer["error"] = ["code": 404, "message": "Object \(oid) does not exist"]
                } else {
                    answer["actions"] = ["download": ["href": "\(state.storageURL)/objects/\(objectPath)/\(oid)"]]
                }
            } else if stored == nil {
                answer["actions"] = [
                    "upload": ["href": "\(state.storageURL)/upload/\(objectPath)/\(oid)?size=\(size)"],
                    "verify": [
                        "href": "\(state.baseURL)/\(target.kind.webPrefix)\(repository.id).git/info/lfs/objects/verify",
                        "header": [:],
                    ],
                ]
            }
            return answer
        }
        var response = HTTPResponse.json(200, ["transfer": "basic", "objects": answers, "hash_algo": "sha256"])
        response.headers = response.headers.map { header in
            header.name == "Content-Type" ? (header.name, "application/vnd.git-lfs+json") : header
        }
        return response
    }

    /// Confirms `{"oid", "size"}` was stored by an upload.
    private func lfsVerify(_ request: HTTPRequest, _ target: HubStandInTarget, _ state: HubStandInState) throws
        -> HTTPResponse
    {
        let (_, repository) = try self.authorize(target, canWrite: true, request, state)
        let body = try Self.jsonObject(request)
        guard let oid = (body["oid"] as? String)?.lowercased(), let size = body["size"] as? Int else {
            throw Self.reject(400, code: nil, "verify needs oid and size")
        }
        guard let data = repository.lfsObjects[oid] else {
            throw Self.reject(404, code: nil, "Object \(oid) was not uploaded")
        }
        guard data.count == size else {
            throw Self.reject(422, code: nil, "Object \(oid) has \(data.count) bytes, not \(size)")
        }
        return .json(200, ["success": true])
    }

    /// Routes the storage server: `PUT /upload/{type}s/{namespace}/{name}/{oid}` stores an object after checking
    /// its SHA-256, and `GET` or `HEAD /objects/{type}s/{namespace}/{name}/{oid}` returns one, with `Range`.
    func routeStorage(_ request: HTTPRequest, _ state: inout HubStandInState) throws -> HTTPResponse {
        let segments = Self.segments(of: request)
        guard segments.count == 5, let kind = RepoKind(apiSegment: segments[1]) else {
            throw Self.reject(404, code: nil, "No storage route for \(request.method) \(request.path)")
        }
        let key = HubStandInRepository.key(kind, segments[2] + "/" + segments[3])
        let oid = segments[4].lowercased()
        guard state.repositories[key] != nil else {
            throw Self.reject(404, code: "RepoNotFound", "Repository \(segments[2])/\(segments[3]) does not exist")
        }

        switch (request.method, segments[0]) {
        case ("PUT", "upload"):
            let body = request.body
            if let expected = request.queryValue("size").flatMap(Int.init), expected != body.count {
                throw Self.reject(400, code: nil, "Received \(body.count) bytes, expected \(expected)")
            }
            let actual = Digest.sha256(body).hexString
            guard actual == oid else {
                throw Self.reject(400, code: nil, "Content has SHA-256 \(actual), not \(oid)")
            }
            state.repositories[key]?.lfsObjects[oid] = body
            return HTTPResponse(status: 200, headers: [("ETag", "\"\(oid)\"")])
        case ("GET", "objects"), ("HEAD", "objects"):
            guard let data = state.repositories[key]?.lfsObjects[oid] else {
                throw Self.reject(404, code: nil, "Object \(oid) does not exist")
            }
            return Self.content(data, request, etag: oid, headers: [("Content-Type", "application/octet-stream")])
        default:
            throw Self.reject(404, code: nil, "No storage route for \(request.method) \(request.path)")
        }
    }
}
