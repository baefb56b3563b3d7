/// "Did you mean" candidates for misspelled keys, names and time zones.
enum Suggestions {
    /// Returns the candidate closest to `input`, or nil when none is close enough to be a likely typo.
    ///
    /// Case, `-` and `_` are ignored first, so `apiKey` and `api-key` both find `api_key`. Otherwise the
    /// Levenshtein distance must be at most a third of the longer name, and at least 1 is always allowed.
    static func closest(to input: String, in candidates: [String]) -> String? {
        let normalizedInput = Suggestions.normalize(input)
        if let exact = candidates.first(where: { Suggestions.normalize($0) == normalizedInput }) {
            return exact
        }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = Suggestions.editDistance(input.lowercased(), candidate.lowercased())
            let limit = max(1, max(input.count, candidate.count) / 3)
            guard distance <= limit else { continue }
            if best == nil || distance < best!.distance {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// The Levenshtein distance between `a` and `b`, counted in characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let source = Array(a)
        let target = Array(b)
        guard !source.isEmpty else { return target.count }
        guard !target.isEmpty else { return source.count }
        var previous = Array(0...target.count)
        var current = [Int](repeating: 0, count: target.count + 1)
        for i in 1...source.count {
            current[0] = i
            for j in 1...target.count {
                let substitution = previous[j - 1] + (source[i - 1] == target[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[target.count]
    }

    /// Formats names as a comma-separated list of code spans, for "valid keys here: ..." fixes.
    static func list(_ names: [String]) -> String {
        names.map { "`\($0)`" }.joined(separator: ", ")
    }

    private static func normalize(_ text: String) -> String {
        String(text.lowercased().filter { $0 != "_" && $0 != "-" })
    }
}
