import Foundation
import Schedules
import Testing

/// Transitions used below, all in 2027:
/// America/New_York springs forward 2027-03-14 02:00 EST → 03:00 EDT (07:00Z) and falls back 2027-11-07
/// 02:00 EDT → 01:00 EST (06:00Z). Europe/Berlin: 2027-03-28 02:00 → 03:00 and 2027-10-31 03:00 → 02:00, both at
/// 01:00Z. Australia/Sydney falls back 2027-04-04 03:00 → 02:00 (16:00Z the day before) and springs forward
/// 2027-10-03 02:00 → 03:00 (16:00Z the day before). Australia/Lord_Howe shifts by 30 minutes: 2027-04-04
/// 02:00 → 01:30 (15:00Z the day before) and 2027-10-03 02:00 → 02:30 (15:30Z the day before).
@Suite("Cron daylight saving time")
struct CronDaylightSavingTests {
    struct Case: Sendable, CustomStringConvertible {
        let expression: String
        let zone: String
        let after: String
        let expected: [String]

        var description: String { "\"\(self.expression)\" after \(self.after) in \(self.zone)" }
    }

    static let cases: [Case] = [
        // A skipped 02:30 fires once, at the first instant after the gap: 03:00 EDT.
        Case(
            expression: "30 2 * * *",
            zone: "America/New_York",
            after: "2027-03-13T00:00:00Z",
            expected: ["2027-03-13T07:30:00Z", "2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"]
        ),
        // A repeated 01:30 fires once, at the first occurrence (EDT).
        Case(
            expression: "30 1 * * *",
            zone: "America/New_York",
            after: "2027-11-06T00:00:00Z",
            expected: ["2027-11-06T05:30:00Z", "2027-11-07T05:30:00Z", "2027-11-08T06:30:00Z"]
        ),
        Case(
            expression: "30 1 * * *",
            zone: "America/New_York",
            after: "2027-11-07T05:30:00Z",
            expected: ["2027-11-08T06:30:00Z"]
        ),
        // A reference time inside the second pass of the repeated hour does not fire the first pass again.
        Case(
            expression: "30 1 * * *",
            zone: "America/New_York",
            after: "2027-11-07T06:00:00Z",
            expected: ["2027-11-08T06:30:00Z"]
        ),
        // Interval-like schedules fire in the second pass of the repeated hour too.
        Case(
            expression: "* * * * *",
            zone: "America/New_York",
            after: "2027-11-07T06:10:00Z",
            expected: ["2027-11-07T06:11:00Z", "2027-11-07T06:12:00Z"]
        ),
        // All wall times in the gap map to 03:00 EDT and fire once together.
        Case(
            expression: "*/15 2 * * *",
            zone: "America/New_York",
            after: "2027-03-14T00:00:00Z",
            expected: ["2027-03-14T07:00:00Z", "2027-03-15T06:00:00Z", "2027-03-15T06:15:00Z"]
        ),
        Case(
            expression: "* * * * *",
            zone: "America/New_York",
            after: "2027-03-14T06:58:00Z",
            expected: ["2027-03-14T06:59:00Z", "2027-03-14T07:00:00Z", "2027-03-14T07:01:00Z"]
        ),
        Case(
            expression: "0 * * * *",
            zone: "America/New_York",
            after: "2027-03-14T05:30:00Z",
            expected: ["2027-03-14T06:00:00Z", "2027-03-14T07:00:00Z", "2027-03-14T08:00:00Z"]
        ),
        // Hourly fires at 01:00 EDT and again at 01:00 EST.
        Case(
            expression: "0 * * * *",
            zone: "America/New_York",
            after: "2027-11-07T04:30:00Z",
            expected: ["2027-11-07T05:00:00Z", "2027-11-07T06:00:00Z", "2027-11-07T07:00:00Z"]
        ),
        Case(
            expression: "30 2 * * *",
            zone: "Europe/Berlin",
            after: "2027-03-27T00:00:00Z",
            expected: ["2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"]
        ),
        Case(
            expression: "30 2,3 * * *",
            zone: "Europe/Berlin",
            after: "2027-03-28T00:00:00Z",
            expected: ["2027-03-28T01:00:00Z", "2027-03-28T01:30:00Z", "2027-03-29T00:30:00Z"]
        ),
        Case(
            expression: "0 3 * * *",
            zone: "Europe/Berlin",
            after: "2027-03-27T12:00:00Z",
            expected: ["2027-03-28T01:00:00Z", "2027-03-29T01:00:00Z"]
        ),
        Case(
            expression: "30 2 * * *",
            zone: "Europe/Berlin",
            after: "2027-10-30T00:00:00Z",
            expected: ["2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"]
        ),
        Case(
            expression: "30 2 * * *",
            zone: "Australia/Sydney",
            after: "2027-10-02T00:00:00Z",
            expected: ["2027-10-02T16:00:00Z", "2027-10-03T15:30:00Z"]
        ),
        Case(
            expression: "30 2 * * *",
            zone: "Australia/Sydney",
            after: "2027-04-03T00:00:00Z",
            expected: ["2027-04-03T15:30:00Z", "2027-04-04T16:30:00Z"]
        ),
        Case(
            expression: "15 2 * * *",
            zone: "Australia/Lord_Howe",
            after: "2027-10-02T00:00:00Z",
            expected: ["2027-10-02T15:30:00Z", "2027-10-03T15:15:00Z"]
        ),
        Case(
            expression: "45 1 * * *",
            zone: "Australia/Lord_Howe",
            after: "2027-04-03T00:00:00Z",
            expected: ["2027-04-03T14:45:00Z", "2027-04-04T15:15:00Z"]
        ),
    ]

