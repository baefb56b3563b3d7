/// Remote path handling shared by ssh, scp and rsync.
enum RemotePath {
    /// Returns `path` with a leading `~/` turned into a path relative to the home directory, where ssh, scp and
    /// rsync all start, because `~` is expanded by none of them once the path is quoted.
    static func normalized(_ path: String) throws -> String {
        if path.isEmpty {
            throw RemoteTransferError.invalidRemotePath(
                path,
                reason: "the path is empty; give a path such as /storage/"
            )
        }
        if path.contains("\0") {
            throw RemoteTransferError.invalidRemotePath(path, reason: "a path cannot contain a NUL character")
        }
        if path == "~" {
            return "."
        }
        if path.hasPrefix("~/") {
            let rest = String(path.dropFirst(2))
            return rest.isEmpty ? "./" : rest
        }
        return path
    }

    /// Returns `path` without trailing slashes, keeping `/` itself.
    static func trimmingTrailingSlashes(_ path: String) -> String {
        var trimmed = path
        while trimmed.count > 1, trimmed.hasSuffix("/") {
            trimmed.removeLast()
        }
        return trimmed
    }

    /// Returns the last component of `path`, ignoring trailing slashes.
    static func lastComponent(_ path: String) -> String {
        let trimmed = RemotePath.trimmingTrailingSlashes(path)
        return trimmed.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? trimmed
    }

    /// The directory that must exist before `target` can be written: `target` itself when it ends with `/`,
    /// else its parent. Returns nil when that is the home directory or `/`, which always exist.
    static func directoryToCreate(forTarget target: String) -> String? {
        let directory: String
        if target.hasSuffix("/") {
            directory = RemotePath.trimmingTrailingSlashes(target)
        } else if let slash = target.lastIndex(of: "/") {
            directory = String(target[..<slash])
        } else {
            return nil
        }
        if directory.isEmpty || directory == "/" || directory == "." {
            return nil
        }
        return directory
    }

    /// The characters that the SFTP client of scp and rsync's receiver expand as wildcards in a remote path.
    static let wildcardCharacters: Set<Character> = ["*", "?", "["]

    /// Escapes wildcards for scp, whose SFTP client expands `*`, `?` and `[` in a download source and removes the
    /// backslashes of escaped characters.
    static func escapedForSCPSource(_ path: String) -> String {
        var escaped = ""
        for character in path {
            if RemotePath.wildcardCharacters.contains(character) || character == "\\" {
                escaped.append("\\")
            }
            escaped.append(character)
        }
        return escaped
    }

    /// Escapes wildcards for rsync with `--secluded-args`, whose remote side expands a path only when it has a
    /// wildcard and otherwise keeps backslashes as they are.
    ///
    /// NOTE: rsync 3.2.5 and later reject a downloaded name that contains both a backslash and a wildcard as an
    /// "unrequested file-list name", so such paths are rejected here with a pointer to scp.
    static func escapedForRsync(_ path: String, isSource: Bool) throws -> String {
        guard path.contains(where: { RemotePath.wildcardCharacters.contains($0) }) else {
            return path
        }
        if isSource, path.contains("\\") {
            throw RemoteTransferError.invalidRemotePath(
                path,
                reason: "rsync cannot download a name that contains both a backslash and *, ? or [; use scp"
            )
        }
        return RemotePath.escapedForSCPSource(path)
    }
}
