/// "Did you mean" candidates for misspelled keys, names and time zones.
enum Suggestions {
    /// Returns the candidate closest to `input`, or nil when none is close enough to be a likely typo.
    ///
    /// Case, `-` and `_` are ignored first, so `apiKey` and `api-key` both find `api_key`. Then a candidate
    /// that starts with `input` (3 characters or more) wins, as `warn` finds `warning`. Otherwise the edit
    /// distance must be at most a third of the longer name, and 1 is always allowed.
    /// `matchesPrefix: false` skips the prefix rule, for names such as time zones where it finds nonsense.
    static func closest(to input: String, in candidates: [String], matchesPrefix: Bool = true) -> String? {
        let normalizedInput = Suggestions.normalize(input)
        if let exact = candidates.first(where: { Suggestions.normalize($0) == normalizedInput }) {
            return exact
        }
        if matchesPrefix, normalizedInput.count >= 3,
            let prefixed = candidates.first(where: { Suggestions.normalize($0).hasPrefix(normalizedInput) })
        {
            return prefixed
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

    /// Returns the optimal string alignment distance between `a` and `b`. It is the Levenshtein distance, except
    /// that swapping two neighbouring characters also counts as one edit, so `trian` is 1 away from `train`.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let source = Array(a)
        let target = Array(b)
        guard !source.isEmpty else { return target.count }
        guard !target.isEmpty else { return source.count }
        // distances[i][j] is the distance between the first i characters of source and the first j of target.
        var distances = [[Int]](repeating: [Int](repeating: 0, count: target.count + 1), count: source.count + 1)
        for i in 0...source.count {
            distances[i][0] = i
        }
        for j in 0...target.count {
            distances[0][j] = j
        }
        for i in 1...source.count {
            for j in 1...target.count {
                let cost = source[i - 1] == target[j - 1] ? 0 : 1
                var distance = min(
                    distances[i - 1][j] + 1,
                    distances[i][j - 1] + 1,
                    distances[i - 1][j - 1] + cost
                )
                if i > 1, j > 1, source[i - 1] == target[j - 2], source[i - 2] == target[j - 1] {
                    distance = min(distance, distances[i - 2][j - 2] + 1)
                }
                distances[i][j] = distance
            }
        }
        return distances[source.count][target.count]
    }

    /// Formats names as a comma-separated list of code spans, for "valid keys here: ..." fixes.
    static func list(_ names: [String]) -> String {
        names.map { "`\($0)`" }.joined(separator: ", ")
    }

    private static func normalize(_ text: String) -> String {
        String(text.lowercased().filter { $0 != "_" && $0 != "-" })
    }
}
