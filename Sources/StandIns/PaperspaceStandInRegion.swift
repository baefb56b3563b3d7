/// How the stand-in spells `region` in the machines it returns. Which one the live API uses is unverified.
public enum PaperspaceRegionSpelling: Sendable {
    /// `ny2`, the form in every sample of the v1 API reference.
    case code
    /// `NY2`, the form of the DigitalOcean how-to pages.
    case upperCode
    /// `East Coast (NY2)`, the form of the only v1 response example seen (a custom template).
    case label
}

/// A Paperspace datacenter.
enum PaperspaceRegion: String, CaseIterable {
    case ny2, ams1, ca1

    var label: String {
        switch self {
        case .ny2: "East Coast (NY2)"
        case .ams1: "Europe (AMS1)"
        case .ca1: "West Coast (CA1)"
        }
    }

    /// Parses one of the three documented spellings exactly: `ny2`, `NY2` or `East Coast (NY2)`.
    init?(spelling: String) {
        let match = PaperspaceRegion.allCases.first {
            spelling == $0.rawValue || spelling == $0.rawValue.uppercased() || spelling == $0.label
        }
        guard let match else { return nil }
        self = match
    }

    func spelled(_ spelling: PaperspaceRegionSpelling) -> String {
        switch spelling {
        case .code: self.rawValue
        case .upperCode: self.rawValue.uppercased()
        case .label: self.label
        }
    }

    static var acceptedSpellings: String {
        PaperspaceRegion.allCases.map { "\($0.rawValue), \($0.rawValue.uppercased()), \($0.label)" }
            .joined(separator: "; ")
    }
}
