import Foundation

/// Formats fire times for `nightshift next`: the local time with its zone abbreviation and UTC offset, the same
/// instant in UTC, and a note when the daylight saving time policy moved the fire.
public enum FireTimeFormatter {
    /// `2027-03-14 03:00:00 EDT (-04:00)  2027-03-14T07:00:00Z  moved from 02:30:00, which clocks skip`.
    public static func format(_ fire: ScheduledFire, in zone: TimeZone) -> String {
        let instant = Int(fire.date.timeIntervalSince1970.rounded(.down))
        let offset = zone.secondsFromGMT(for: fire.date)
        let local = LocalDateTime(wallSeconds: instant + offset)
        let abbreviation = zone.abbreviation(for: fire.date) ?? zone.identifier
        var line = "\(local) \(abbreviation) (\(Self.offsetText(offset)))  \(Self.utcText(instant))"
        if let movedFrom = fire.movedFrom {
            let time = String(movedFrom.description.split(separator: " ")[1])
            line += "  moved from \(time), which clocks skip"
        }
        return line
    }

    /// `+05:45` or `-04:00`.
    static func offsetText(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let minutes = abs(seconds) / 60
        let hours = String(minutes / 60)
        let rest = String(minutes % 60)
        return sign + String(repeating: "0", count: 2 - min(2, hours.count)) + hours + ":"
            + String(repeating: "0", count: 2 - rest.count) + rest
    }

    static func utcText(_ instant: Int) -> String {
        let text = LocalDateTime(wallSeconds: instant).description
        return text.replacingOccurrences(of: " ", with: "T") + "Z"
    }
}
