import Testing

@testable import Config

@Suite struct SuggestionsTests {
    @Test(arguments: [
        ("kitten", "sitting", 3), ("", "abc", 3), ("abc", "", 3), ("same", "same", 0), ("api_kye", "api_key", 1),
        ("trian", "train", 1), ("ab", "ba", 1),
    ])
    func editDistanceTable(a: String, b: String, distance: Int) {
        #expect(Suggestions.editDistance(a, b) == distance)
    }

    @Test func closestIgnoresCaseAndSeparators() {
        let keys = ConfigReader.paperspaceKeys
        #expect(Suggestions.closest(to: "apiKey", in: keys) == "api_key")
        #expect(Suggestions.closest(to: "api-key-file", in: keys) == "api_key_file")
        #expect(Suggestions.closest(to: "endpiont", in: keys) == "endpoint")
        #expect(Suggestions.closest(to: "warn", in: ["warning", "error"]) == "warning")
    }

    @Test func closestRejectsDistantNames() {
        #expect(Suggestions.closest(to: "colour", in: ConfigReader.topLevelKeys) == nil)
        #expect(Suggestions.closest(to: "x", in: ["y", "zz"]) == "y")
        #expect(Suggestions.closest(to: "abc", in: []) == nil)
        #expect(ConfigReader.closestTimeZone(to: "America") == nil)
    }
}
