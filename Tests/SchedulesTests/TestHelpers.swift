import Foundation
import Schedules
import Testing

/// Parses an ISO 8601 UTC time such as `2027-03-14T07:00:00Z`.
func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: text) else {
        fatalError("test fixture is not an ISO 8601 UTC time: \(text)")
    }
    return date
}

/// Formats a date as ISO 8601 UTC, so failures print readable times.
func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

func zone(_ identifier: String) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else {
        fatalError("time zone \(identifier) is not known to Foundation")
    }
    return zone
}

/// Returns the fire times as ISO 8601 UTC strings.
func fireTimes(_ expression: String, after: String, in zoneIdentifier: String = "UTC", count: Int) throws -> [String] {
    let schedule = try CronSchedule(parsing: expression)
    return schedule.fireTimes(after: utc(after), in: zone(zoneIdentifier), count: count).map(iso)
}