    @Test("Fire times across transitions", arguments: Self.cases)
    func fireTimesAcrossTransitions(_ testCase: Case) throws {
        let times = try fireTimes(
            testCase.expression,
            after: testCase.after,
            in: testCase.zone,
            count: testCase.expected.count
        )
        #expect(times == testCase.expected)
    }

    static let yearZones = [
        "UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata",
        "Asia/Kathmandu",
    ]

    /// Returns the fire times from the start of 2027 to the start of 2028 in UTC.
    static func fireTimesIn2027(_ expression: String, _ zoneIdentifier: String) throws -> [Date] {
        let schedule = try CronSchedule(parsing: expression)
        let timeZone = zone(zoneIdentifier)
        let end = utc("2028-01-01T00:00:00Z")
        var times: [Date] = []
        var cursor = utc("2026-12-31T23:59:59Z")
        while let next = schedule.nextFire(after: cursor, in: timeZone), next < end {
            times.append(next)
            cursor = next
        }
        return times
    }

    @Test("Nightly schedule fires once a day", arguments: Self.yearZones, ["30 2 * * *", "30 1 * * *", "0 3 * * *"])
    func nightlyScheduleFiresOnceADay(zoneIdentifier: String, expression: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        let timeZone = zone(zoneIdentifier)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let times = schedule.fireTimes(after: utc("2027-01-01T12:00:00Z"), in: timeZone, count: 365)

        #expect(times.count == 365)
        for (earlier, later) in zip(times, times.dropFirst()) {
            #expect(earlier < later, "\(iso(earlier)) is not before \(iso(later))")
        }
        let localDays = times.map { calendar.dateComponents([.year, .month, .day], from: $0) }
        #expect(Set(localDays).count == 365, "some local day fired twice or not at all")
        for (earlier, later) in zip(localDays, localDays.dropFirst()) {
            let dayAfter = calendar.date(byAdding: .day, value: 1, to: calendar.date(from: earlier)!)!
            #expect(calendar.dateComponents([.year, .month, .day], from: dayAfter) == later)
        }
    }

    @Test("Hourly fire times over a year", arguments: Self.yearZones)
    func hourlyFireTimesOverAYear(zoneIdentifier: String) throws {
        let times = try Self.fireTimesIn2027("0 * * * *", zoneIdentifier)
        let gaps = zip(times, times.dropFirst()).map { Int($1.timeIntervalSince($0)) }
        let timeZone = zone(zoneIdentifier)
        let usesDaylightSaving =
            timeZone.nextDaylightSavingTimeTransition(after: utc("2027-01-01T00:00:00Z"))
            .map { $0 < utc("2028-01-01T00:00:00Z") } ?? false

        #expect(gaps.allSatisfy { $0 > 0 }, "fire times are not strictly increasing")
        if !usesDaylightSaving {
            #expect(times.count == 8760)
            #expect(Set(gaps) == [3600])
        } else if zoneIdentifier == "Australia/Lord_Howe" {
            // Hourly is interval-like, so it fires at each instant that shows hh:00. The 30-minute shifts move
            // that reading: in spring 02:00 is skipped and 03:00 LHDT follows 01:00 LHST after 90 minutes, and in
            // autumn clocks turn back from 02:00 LHDT to 01:30, so 02:00 LHST follows 01:00 LHDT after 90 minutes.
            #expect(times.count == 8759)
            #expect(gaps.filter { $0 != 3600 }.sorted() == [5400, 5400])
        } else {
            // Hourly follows elapsed time: the skipped hour has no fire and the repeated hour fires in both
            // passes, so every UTC hour fires once.
            #expect(times.count == 8760)
            #expect(gaps.filter { $0 != 3600 } == [])
        }
    }

    @Test("Quarter-hour fire times over a year", arguments: ["America/New_York", "Australia/Lord_Howe"])
    func quarterHourFireTimesOverAYear(zoneIdentifier: String) throws {
        let times = try Self.fireTimesIn2027("*/15 * * * *", zoneIdentifier)

        #expect(times.count > 34_900)
        for (earlier, later) in zip(times, times.dropFirst()) where earlier >= later {
            Issue.record("\(iso(earlier)) is not before \(iso(later))")
        }
        #expect(Set(times).count == times.count)
    }
}
