import Foundation

/// One operation of an NDJSON commit.
enum HubStandInCommitOperation {
    case file(path: String, content: Data)
    /// An LFS object added under `path`; `size` is absent when a client copies an existing LFS file.
    case lfsFile(path: String, oid: String, size: Int?)
    case deletedFile(path: String)
    /// A folder to delete, without its trailing slash.
    case deletedFolder(path: String)
}

/// The header and operations of an NDJSON commit body.
struct HubStandInCommitRequest {
    var summary: String
    var description: String
    var parentCommit: String?
    var operations: [HubStandInCommitOperation]
}

/// Reads the body of `POST /api/{type}s/{id}/commit/{rev}`: one JSON object per line, each
/// `{"key": "header" | "file" | "lfsFile" | "deletedFile" | "deletedFolder", "value": {...}}`.
///
/// Any invalid line rejects the whole body, so a commit is applied completely or not at all.
enum HubStandInCommitParser {
    static func parse(_ body: Data) throws -> HubStandInCommitRequest {
        var header: (summary: String, description: String, parent: String?)?
        var operations: [HubStandInCommitOperation] = []
        let lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        for (offset, rawLine) in lines.enumerated() {
            let number = offset + 1
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == UInt8(ascii: " ") }) { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let key = object["key"] as? String, let value = object["value"] as? [String: Any]
            else {
                throw Self.invalid(number, "is not a JSON object with a string key and an object value")
            }
            switch key {
            case "header":
                guard header == nil else { throw Self.invalid(number, "is a second header") }
                header = try self.header(value, number)
            case "file":
                operations.append(try self.file(value, number))
            case "lfsFile":
                operations.append(try self.lfsFile(value, number))
            case "deletedFile":
                operations.append(.deletedFile(path: try self.path(value, number)))
            case "deletedFolder":
                var path = try self.path(value, number, allowTrailingSlash: true)
                while path.hasSuffix("/") {
                    path.removeLast()
                }
                operations.append(.deletedFolder(path: path))
            default:
                let keys = "header, file, lfsFile, deletedFile or deletedFolder"
                throw Self.invalid(number, "has unknown key \(key): use \(keys)")
            }
        }
        guard let header else {
            throw HubStandIn.reject(400, code: nil, "Add a line with the key header and a summary")
        }
        guard !operations.isEmpty else {
            throw HubStandIn.reject(400, code: nil, "Add a line with the key lfsFile, file or deletedFile")
        }
        return HubStandInCommitRequest(
            summary: header.summary,
            description: header.description,
            parentCommit: header.parent,
            operations: operations
        )
    }

    /// Returns whether `path` may name a file in a repository: relative, without empty, `.`, `..` or `.git` parts,
    /// with either separator.
    static func isValidPath(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/") else { return false }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            .flatMap { $0.split(separator: "\\", omittingEmptySubsequences: false) }
        return !parts.contains { $0.isEmpty || $0 == "." || $0 == ".." || $0 == ".git" }
    }

    private static func header(_ value: [String: Any], _ number: Int) throws -> (String, String, String?) {
        guard let summary = value["summary"] as? String,
            !summary.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            throw Self.invalid(number, "has no summary: the header needs a non-empty commit summary")
        }
        let description = (value["description"] as? String) ?? ""
        var parent: String?
        if let given = value["parentCommit"], !(given is NSNull) {
            guard let text = given as? String, (5...40).contains(text.count), text.allSatisfy(\.isHexDigit) else {
                throw Self.invalid(number, "has an invalid parentCommit: use 5 to 40 hex digits of a commit id")
            }
            parent = text.lowercased()
        }
        return (summary, description, parent)
    }

    private static func file(_ value: [String: Any], _ number: Int) throws -> HubStandInCommitOperation {
        let path = try self.path(value, number)
        try self.rejectMove(value, number)
        guard let content = value["content"] as? String else {
            throw Self.invalid(number, "has no content for \(path)")
        }
        switch (value["encoding"] as? String) ?? "utf-8" {
        case "base64":
            guard let data = Data(base64Encoded: content, options: .ignoreUnknownCharacters) else {
                throw Self.invalid(number, "has content for \(path) that is not valid base64")
            }
            return .file(path: path, content: data)
        case "utf-8", "utf8":
            return .file(path: path, content: Data(content.utf8))
        case let other:
            throw Self.invalid(number, "has unknown encoding \(other) for \(path): use base64 or utf-8")
        }
    }

    private static func lfsFile(_ value: [String: Any], _ number: Int) throws -> HubStandInCommitOperation {
        let path = try self.path(value, number)
        try self.rejectMove(value, number)
        if let algorithm = value["algo"] as? String, algorithm != "sha256" {
            throw Self.invalid(number, "has algo \(algorithm) for \(path): only sha256 is supported")
        }
        guard let oid = (value["oid"] as? String)?.lowercased(), oid.count == 64, oid.allSatisfy(\.isHexDigit) else {
            throw Self.invalid(number, "has no valid oid for \(path): use the 64-hex SHA-256 of the content")
        }
        var size: Int?
        if let given = value["size"], !(given is NSNull) {
            guard let numeric = given as? NSNumber, let exact = Int(exactly: numeric.doubleValue), exact >= 0 else {
                throw Self.invalid(number, "has an invalid size for \(path)")
            }
            size = exact
        }
        return .lfsFile(path: path, oid: oid, size: size)
    }

    private static func path(_ value: [String: Any], _ number: Int, allowTrailingSlash: Bool = false) throws -> String {
        guard let path = value["path"] as? String else {
            throw Self.invalid(number, "has no path")
        }
        let checked = allowTrailingSlash && path.hasSuffix("/") ? String(path.dropLast()) : path
        guard self.isValidPath(checked) else {
            throw HubStandIn.reject(
                422,
                code: nil,
                "Invalid path \(path) on line \(number): use a relative path without empty, '.', '..' or '.git' parts"
            )
        }
        return path
    }

    // NOTE: server-side moves (`oldPath`) exist in the Hub API but are not implemented here.
    private static func rejectMove(_ value: [String: Any], _ number: Int) throws {
        if value["oldPath"] != nil {
            throw Self.invalid(number, "uses oldPath, which this stand-in does not support")
        }
    }

    private static func invalid(_ number: Int, _ problem: String) -> HubStandInRejection {
        HubStandIn.reject(400, code: nil, "Invalid commit: line \(number) \(problem)")
    }
}
