import Foundation

/// Region names of the old machine tool (`NYC1`, `AMS1`, `CA1`) and the v1 spellings they stand for.
///
/// `PaperspaceClient` sends `region` as given, and the v1 API documents three spellings per datacenter
/// (`ny2`, `NY2`, `East Coast (NY2)`). An old name becomes the label form, the spelling SkyPilot, a production
/// client, sends. A v1 spelling is kept as typed, and one in another case (`Ny2`) becomes its documented form.
public enum LegacyRegion: String, Sendable, CaseIterable {
    case nyc1 = "NYC1"
    case ams1 = "AMS1"
    case ca1 = "CA1"

    /// The v1 label this old name maps to.
    public var v1Label: String {
        switch self {
        case .nyc1: "East Coast (NY2)"
        case .ams1: "Europe (AMS1)"
        case .ca1: "West Coast (CA1)"
        }
    }

    /// The v1 datacenter code in lower case, as the API reference samples spell it.
    var v1Code: String {
        switch self {
        case .nyc1: "ny2"
        case .ams1: "ams1"
        case .ca1: "ca1"
        }
    }

    /// Returns the `region` value to send for `name`: an old name (any case) or a v1 spelling.
    ///
    /// Old names win over v1 codes of the same text, so `AMS1` and `ams1` both become `Europe (AMS1)`.
    public static func apiRegion(for name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if let legacy = LegacyRegion.allCases.first(where: { $0.rawValue.lowercased() == trimmed.lowercased() }) {
            return legacy.v1Label
        }
        for region in LegacyRegion.allCases {
            let spellings = [region.v1Code, region.v1Code.uppercased(), region.v1Label]
            if spellings.contains(trimmed) {
                return trimmed
            }
            if trimmed.lowercased() == region.v1Code {
                return region.v1Code
            }
            if trimmed.lowercased() == region.v1Label.lowercased() {
                return region.v1Label
            }
        }
        throw PaperspaceError.invalidRequest(
            operation: "resolve region \(String(reflecting: name))",
            detail: "unknown region; valid names are \(LegacyRegion.validNames.joined(separator: ", "))"
        )
    }

    /// Every accepted name, old ones first.
    public static var validNames: [String] {
        var names: [String] = []
        let all =
            LegacyRegion.allCases.map(\.rawValue)
            + LegacyRegion.allCases.flatMap { [$0.v1Code, $0.v1Code.uppercased(), $0.v1Label] }
        for name in all where !names.contains(name) {
            names.append(name)
        }
        return names
    }
}
