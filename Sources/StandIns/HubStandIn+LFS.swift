import Foundation
import Support

/// A storage PUT body spooled to disk, hashed before the state lock is taken. `kept` is set when the object was
/// stored, so the caller knows not to delete the file.
struct HubStandInStoredBody: Sendable {
    let path: String
    let size: Int
    /// The SHA-256 of the body; nil for multipart parts, which are checked as a whole at completion.
    let sha256: String?
    let kept = Protected(false)
}

/// The Git LFS batch API with the basic and multipart transfers, its verify step, and the storage server behind it.
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
            return try self.lfsBatch(request, target, &state)
        case ("POST", ["info", "lfs", "objects", "verify"]):
            return try self.lfsVerify(request, target, state)
        default:
            throw Self.reject(404, code: nil, "No route for \(request.method) \(request.path)")
        }
    }

    /// Returns transfer actions for `{"operation": "upload"|"download", "objects": [{"oid", "size"}]}`.
    ///
    /// An upload of an object that the repository already stores gets no `actions`, so the client skips it. An
    /// upload above `multipartThreshold` from a client that lists `multipart` gets the Hub's multipart form:
    /// `header.chunk_size` plus one zero-padded key per part whose value is the part's PUT URL, and an `href`
    /// that takes the completion POST.
    private func lfsBatch(_ request: HTTPRequest, _ target: HubStandInTarget, _ state: inout HubStandInState)
        throws -> HTTPResponse
    {
        let body = try Self.jsonObject(request)
        guard let operation = body["operation"] as? String, operation == "upload" || operation == "download" else {
            throw Self.reject(400, code: nil, "operation must be upload or download")
        }
        let (key, repository) = try self.authorize(target, canWrite: operation == "upload", request, state)
        let transfers = (body["transfers"] as? [String]) ?? ["basic"]
        if !transfers.contains("basic") {
            throw Self.reject(
                400,
                code: nil,
                "Only the basic and multipart transfers are supported; offered: \(transfers)"
            )
        }
        if let algorithm = body["hash_algo"] as? String, algorithm != "sha256" && algorithm != "sha_256" {
            throw Self.reject(400, code: nil, "Unsupported hash_algo \(algorithm): use sha256")
        }
        guard let objects = body["objects"] as? [[String: Any]] else {
            throw Self.reject(400, code: nil, "objects must be an array of {oid, size}")
        }

        let objectPath = "\(target.kind.apiSegment)/\(repository.id)"
        let gitBase = "\(state.baseURL)/\(target.kind.webPrefix)\(repository.id).git/info/lfs/objects"
        var answers: [[String: Any]] = []
        for object in objects {
            let oid = ((object["oid"] as? String) ?? "").lowercased()
            let size = (object["size"] as? Int) ?? -1
            var answer: [String: Any] = ["oid": oid, "size": size]
            guard oid.count == 64, oid.allSatisfy(\.isHexDigit), size >= 0 else {
                answer["error"] = ["code": 422, "message": "oid must be 64 hex digits and size a non-negative integer"]
                answers.append(answer)
                continue
            }
            let stored = repository.lfsObjects[oid]
            answer["authenticated"] = true
            let verify: [String: Any] = ["href": "\(gitBase)/verify", "header": [String: String]()]
            if operation == "download" {
                if stored == nil {
                    answer["error"] = ["code": 404, "message": "Object \(oid) does not exist"]
                } else {
                    answer["actions"] = ["download": ["href": "\(state.storageURL)/objects/\(objectPath)/\(oid)"]]
                }
            } else if stored == nil {
                if let threshold = state.multipartThreshold, size > threshold, transfers.contains("multipart"),
                    let directory = state.storageDirectory
                {
                    let upload = HubStandInMultipartUpload(
                        size: size,
                        chunkSize: state.multipartChunkSize,
                        directory: directory + "/parts-\(UUID().uuidString)"
                    )
                    try? FileManager.default.createDirectory(
                        atPath: upload.directory,
                        withIntermediateDirectories: true
                    )
                    state.multipartUploads[key + "/" + oid] = upload
                    var header = ["chunk_size": String(upload.chunkSize)]
                    for part in 1...upload.partCount {
                        header[String(format: "%05d", part)] =
                            "\(state.storageURL)/multipart/\(objectPath)/\(oid)/\(part)"
                    }
                    answer["actions"] = [
                        "upload": ["href": "\(gitBase)/complete/\(oid)", "header": header],
                        "verify": verify,
                    ]
                } else {
                    answer["actions"] = [
                        "upload": ["href": "\(state.storageURL)/upload/\(objectPath)/\(oid)?size=\(size)"],
                        "verify": verify,
                    ]
                }
            }
            answers.append(answer)
        }
        let usesMultipart = answers.contains { answer in
            let actions = answer["actions"] as? [String: Any]
            let upload = actions?["upload"] as? [String: Any]
            return (upload?["header"] as? [String: String])?["chunk_size"] != nil
        }
        let transfer = usesMultipart ? "multipart" : "basic"
        var response = HTTPResponse.json(200, ["transfer": transfer, "objects": answers, "hash_algo": "sha256"])
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
        guard let object = repository.lfsObjects[oid] else {
            throw Self.reject(404, code: nil, "Object \(oid) was not uploaded")
        }
        guard object.size == size else {
            throw Self.reject(422, code: nil, "Object \(oid) has \(object.size) bytes, not \(size)")
        }
        return .json(200, ["success": true])
    }

    /// Moves a spooled storage PUT body to a stable path and hashes it, before the state lock is taken.
    func prepareStoredBody(_ request: HTTPRequest) -> HubStandInStoredBody? {
        guard request.method == "PUT", let spooled = request.bodyFile,
            let directory = self.state.current.storageDirectory
        else { return nil }
        let path = directory + "/object-\(UUID().uuidString)"
        guard rename(spooled, path) == 0 else { return nil }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let isPart = request.path.hasPrefix("/multipart/")
        return HubStandInStoredBody(path: path, size: size, sha256: isPart ? nil : Self.sha256(ofFile: path))
    }

    /// Returns the SHA-256 of a file, read in 1 MiB chunks, or nil when it cannot be read.
    static func sha256(ofFile path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256Hasher()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return hasher.finalize().hexString
    }

    /// Routes the storage server: `PUT /upload/{type}s/{namespace}/{name}/{oid}` stores an object after checking
    /// its SHA-256, `PUT /multipart/{type}s/{namespace}/{name}/{oid}/{part}` stores one part and returns its
    /// `ETag`, and `GET` or `HEAD /objects/{type}s/{namespace}/{name}/{oid}` returns an object, with `Range`.
    func routeStorage(_ request: HTTPRequest, _ upload: HubStandInStoredBody?, _ state: inout HubStandInState)
        throws -> HTTPResponse
    {
        let segments = Self.segments(of: request)
        guard segments.count == 5 || segments.count == 6, let kind = RepoKind(apiSegment: segments[1]) else {
            throw Self.reject(404, code: nil, "No storage route for \(request.method) \(request.path)")
        }
        let key = HubStandInRepository.key(kind, segments[2] + "/" + segments[3])
        let oid = segments[4].lowercased()
        guard state.repositories[key] != nil else {
            throw Self.reject(404, code: "RepoNotFound", "Repository \(segments[2])/\(segments[3]) does not exist")
        }

        switch (request.method, segments[0], segments.count) {
        case ("PUT", "upload", 5):
            let size = upload?.size ?? request.body.count
            if let expected = request.queryValue("size").flatMap(Int.init), expected != size {
                throw Self.reject(400, code: nil, "Received \(size) bytes, expected \(expected)")
            }
            let actual = upload.map { $0.sha256 ?? "" } ?? Digest.sha256(request.body).hexString
            guard actual == oid else {
                throw Self.reject(400, code: nil, "Content has SHA-256 \(actual), not \(oid)")
            }
            if let upload {
                upload.kept.withLock { $0 = true }
                state.repositories[key]?.lfsObjects[oid] = HubStandInObject(file: upload.path, size: upload.size)
            } else {
                state.repositories[key]?.lfsObjects[oid] = HubStandInObject(data: request.body)
            }
            return HTTPResponse(status: 200, headers: [("ETag", "\"\(oid)\"")])
        case ("PUT", "multipart", 6):
            return try self.storePart(request, upload, key: key, oid: oid, part: segments[5], &state)
        case ("GET", "objects", 5), ("HEAD", "objects", 5):
            guard let object = state.repositories[key]?.lfsObjects[oid] else {
                throw Self.reject(404, code: nil, "Object \(oid) does not exist")
            }
            return Self.content(object, request, etag: oid, headers: [("Content-Type", "application/octet-stream")])
        default:
            throw Self.reject(404, code: nil, "No storage route for \(request.method) \(request.path)")
        }
    }

    private func storePart(
        _ request: HTTPRequest,
        _ upload: HubStandInStoredBody?,
        key: String,
        oid: String,
        part partText: String,
        _ state: inout HubStandInState
    ) throws -> HTTPResponse {
        guard var pending = state.multipartUploads[key + "/" + oid] else {
            throw Self.reject(404, code: nil, "No multipart upload of \(oid) is in progress: ask the LFS batch API")
        }
        guard let part = Int(partText), (1...pending.partCount).contains(part) else {
            throw Self.reject(400, code: nil, "Part \(partText) is outside 1...\(pending.partCount)")
        }
        let expected = min(pending.chunkSize, pending.size - (part - 1) * pending.chunkSize)
        let size = upload?.size ?? request.body.count
        guard size == expected else {
            throw Self.reject(400, code: nil, "Part \(part) has \(size) bytes, expected \(expected)")
        }
        let path = pending.directory + "/\(part)"
        if let upload {
            guard rename(upload.path, path) == 0 else {
                throw Self.reject(500, code: nil, "Could not store part \(part)")
            }
            upload.kept.withLock { $0 = true }
        } else {
            guard FileManager.default.createFile(atPath: path, contents: request.body) else {
                throw Self.reject(500, code: nil, "Could not store part \(part)")
            }
        }
        let etag = "\"\(UUID().uuidString.lowercased())\""
        pending.etags[part] = etag
        state.multipartUploads[key + "/" + oid] = pending
        return HTTPResponse(status: 200, headers: [("ETag", etag)])
    }

    /// Completes a multipart upload from `{"oid", "parts": [{"partNumber", "etag"}]}`: checks that every part
    /// arrived with the ETag its PUT returned, joins the parts and checks the SHA-256 of the result.
    func completeMultipart(_ request: HTTPRequest) -> HTTPResponse {
        let segments = Self.segments(of: request)
        guard let gitIndex = segments.firstIndex(where: { $0.hasSuffix(".git") }), gitIndex >= 1,
            let oid = segments.last?.lowercased()
        else {
            return Self.errorResponse(404, code: nil, "No route for POST \(request.path)")
        }
        let kind: RepoKind = gitIndex == 2 ? (segments[0] == "spaces" ? .space : .dataset) : .model
        let id = segments[gitIndex - 1] + "/" + segments[gitIndex].dropLast(4)
        let key = HubStandInRepository.key(kind, id)
        let body = request.jsonBody as? [String: Any]
        let parts = (body?["parts"] as? [[String: Any]]) ?? []
        guard (body?["oid"] as? String)?.lowercased() == oid else {
            return Self.errorResponse(400, code: nil, "The completion body must name oid \(oid)")
        }
        guard let pending = self.state.withLock({ $0.multipartUploads[key + "/" + oid] }) else {
            return Self.errorResponse(404, code: nil, "No multipart upload of \(oid) is in progress")
        }
        var sent: [Int: String] = [:]
        for part in parts {
            if let number = part["partNumber"] as? Int, let etag = part["etag"] as? String {
                sent[number] = etag
            }
        }
        guard sent.count == pending.partCount, pending.etags == sent else {
            return Self.errorResponse(
                400,
                code: nil,
                "The completion lists \(sent.count) parts of \(pending.partCount), or ETags that differ from the PUTs"
            )
        }
        let joined = pending.directory + ".joined"
        guard FileManager.default.createFile(atPath: joined, contents: nil),
            let output = FileHandle(forWritingAtPath: joined)
        else {
            return Self.errorResponse(500, code: nil, "Could not create the object file")
        }
        var hasher = SHA256Hasher()
        for number in 1...pending.partCount {
            guard let input = FileHandle(forReadingAtPath: pending.directory + "/\(number)") else { break }
            while let chunk = try? input.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(chunk)
                output.write(chunk)
            }
            try? input.close()
        }
        try? output.close()
        try? FileManager.default.removeItem(atPath: pending.directory)
        let actual = hasher.finalize().hexString
        guard actual == oid else {
            try? FileManager.default.removeItem(atPath: joined)
            return Self.errorResponse(400, code: nil, "The joined parts have SHA-256 \(actual), not \(oid)")
        }
        self.state.withLock { state in
            state.multipartUploads[key + "/" + oid] = nil
            state.repositories[key]?.lfsObjects[oid] = HubStandInObject(file: joined, size: pending.size)
        }
        return .json(200, ["success": true])
    }
}
