import Foundation
import Schedules
import Testing

@Suite("Calendar schedules and syntax detection")
struct CalendarScheduleTests {
    struct Case: Sendable, CustomStringConvertible {
        let expression: String
        let zone: String
        let after: String
        let expected: [String]

        var description: String { "\"\(self.expression)\" after \(self.after) in \(self.zone)" }
    }

    static func fires(_ expression: String, _ zoneName: String, after: String, count: Int) throws -> [String] {
        try Schedule(parsing: expression).fireTimes(after: utc(after), in: zone(zoneName), count: count)
            .map { iso($0.date) }
    }

    static let cases: [Case] = [
        // Fixed time in a spring gap, northern and southern hemisphere: first instant after the gap.
        Case(
            expression: "*-*-* 02:30",
            zone: "America/New_York",
            after: "2027-03-13T12:00:00Z",
            expected: ["2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z"]
        ),
        Case(
            expression: "*-*-* 02:30",
            zone: "Australia/Sydney",
            after: "2027-10-02T00:00:00Z",
            expected: ["2027-10-02T16:00:00Z", "2027-10-03T15:30:00Z"]
        ),
        Case(
            expression: "*-*-* 02:30",
            zone: "Pacific/Auckland",
            after: "2027-09-25T00:00:00Z",
            expected: ["2027-09-25T14:00:00Z", "2027-09-26T13:30:00Z"]
        ),
        // Santiago springs forward at midnight, so `daily` on that day fires at 01:00 -03.
        Case(
            expression: "daily",
            zone: "America/Santiago",
            after: "2027-09-04T12:00:00Z",
            expected: ["2027-09-05T04:00:00Z", "2027-09-06T03:00:00Z"]
        ),
        // Fixed time in a repeated hour fires once, at the first occurrence.
        Case(
            expression: "*-*-* 02:30",
            zone: "Europe/Berlin",
            after: "2027-10-30T12:00:00Z",
            expected: ["2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"]
        ),
        Case(
            expression: "*-*-* 02:30",
            zone: "Australia/Sydney",
            after: "2027-04-03T12:00:00Z",
            expected: ["2027-04-03T15:30:00Z", "2027-04-04T16:30:00Z"]
        ),
        // Interval-like schedules fire in both passes of the repeated hour and not in the gap.
        Case(
            expression: "*:0/30",
            zone: "Europe/Berlin",
            after: "2027-10-31T00:15:00Z",
            expected: ["2027-10-31T00:30:00Z", "2027-10-31T01:00:00Z", "2027-10-31T01:30:00Z"]
        ),
        Case(
            expression: "*:0/30",
            zone: "America/New_York",
            after: "2027-03-14T06:15:00Z",
            expected: ["2027-03-14T06:30:00Z", "2027-03-14T07:00:00Z", "2027-03-14T07:30:00Z"]
        ),
        // Chatham's +12:45/+13:45 and Lord Howe's 30-minute shift.
        Case(
            expression: "*-*-* 02:15",
            zone: "Pacific/Chatham",
            after: "2027-09-25T00:00:00Z",
            expected: ["2027-09-25T13:30:00Z", "2027-09-26T12:30:00Z"]
        ),
        // Chatham skips 02:45-03:45 on 2027-09-26, so 03:00 fires at 03:45 +1345.
        Case(
            expression: "*-*-* 03:00",
            zone: "Pacific/Chatham",
            after: "2027-09-25T00:00:00Z",
            expected: ["2027-09-25T14:00:00Z", "2027-09-26T13:15:00Z"]
        ),
        Case(
            expression: "*-*-* 02:15",
            zone: "Australia/Lord_Howe",
            after: "2027-10-02T00:00:00Z",
            expected: ["2027-10-02T15:30:00Z", "2027-10-03T15:15:00Z"]
        ),
        Case(
            expression: "*-*-* 03:00",
            zone: "Australia/Adelaide",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T16:30:00Z"]
        ),
        Case(
            expression: "*-*-* 00:00",
            zone: "Asia/Kathmandu",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T18:15:00Z"]
        ),
        Case(
            expression: "*-*-* 00:00",
            zone: "Asia/Kolkata",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T18:30:00Z"]
        ),
        // Leap days, the 31st, the last Friday and year boundaries.
        Case(
            expression: "*-02-29 12:00",
            zone: "UTC",
            after: "2027-01-01T00:00:00Z",
            expected: ["2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"]
        ),
        Case(
            expression: "*-*-31",
            zone: "UTC",
            after: "2027-01-31T00:00:00Z",
            expected: ["2027-03-31T00:00:00Z", "2027-05-31T00:00:00Z", "2027-07-31T00:00:00Z"]
        ),
        Case(
            expression: "Fri *-*~07/1 18:00",
            zone: "UTC",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-29T18:00:00Z", "2027-02-26T18:00:00Z", "2027-03-26T18:00:00Z"]
        ),
        Case(
            expression: "*-02~01",
            zone: "UTC",
            after: "2027-03-01T00:00:00Z",
            expected: ["2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z"]
        ),
        Case(
            expression: "*-12-31 23:59:59",
            zone: "Pacific/Auckland",
            after: "2027-06-01T00:00:00Z",
            expected: ["2027-12-31T10:59:59Z", "2028-12-31T10:59:59Z"]
        ),
        Case(
            expression: "yearly Europe/Moscow",
            zone: "UTC",
            after: "2027-06-01T00:00:00Z",
            expected: ["2027-12-31T21:00:00Z"]
        ),
        Case(
            expression: "*-*-01 02:00 Europe/Moscow",
            zone: "America/New_York",
            after: "2027-01-15T00:00:00Z",
            expected: ["2027-01-31T23:00:00Z"]
        ),
        Case(
            expression: "03:00:07.25",
            zone: "UTC",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T03:00:07Z"]
        ),
    ]

