/// The nightshift release, printed by `nightshift --version` and sent in the User-Agent header.
public enum NightshiftVersion {
    public static let current = "0.1.0"
}
