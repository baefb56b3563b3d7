import Testing

@testable import Config

@Suite struct DurationParserTests {
    @Test(arguments: [
        ("90s", 90.0),
        ("30m", 1800),
        ("6h", 21600),
        ("2d", 172_800),
        ("1h30m", 5400),
        ("1m30s", 90),
        ("1d12h", 129_600),
        ("1d2h3m4s", 93784),
        ("600", 600),
        ("0", 0),
        ("0s", 0),
        ("007m", 420),
    ])
    func validDurations(text: String, seconds: Double) {
        #expect(DurationParser.seconds(from: text) == seconds)
    }

    @Test(arguments: [
        "", "h", "1h30", "30m1h", "1h1h", "1.5h", "-5s", "+5s", "5 m", " 5m", "1x", "5M", "1w",
        "99999999999999999999", "9999999999999999d", "1h-30m",
    ])
    func invalidDurations(text: String) {
        #expect(DurationParser.seconds(from: text) == nil)
    }

    @Test(arguments: [(5400.0, "1h30m"), (0, "0s"), (90, "1m30s"), (604_800, "7d"), (86_401, "1d1s")])
    func formatLargestUnitsFirst(seconds: Double, text: String) {
        #expect(DurationParser.format(seconds) == text)
    }
}
