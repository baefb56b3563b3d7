import Foundation

/// Path patterns read from `.gitattributes` (which paths are stored in LFS) or `.gitignore` (which are skipped).
///
/// It covers the Git pattern syntax that these files use in practice: `*`, `?`, `[...]`, `**`, a leading `/` that
/// anchors a pattern, a trailing `/` that matches only directories, and `!` negation in `.gitignore`.
struct HubStandInPathRules: Sendable {
    private struct Rule: Sendable {
        var pattern: [Character]
        var isAnchored: Bool
        var isDirectoryOnly: Bool
        var isNegated: Bool
    }

    private var rules: [Rule] = []
    /// Whether a rule that matches a directory also matches the files below it, as in `.gitignore` but not in
    /// `.gitattributes`.
    private var coversDirectoryContents: Bool

    /// Reads the patterns of `.gitattributes` lines whose attributes include `filter=lfs`.
    static func lfsPatterns(gitAttributes: String) -> HubStandInPathRules {
        var result = HubStandInPathRules(coversDirectoryContents: false)
        for line in gitAttributes.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let pattern = fields.first, !pattern.hasPrefix("#"), fields.dropFirst().contains("filter=lfs") else {
                continue
            }
            result.add(pattern, isNegated: false)
        }
        return result
    }

    /// Reads the patterns of a `.gitignore` text.
    static func ignorePatterns(gitIgnore: String) -> HubStandInPathRules {
        var result = HubStandInPathRules(coversDirectoryContents: true)
        for line in gitIgnore.split(whereSeparator: \.isNewline) {
            let pattern = line.trimmingCharacters(in: .whitespaces)
            guard !pattern.isEmpty, !pattern.hasPrefix("#") else { continue }
            if pattern.hasPrefix("!") {
                result.add(String(pattern.dropFirst()), isNegated: true)
            } else {
                result.add(pattern, isNegated: false)
            }
        }
        return result
    }

    var isEmpty: Bool { self.rules.isEmpty }

    /// Returns the rules of `self` followed by those of `other`, so `other` wins where both match.
    func merged(with other: HubStandInPathRules) -> HubStandInPathRules {
        var result = self
        result.rules += other.rules
        return result
    }

    /// Returns whether the file at `path` matches. The last matching rule decides, as in Git.
    func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/").map(String.init)
        let firstDepth = self.coversDirectoryContents ? 1 : max(parts.count, 1)
        var matched = false
        for rule in self.rules {
            for depth in firstDepth...max(parts.count, 1) {
                let isDirectory = depth < parts.count
                if rule.isDirectoryOnly && !isDirectory { continue }
                let candidate = parts.prefix(depth).joined(separator: "/")
                let subject = rule.isAnchored ? candidate : (parts.prefix(depth).last ?? "")
                if Self.glob(rule.pattern[...], Array(subject)[...]) {
                    matched = !rule.isNegated
                    break
                }
            }
        }
        return matched
    }

    private mutating func add(_ text: String, isNegated: Bool) {
        var pattern = text
        let isDirectoryOnly = pattern.hasSuffix("/")
        if isDirectoryOnly {
            pattern.removeLast()
        }
        // Git anchors a pattern to the repository root when it contains a slash anywhere but at the end.
        let isAnchored = pattern.contains("/")
        if pattern.hasPrefix("/") {
            pattern.removeFirst()
        }
        guard !pattern.isEmpty else { return }
        let rule = Rule(
            pattern: Array(pattern),
            isAnchored: isAnchored,
            isDirectoryOnly: isDirectoryOnly,
            isNegated: isNegated
        )
        self.rules.append(rule)
    }

    /// Matches Git wildcards: `*` and `?` stop at `/`, and `**` between slashes spans any number of directories.
    private static func glob(_ pattern: ArraySlice<Character>, _ text: ArraySlice<Character>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        let rest = pattern.dropFirst()
        switch first {
        case "*":
            if rest.first == "*" {
                var afterStars = rest.dropFirst()
                if afterStars.first == "/" {
                    afterStars = afterStars.dropFirst()
                    // `**/` matches zero or more whole directories.
                    if self.glob(afterStars, text) { return true }
                    var remaining = text
                    while let slash = remaining.firstIndex(of: "/") {
                        remaining = remaining[remaining.index(after: slash)...]
                        if self.glob(afterStars, remaining) { return true }
                    }
                    return false
                }
                var remaining = text
                while true {
                    if self.glob(afterStars, remaining) { return true }
                    guard !remaining.isEmpty else { return false }
                    remaining = remaining.dropFirst()
                }
            }
            var remaining = text
            while true {
                if self.glob(rest, remaining) { return true }
                guard let next = remaining.first, next != "/" else { return false }
                remaining = remaining.dropFirst()
            }
        case "?":
            guard let next = text.first, next != "/" else { return false }
            return self.glob(rest, text.dropFirst())
        case "[":
            guard let next = text.first, next != "/",
                let (isMember, afterClass) = self.matchClass(rest, next)
            else {
                return first == text.first && self.glob(rest, text.dropFirst())
            }
            return isMember && self.glob(afterClass, text.dropFirst())
        case "\\":
            guard let escaped = rest.first else { return false }
            return text.first == escaped && self.glob(rest.dropFirst(), text.dropFirst())
        default:
            return text.first == first && self.glob(rest, text.dropFirst())
        }
    }

    /// Reads a bracket expression that starts after `[`; returns nil when it is not closed.
    private static func matchClass(
        _ pattern: ArraySlice<Character>,
        _ character: Character
    ) -> (Bool, ArraySlice<Character>)? {
        var index = pattern.startIndex
        var isNegated = false
        if index < pattern.endIndex, pattern[index] == "!" || pattern[index] == "^" {
            isNegated = true
            index = pattern.index(after: index)
        }
        var isMember = false
        var isFirst = true
        while index < pattern.endIndex {
            let current = pattern[index]
            if current == "]" && !isFirst {
                return (isMember != isNegated, pattern[pattern.index(after: index)...])
            }
            isFirst = false
            if current == "[", let named = self.namedClass(pattern[pattern.index(after: index)...]) {
                if named.members(character) { isMember = true }
                index = named.end
                continue
            }
            let next = pattern.index(after: index)
            if next < pattern.endIndex, pattern[next] == "-",
                pattern.index(after: next) < pattern.endIndex, pattern[pattern.index(after: next)] != "]"
            {
                let upper = pattern[pattern.index(after: next)]
                if current <= character && character <= upper { isMember = true }
                index = pattern.index(after: pattern.index(after: next))
            } else {
                if current == character { isMember = true }
                index = next
            }
        }
        return nil
    }

    /// Reads a POSIX class such as `[:space:]` that starts after its `[`; `.gitattributes` files spell a space
    /// in a file name as `[[:space:]]`.
    private static func namedClass(
        _ pattern: ArraySlice<Character>
    ) -> (members: (Character) -> Bool, end: ArraySlice<Character>.Index)? {
        guard pattern.first == ":" else { return nil }
        let text = String(pattern.dropFirst())
        guard let close = text.range(of: ":]") else { return nil }
        let name = String(text[..<close.lowerBound])
        let members: (Character) -> Bool
        switch name {
        case "space": members = { $0.isWhitespace }
        case "alpha": members = { $0.isLetter }
        case "digit": members = { $0.isNumber }
        case "alnum": members = { $0.isLetter || $0.isNumber }
        default: return nil
        }
        // Skip the colon, the name and the closing `:]`.
        return (members, pattern.index(pattern.startIndex, offsetBy: name.count + 3))
    }

    /// Returns a `.gitattributes` pattern that matches exactly `path`.
    static func literalPattern(_ path: String) -> String {
        var pattern = ""
        for character in path {
            if character == " " {
                pattern += "[[:space:]]"
            } else if "*?[\\".contains(character) {
                pattern += "\\" + String(character)
            } else {
                pattern.append(character)
            }
        }
        return pattern
    }
}