    @Test("Fire times across zones", arguments: Self.cases)
    func fireTimesAcrossZones(_ testCase: Case) throws {
        let actual = try Self.fires(
            testCase.expression,
            testCase.zone,
            after: testCase.after,
            count: testCase.expected.count
        )
        #expect(actual == testCase.expected)
    }

    @Test("Moved fire reports local time")
    func movedFireReportsLocalTime() throws {
        let fire = try Schedule(parsing: "*-*-* 02:30").nextFire(
            after: utc("2027-03-14T00:00:00Z"),
            in: zone("America/New_York")
        )
        #expect(fire?.movedFrom == LocalDateTime(year: 2027, month: 3, day: 14, hour: 2, minute: 30))
    }

    @Test("Syntax is detected")
    func syntaxIsDetected() throws {
        #expect(Schedule.syntax(of: "0 3 * * *") == .cron)
        #expect(Schedule.syntax(of: "@daily") == .cron)
        #expect(Schedule.syntax(of: "daily") == .calendar)
        #expect(Schedule.syntax(of: "Mon *-*-* 03:00") == .calendar)
        #expect(Schedule.syntax(of: "@1700000000") == .calendar)
        #expect(try Schedule(parsing: "*/15 * * * *").isIntervalLike)
        #expect(try Schedule(parsing: "0 */2 * * *").isIntervalLike)
        #expect(try Schedule(parsing: "*:0/15").isIntervalLike)
        #expect(try !Schedule(parsing: "*/15 3 * * *").isIntervalLike)
        #expect(try !Schedule(parsing: "Mon 03:00").isIntervalLike)
    }

    @Test(
        "Invalid expressions are rejected",
        arguments: [
            ("0 3 * *", "exactly 5 are required"),
            ("*-*-* */15:00", "needs a start value"),
            ("Mon..Sat..Sun", "weekday"),
            ("*-*-* 24:00", "out of range"),
            ("Dailly", "shorthand alone such as daily"),
            ("@1700000000", "single instant"),
            ("*-*-* 20/4:00", "never repeats"),
            ("*:*:0/0.5", "whole number of seconds"),
            ("2030-02-30", "never fires"),
            ("@reboot", "not when the daemon starts"),
        ]
    )
    func invalidExpressionsAreRejected(expression: String, fragment: String) {
        let message = Schedule.validate(expression)
        #expect(message?.contains(fragment) == true, "\(expression): \(message ?? "accepted")")
    }
}
