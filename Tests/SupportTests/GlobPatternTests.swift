import Support
import Testing

@Suite struct GlobPatternTests {
    @Test(arguments: [
        ("*.csv", "a.csv", true),
        ("*.csv", "2026/12/a.csv", true),
        ("*.csv", "a.csv.partial", false),
        ("2026/*.csv", "2026/a.csv", true),
        ("2026/*.csv", "2026/12/a.csv", false),
        ("2026/**", "2026/12/a.csv", true),
        ("2026/**", "2027/a.csv", false),
        ("**/a.csv", "a.csv", true),
        ("**/a.csv", "x/y/a.csv", true),
        ("x/**/a.csv", "x/a.csv", true),
        ("tick_2026-1[0-2]-??.csv", "tick_2026-11-03.csv", true),
        ("tick_2026-1[0-2]-??.csv", "tick_2026-09-03.csv", false),
    ])
    func matchesPathParts(pattern: String, path: String, expected: Bool) {
        #expect(GlobPattern.matches(pattern, path) == expected)
    }
}
