import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Shell-style path patterns for choosing files: `*`, `?` and `[...]` within one path part, as fnmatch(3) reads
/// them, and `**` for any number of directories.
///
/// A pattern without `/` is matched against the file name at any depth, so `*.csv` selects every CSV. A pattern
/// with `/` is matched against the whole relative path, so `2026/*.csv` selects the CSVs of one folder only.
public enum GlobPattern {
    /// Returns whether `path`, relative and `/`-separated, matches `pattern`.
    public static func matches(_ pattern: String, _ path: String) -> Bool {
        let pathParts = path.split(separator: "/").map(String.init)
        guard pattern.contains("/") else {
            return pathParts.last.map { fnmatch(pattern, $0, 0) == 0 } ?? false
        }
        let patternParts = pattern.split(separator: "/").map(String.init)
        return self.match(patternParts[...], pathParts[...])
    }

    private static func match(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            var remaining = path
            while true {
                if self.match(rest, remaining) { return true }
                guard !remaining.isEmpty else { return false }
                remaining = remaining.dropFirst()
            }
        }
        guard let part = path.first, fnmatch(head, part, 0) == 0 else { return false }
        return self.match(pattern.dropFirst(), path.dropFirst())
    }
}
