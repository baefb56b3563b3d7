import Paperspace
import Support
import Testing

@Test(arguments: [
    ("NYC1", "East Coast (NY2)"), ("nyc1", "East Coast (NY2)"), ("AMS1", "Europe (AMS1)"), ("ams1", "Europe (AMS1)"),
    ("Ca1", "West Coast (CA1)"),
])
func legacyNamesMapToLabels(name: String, expected: String) throws {
    #expect(try LegacyRegion.apiRegion(for: name) == expected)
}

@Test(arguments: ["ny2", "NY2", "East Coast (NY2)", "Europe (AMS1)", "West Coast (CA1)"])
func v1SpellingsPassUnchanged(name: String) throws {
    #expect(try LegacyRegion.apiRegion(for: name) == name)
}

@Test func v1SpellingsInOtherCaseAreNormalized() throws {
    #expect(try LegacyRegion.apiRegion(for: "Ny2") == "ny2")
    #expect(try LegacyRegion.apiRegion(for: "east coast (ny2)") == "East Coast (NY2)")
    #expect(try LegacyRegion.apiRegion(for: " NYC1 ") == "East Coast (NY2)")
}

@Test(arguments: ["LON1", "", "NY1", "East Coast"])
func unknownRegionListsValidNames(name: String) throws {
    let error = try #require(throws: PaperspaceError.self) { try LegacyRegion.apiRegion(for: name) }
    #expect(error.description.contains("NYC1, AMS1, CA1, ny2, NY2, East Coast (NY2)"))
}

@Test func explicitKeyWinsOverEnvironment() throws {
    let key = try PaperspaceAPIKey.resolve(
        explicit: " ps-explicit-key-1234 ",
        environment: ["PAPERSPACE_API_KEY": "ps-env-key-5678"]
    )
    #expect(key == "ps-explicit-key-1234")
}

@Test func environmentKeyIsUsedAndRedacted() throws {
    let key = try PaperspaceAPIKey.resolve(explicit: nil, environment: ["PAPERSPACE_API_KEY": "ps-env-key-90ab\n"])
    #expect(key == "ps-env-key-90ab")
    #expect(SecretRedactor.shared.redact("key ps-env-key-90ab sent") == "key [REDACTED] sent")
}

@Test func missingOrEmptyKeyNamesVariable() throws {
    let missing = try #require(throws: PaperspaceAPIKeyError.self) {
        try PaperspaceAPIKey.resolve(explicit: nil, environment: [:])
    }
    #expect(missing == .missing)
    #expect(missing.description.contains("set PAPERSPACE_API_KEY or pass --api-key"))
    let empty = try #require(throws: PaperspaceAPIKeyError.self) {
        try PaperspaceAPIKey.resolve(explicit: nil, environment: ["PAPERSPACE_API_KEY": "  "])
    }
    #expect(empty == .empty(source: "PAPERSPACE_API_KEY"))
    #expect(throws: PaperspaceAPIKeyError.empty(source: "the --api-key value")) {
        try PaperspaceAPIKey.resolve(explicit: "", environment: ["PAPERSPACE_API_KEY": "ps-env-key-5678"])
    }
    #expect(throws: PaperspaceAPIKeyError.malformed) {
        try PaperspaceAPIKey.resolve(explicit: "ps-key with-space", environment: [:])
    }
}
