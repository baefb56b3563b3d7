import Foundation

/// File downloads: `GET` and `HEAD /[datasets/|spaces/]{namespace}/{name}/resolve/{revision}/{path}`.
extension HubStandIn {
    /// Serves a regular file with `ETag` (its Git blob id) and `X-Repo-Commit`. An LFS file gets a 302 to the
    /// storage origin with `X-Linked-Etag` (its SHA-256) and `X-Linked-Size` on the redirect itself, because
    /// `huggingface_hub` reads the metadata from the first response that leaves the Hub's origin.
    func resolve(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        revision: String,
        path: String,
        _ state: HubStandInState
    ) throws -> HTTPResponse {
        let (_, repository) = try self.authorize(target, canWrite: false, request, state)
        let snapshot = repository.history[try Self.snapshotIndex(repository, revision)]
        let commitHeader = ("X-Repo-Commit", snapshot.commit.id)
        guard let blob = snapshot.files[path] else {
            throw Self.reject(
                404,
                code: "EntryNotFound",
                "\(path) does not exist at \(revision)",
                headers: [commitHeader]
            )
        }
        if let sha256 = blob.sha256 {
            let linked: [(name: String, value: String)] = [
                commitHeader,
                ("X-Linked-Etag", "\"\(sha256)\""),
                ("X-Linked-Size", String(blob.size)),
            ]
            // An empty object gains nothing from a redirect, so the Hub serves it directly.
            guard blob.size == 0 else {
                let location = "\(state.storageURL)/objects/\(target.kind.apiSegment)/\(repository.id)/\(sha256)"
                return HTTPResponse(
                    status: 302,
                    headers: linked + [("ETag", "\"\(blob.gitOID)\""), ("Location", location)]
                )
            }
            return Self.content(blob.object, request, etag: sha256, headers: linked)
        }
        return Self.content(blob.object, request, etag: blob.gitOID, headers: [commitHeader])
    }

    /// Returns the content of `object` whole, or the single byte range that a `Range` header requests (206 with
    /// `Content-Range`, or 416 when the range starts past the end), or 304 when `If-None-Match` contains `etag`.
    static func content(
        _ object: HubStandInObject,
        _ request: HTTPRequest,
        etag: String,
        headers: [(name: String, value: String)]
    ) -> HTTPResponse {
        let quoted = "\"\(etag)\""
        var all = headers + [("ETag", quoted), ("Accept-Ranges", "bytes")]
        if !headers.contains(where: { $0.name == "Content-Type" }) {
            all.append(("Content-Type", "application/octet-stream"))
        }
        if let match = request.header("If-None-Match"),
            match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == quoted })
        {
            return HTTPResponse(status: 304, headers: all)
        }
        let size = object.size
        guard let range = request.header("Range") else {
            return Self.body(object, status: 200, headers: all, lower: 0, count: size)
        }
        switch Self.byteRange(range, size: size) {
        case .none:
            return Self.body(object, status: 200, headers: all, lower: 0, count: size)
        case .unsatisfiable:
            return HTTPResponse(status: 416, headers: all + [("Content-Range", "bytes */\(size)")])
        case .bounds(let lower, let upper):
            let headers = all + [("Content-Range", "bytes \(lower)-\(upper)/\(size)")]
            return Self.body(object, status: 206, headers: headers, lower: lower, count: upper - lower + 1)
        }
    }

    /// Returns a response with `count` bytes of `object` from `lower`, sent from its file when it is on disk.
    private static func body(
        _ object: HubStandInObject,
        status: Int,
        headers: [(name: String, value: String)],
        lower: Int,
        count: Int
    ) -> HTTPResponse {
        var response = HTTPResponse(status: status, headers: headers)
        if let file = object.file {
            response.bodyFile = (file, lower, count)
        } else if let data = object.data {
            response.body = data.subdata(in: (data.startIndex + lower)..<(data.startIndex + lower + count))
        }
        return response
    }

    private enum ByteRange {
        /// No range to apply: the header is not a single `bytes=` range, so the whole content is sent.
        case none
        case unsatisfiable
        /// Inclusive offsets.
        case bounds(Int, Int)
    }

    /// Reads `bytes=a-b`, `bytes=a-` or `bytes=-n`. A header with several ranges gets the whole content, which
    /// HTTP allows.
    private static func byteRange(_ header: String, size: Int) -> ByteRange {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("bytes="), !text.contains(",") else { return .none }
        let spec = text.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .none }
        let first = parts[0].trimmingCharacters(in: .whitespaces)
        let last = parts[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { return .none }
            guard size > 0 else { return .unsatisfiable }
            return .bounds(max(0, size - suffix), size - 1)
        }
        guard let lower = Int(first), lower >= 0 else { return .none }
        let upper = last.isEmpty ? size - 1 : (Int(last) ?? -1)
        guard upper >= lower || last.isEmpty else { return .none }
        guard lower < size else { return .unsatisfiable }
        return .bounds(lower, min(upper, size - 1))
    }
}
