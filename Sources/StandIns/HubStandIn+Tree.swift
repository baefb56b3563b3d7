import Foundation

/// File listing routes: the paginated tree and paths-info.
extension HubStandIn {
    /// Lists one directory, or with `recursive=true` everything below it, in Git's depth-first tree order.
    func tree(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        revision: String,
        path: String,
        _ state: HubStandInState
    ) throws -> HTTPResponse {
        let (_, repository) = try self.authorize(target, canWrite: false, request, state)
        let index = try Self.snapshotIndex(repository, revision)
        let snapshot = repository.history[index]
        let isRecursive = Self.flag(request, "recursive")
        let isExpanded = Self.flag(request, "expand")
        let directory = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))

        var entries: [[String: Any]] = []
        if snapshot.directories[directory] != nil {
            func collect(_ directory: String) {
                for entry in snapshot.directories[directory] ?? [] {
                    entries.append(Self.treeEntry(entry.path, repository, index, isExpanded: isExpanded) ?? [:])
                    if entry.isDirectory && isRecursive {
                        collect(entry.path)
                    }
                }
            }
            collect(directory)
        } else if let entry = Self.treeEntry(directory, repository, index, isExpanded: isExpanded) {
            // NOTE: the Hub's response to a tree request for a file path is unverified. This lists the file alone.
            entries = [entry]
        } else {
            throw Self.reject(
                404,
                code: "EntryNotFound",
                "\(directory) does not exist on \(revision)",
                headers: [("X-Repo-Commit", snapshot.commit.id)]
            )
        }
        let pageSize = state.pageSize ?? (isExpanded ? 50 : 1000)
        return try Self.page(entries, request, pageSize: pageSize, baseURL: state.baseURL)
    }

    /// Returns the tree entries of the paths named in a form-encoded (`paths=a&paths=b`) or JSON body.
    /// Paths that do not exist are left out, as on the Hub.
    func pathsInfo(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        revision: String,
        _ state: HubStandInState
    ) throws -> HTTPResponse {
        let (_, repository) = try self.authorize(target, canWrite: false, request, state)
        let index = try Self.snapshotIndex(repository, revision)

        var paths: [String] = []
        var isExpanded = false
        if let object = request.jsonBody as? [String: Any] {
            paths = (object["paths"] as? [String]) ?? []
            isExpanded = (object["expand"] as? Bool) ?? false
        } else {
            let fields = decodeFormEncoded(String(decoding: request.body, as: UTF8.self))
            paths = fields.filter { $0.name == "paths" }.map(\.value)
            isExpanded = fields.contains { $0.name == "expand" && ["true", "1"].contains($0.value.lowercased()) }
        }
        guard paths.count <= 1000 else {
            throw Self.reject(413, code: nil, "Request has too many parameters: at most 1000 paths per request")
        }
        let entries = paths.compactMap { path in
            Self.treeEntry(
                path.trimmingCharacters(in: CharacterSet(charactersIn: "/")),
                repository,
                index,
                isExpanded: isExpanded
            )
        }
        return .json(200, entries)
    }

    /// Returns the tree entry of a file or directory in the snapshot at `index`, or nil when neither exists.
    static func treeEntry(
        _ path: String,
        _ repository: HubStandInRepository,
        _ index: Int,
        isExpanded: Bool
    ) -> [String: Any]? {
        let snapshot = repository.history[index]
        var entry: [String: Any]
        let isDirectory: Bool
        if let blob = snapshot.files[path] {
            isDirectory = false
            entry = ["type": "file", "path": path, "size": blob.size, "oid": blob.gitOID]
            if let sha256 = blob.sha256, let pointerSize = blob.pointerSize {
                entry["lfs"] = ["oid": sha256, "size": blob.size, "pointerSize": pointerSize]
            }
        } else if !path.isEmpty, let treeID = snapshot.treeIDs[path] {
            isDirectory = true
            entry = ["type": "directory", "path": path, "oid": treeID, "size": 0]
        } else {
            return nil
        }
        if isExpanded, let commit = repository.lastCommit(touching: path, isDirectory: isDirectory, upTo: index) {
            entry["lastCommit"] = ["id": commit.id, "title": commit.title, "date": Self.timestamp(commit.date)]
        }
        return entry
    }

    /// Returns one page of `entries` starting at the request's `cursor`. When more follow, a `Link` header
    /// carries the absolute URL of the next page, because clients fetch it verbatim.
    static func page(
        _ entries: [[String: Any]],
        _ request: HTTPRequest,
        pageSize: Int,
        baseURL: String
    ) throws -> HTTPResponse {
        let size = max(1, pageSize)
        var offset = 0
        if let cursor = request.queryValue("cursor") {
            guard let decoded = Self.decodeCursor(cursor) else {
                throw Self.reject(400, code: nil, "Invalid cursor \(cursor): use the Link header of the previous page")
            }
            offset = decoded
        }
        let end = min(entries.count, offset + size)
        let pageEntries = offset < end ? Array(entries[offset..<end]) : []
        var headers: [(name: String, value: String)] = []
        if end < entries.count {
            var query = request.rawQuery.split(separator: "&").filter { !$0.hasPrefix("cursor=") }.map(String.init)
            query.append("cursor=" + Self.encodeCursor(end))
            headers.append(("Link", "<\(baseURL)\(request.rawPath)?\(query.joined(separator: "&"))>; rel=\"next\""))
        }
        return .json(200, pageEntries, headers: headers)
    }

    /// Encodes an offset as an opaque, URL-safe cursor, so clients cannot come to rely on its form.
    private static func encodeCursor(_ offset: Int) -> String {
        Data("offset:\(offset)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func decodeCursor(_ cursor: String) -> Int? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 {
            base64 += "="
        }
        guard let data = Data(base64Encoded: base64) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix("offset:"), let offset = Int(text.dropFirst(7)), offset >= 0 else { return nil }
        return offset
    }
}
