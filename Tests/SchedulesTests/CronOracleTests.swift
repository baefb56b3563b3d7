import Foundation
import Schedules
import Testing

/// Compares `CronSchedule` with a minute-by-minute scan that applies the DST policy directly. At each UTC minute,
/// the scan checks the wall-clock minutes that the zone's clock shows for the first time against a hand-written
/// matcher, and the minute fires if any of them matches. Wall minutes that a gap jumps over count as shown at the
/// end of the gap, and wall minutes shown again in an overlap are not new. Interval-like schedules instead fire at
/// every UTC minute whose own wall reading matches.
@Suite("Cron schedule against a minute scan")
struct CronOracleTests {
    /// Wall-clock fields of a minute; `weekday` is 1 for Sunday through 7 for Saturday, as in `Calendar`.
    struct WallFields: Sendable {
        let month: Int
        let day: Int
        let weekday: Int
        let hour: Int
        let minute: Int
    }

    struct Matcher: Sendable, CustomStringConvertible {
        let expression: String
        let matches: @Sendable (WallFields) -> Bool

        var description: String { self.expression }
    }

    static let matchers: [Matcher] = [
        Matcher(expression: "30 2 * * *") { $0.hour == 2 && $0.minute == 30 },
        Matcher(expression: "30 1 * * *") { $0.hour == 1 && $0.minute == 30 },
        Matcher(expression: "0 2 * * *") { $0.hour == 2 && $0.minute == 0 },
        Matcher(expression: "59 1 * * *") { $0.hour == 1 && $0.minute == 59 },
        Matcher(expression: "*/15 1-3 * * *") { $0.minute % 15 == 0 && (1...3).contains($0.hour) },
        Matcher(expression: "0 * * * *") { $0.minute == 0 },
        Matcher(expression: "*/7 * * * *") { $0.minute % 7 == 0 },
        Matcher(expression: "45 2,3 * * SUN") { $0.weekday == 1 && $0.minute == 45 && [2, 3].contains($0.hour) },
        // Both day fields start with `*`, so they AND: odd days of the month.
        Matcher(expression: "0,30 0-4 */2 * *") { $0.day % 2 == 1 && [0, 30].contains($0.minute) && $0.hour <= 4 },
        // Both day fields are restricted, so they OR.
        Matcher(expression: "15 2 1,3,4,28,31 * 0") {
            ($0.weekday == 1 || [1, 3, 4, 28, 31].contains($0.day)) && $0.hour == 2 && $0.minute == 15
        },
    ]

    /// Zones and the UTC instants of their 2027 transitions; each window spans two days either side.
    static let windows: [(zone: String, transition: String)] = [
        ("America/New_York", "2027-03-14T07:00:00Z"),
        ("America/New_York", "2027-11-07T06:00:00Z"),
        ("Europe/Berlin", "2027-03-28T01:00:00Z"),
        ("Europe/Berlin", "2027-10-31T01:00:00Z"),
        ("Australia/Sydney", "2027-04-03T16:00:00Z"),
        ("Australia/Sydney", "2027-10-02T16:00:00Z"),
        ("Australia/Lord_Howe", "2027-04-03T15:00:00Z"),
        ("Australia/Lord_Howe", "2027-10-02T15:30:00Z"),
        ("Asia/Kathmandu", "2027-06-01T00:00:00Z"),
    ]

    /// A UTC minute and the wall-clock minutes the zone shows for the first time at that minute.
    struct ScanStep {
        let instant: Date
        let newWallMinutes: [WallFields]
        let reading: WallFields
    }

    static func scan(zone timeZone: TimeZone, from start: Date, to end: Date) -> [ScanStep] {
        var naiveCalendar = Calendar(identifier: .gregorian)
        naiveCalendar.timeZone = TimeZone(identifier: "UTC")!
        func wallSeconds(_ instant: Date) -> Int {
            Int(instant.timeIntervalSince1970) + timeZone.secondsFromGMT(for: instant)
        }

        func fields(_ seconds: Int) -> WallFields {
            let parts = naiveCalendar.dateComponents(
                [.month, .day, .weekday, .hour, .minute],
                from: Date(timeIntervalSince1970: Double(seconds))
            )
            return WallFields(
                month: parts.month!,
                day: parts.day!,
                weekday: parts.weekday!,
                hour: parts.hour!,
                minute: parts.minute!
            )
        }

        var steps: [ScanStep] = []
        var latestWall = wallSeconds(start)
        var instant = start.addingTimeInterval(60)
        while instant <= end {
            let wall = wallSeconds(instant)
            var newMinutes: [WallFields] = []
            if wall > latestWall {
                newMinutes = stride(from: latestWall + 60, through: wall, by: 60).map(fields)
                latestWall = wall
            }
            steps.append(ScanStep(instant: instant, newWallMinutes: newMinutes, reading: fields(wall)))
            instant = instant.addingTimeInterval(60)
        }
        return steps
    }

    @Test("Fire times match the minute scan", arguments: 0..<Self.windows.count)
    func fireTimesMatchTheMinuteScan(windowIndex: Int) throws {
        let window = Self.windows[windowIndex]
        let timeZone = zone(window.zone)
        let start = utc(window.transition).addingTimeInterval(-2 * 86_400)
        let end = utc(window.transition).addingTimeInterval(2 * 86_400)
        let steps = Self.scan(zone: timeZone, from: start, to: end)

        for matcher in Self.matchers {
            let schedule = try CronSchedule(parsing: matcher.expression)
            let expected = steps.filter { step in
                schedule.isIntervalLike
                    ? matcher.matches(step.reading) : step.newWallMinutes.contains(where: matcher.matches)
            }.map { iso($0.instant) }
            let actual = schedule.fireTimes(after: start, in: timeZone, count: expected.count + 1)
                .filter { $0 <= end }
                .map(iso)
            #expect(actual == expected, "\(matcher.expression) in \(window.zone) near \(window.transition)")
        }
    }
}
