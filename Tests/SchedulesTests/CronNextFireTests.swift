import Foundation
import Schedules
import Testing

@Suite("Cron next fire times")
struct CronNextFireTests {
    struct Case: Sendable, CustomStringConvertible {
        let expression: String
        let after: String
        var zone = "UTC"
        let expected: [String]

        var description: String { "\"\(self.expression)\" after \(self.after) in \(self.zone)" }
    }

    static let utcCases: [Case] = [
        Case(
            expression: "* * * * *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T00:01:00Z", "2027-01-01T00:02:00Z"]
        ),
        Case(expression: "* * * * *", after: "2027-01-01T00:00:30Z", expected: ["2027-01-01T00:01:00Z"]),
        Case(expression: "* * * * *", after: "2027-01-01T00:00:59Z", expected: ["2027-01-01T00:01:00Z"]),
        Case(
            expression: "30 2 * * *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T02:30:00Z", "2027-01-02T02:30:00Z"]
        ),
        Case(expression: "30 2 * * *", after: "2027-01-01T02:30:00Z", expected: ["2027-01-02T02:30:00Z"]),
        Case(expression: "30 2 * * *", after: "2027-01-01T02:29:59Z", expected: ["2027-01-01T02:30:00Z"]),
        Case(
            expression: "59 23 31 12 *",
            after: "2027-06-01T00:00:00Z",
            expected: ["2027-12-31T23:59:00Z", "2028-12-31T23:59:00Z"]
        ),
        Case(
            expression: "0 0 29 2 *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"]
        ),
        Case(
            expression: "0 0 29 2 *",
            after: "2096-03-01T00:00:00Z",
            expected: ["2104-02-29T00:00:00Z"]
        ),
        Case(
            expression: "0 0 31 * *",
            after: "2027-01-01T00:00:00Z",
            expected: [
                "2027-01-31T00:00:00Z", "2027-03-31T00:00:00Z", "2027-05-31T00:00:00Z", "2027-07-31T00:00:00Z",
                "2027-08-31T00:00:00Z", "2027-10-31T00:00:00Z", "2027-12-31T00:00:00Z",
            ]
        ),
        Case(
            expression: "0 12 30 * *",
            after: "2027-01-31T00:00:00Z",
            expected: ["2027-03-30T12:00:00Z", "2027-04-30T12:00:00Z"]
        ),
        // Both day fields restricted: the 1st, the 15th and every Friday.
        Case(
            expression: "0 0 1,15 * 5",
            after: "2027-01-01T00:00:00Z",
            expected: [
                "2027-01-08T00:00:00Z", "2027-01-15T00:00:00Z", "2027-01-22T00:00:00Z", "2027-01-29T00:00:00Z",
                "2027-02-01T00:00:00Z", "2027-02-05T00:00:00Z", "2027-02-12T00:00:00Z", "2027-02-15T00:00:00Z",
            ]
        ),
        // February 30 never exists, but the OR rule still fires on Mondays in February.
        Case(
            expression: "0 0 30 2 MON",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-02-01T00:00:00Z", "2027-02-08T00:00:00Z"]
        ),
        // Day-of-month starts with `*`, so the fields AND: Mondays that fall on odd days.
        Case(
            expression: "0 0 */2 * 1",
            after: "2027-01-01T00:00:00Z",
            expected: [
                "2027-01-11T00:00:00Z", "2027-01-25T00:00:00Z", "2027-02-01T00:00:00Z", "2027-02-15T00:00:00Z",
            ]
        ),
        // Day-of-week starts with `*`, so the fields AND: the first Sunday of each month.
        Case(
            expression: "0 0 1-7 * */7",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-03T00:00:00Z", "2027-02-07T00:00:00Z", "2027-03-07T00:00:00Z"]
        ),
        // Day-of-month is `*`, so only the weekday counts.
        Case(
            expression: "0 0 * * 3",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-06T00:00:00Z", "2027-01-13T00:00:00Z"]
        ),
        // February 29 on a Sunday, with the AND rule: 28 years apart, beyond a short search window.
        Case(
            expression: "0 0 29 2 */7",
            after: "2027-01-01T00:00:00Z",
            expected: ["2032-02-29T00:00:00Z", "2060-02-29T00:00:00Z"]
        ),
    ]

    @Test("Fire times in UTC", arguments: Self.utcCases)
    func fireTimesInUTC(_ testCase: Case) throws {
        let times = try fireTimes(testCase.expression, after: testCase.after, count: testCase.expected.count)
        #expect(times == testCase.expected)
    }

    static let syntaxCases: [Case] = [
        Case(
            expression: "*/15 * * * *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T00:15:00Z", "2027-01-01T00:30:00Z", "2027-01-01T00:45:00Z", "2027-01-01T01:00:00Z"]
        ),
        Case(
            expression: "5-20/5 * * * *",
            after: "2027-01-01T00:00:00Z",
            expected: [
                "2027-01-01T00:05:00Z", "2027-01-01T00:10:00Z", "2027-01-01T00:15:00Z", "2027-01-01T00:20:00Z",
                "2027-01-01T01:05:00Z",
            ]
        ),
        // `a/n` runs from a to the field's maximum.
        Case(
            expression: "50/5 * * * *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T00:50:00Z", "2027-01-01T00:55:00Z", "2027-01-01T01:50:00Z"]
        ),
        // Steps restart in each hour and day, so */35 is :00 and :35 and */23 is 00:00 and 23:00.
        Case(
            expression: "*/35 * * * *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T00:35:00Z", "2027-01-01T01:00:00Z", "2027-01-01T01:35:00Z"]
        ),
        Case(
            expression: "0 */23 * * *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T23:00:00Z", "2027-01-02T00:00:00Z", "2027-01-02T23:00:00Z"]
        ),
        Case(
            expression: "0,30 8-9 * * *",
            after: "2027-01-01T00:00:00Z",
            expected: [
                "2027-01-01T08:00:00Z", "2027-01-01T08:30:00Z", "2027-01-01T09:00:00Z", "2027-01-01T09:30:00Z",
                "2027-01-02T08:00:00Z",
            ]
        ),
        // Monday, Wednesday, Friday and, through 7, Sunday. 2027-01-01 is a Friday.
        Case(
            expression: "0 0 * * 1/2",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-03T00:00:00Z", "2027-01-04T00:00:00Z", "2027-01-06T00:00:00Z", "2027-01-08T00:00:00Z"]
        ),
        Case(
            expression: "0 9 * * MON-FRI",
            after: "2027-01-01T09:00:00Z",
            expected: [
                "2027-01-04T09:00:00Z", "2027-01-05T09:00:00Z", "2027-01-06T09:00:00Z", "2027-01-07T09:00:00Z",
                "2027-01-08T09:00:00Z", "2027-01-11T09:00:00Z",
            ]
        ),
        Case(
            expression: "0 9 * * sat,Sun",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-02T09:00:00Z", "2027-01-03T09:00:00Z", "2027-01-09T09:00:00Z"]
        ),
        // A weekday range may end at 7, SUN or 0, all meaning Sunday: Friday through Sunday.
        Case(
            expression: "0 0 * * FRI-7",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-02T00:00:00Z", "2027-01-03T00:00:00Z", "2027-01-08T00:00:00Z"]
        ),
        Case(
            expression: "0 0 * * fri-SUN",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-02T00:00:00Z", "2027-01-03T00:00:00Z", "2027-01-08T00:00:00Z"]
        ),
        Case(
            expression: "0 0 * * 5-0",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-02T00:00:00Z", "2027-01-03T00:00:00Z", "2027-01-08T00:00:00Z"]
        ),
        Case(
            expression: "0 0 * * MON-SUN",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-02T00:00:00Z", "2027-01-03T00:00:00Z", "2027-01-04T00:00:00Z"]
        ),
        Case(
            expression: "0 0 * * 7",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-03T00:00:00Z", "2027-01-10T00:00:00Z"]
        ),
        Case(
            expression: "0 0 * * 0",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-03T00:00:00Z", "2027-01-10T00:00:00Z"]
        ),
        Case(
            expression: "0 0 1 jan,Jul *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-07-01T00:00:00Z", "2028-01-01T00:00:00Z"]
        ),
        Case(
            expression: "0 0 1 oct-DEC *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-10-01T00:00:00Z", "2027-11-01T00:00:00Z", "2027-12-01T00:00:00Z", "2028-10-01T00:00:00Z"]
        ),
        Case(
            expression: "0 0 1 FEB/3 *",
            after: "2027-01-01T00:00:00Z",
            expected: [
                "2027-02-01T00:00:00Z", "2027-05-01T00:00:00Z", "2027-08-01T00:00:00Z", "2027-11-01T00:00:00Z",
                "2028-02-01T00:00:00Z",
            ]
        ),
        Case(
            expression: "0 0 1 */4 *",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-05-01T00:00:00Z", "2027-09-01T00:00:00Z", "2028-01-01T00:00:00Z"]
        ),
        Case(
            expression: "@hourly",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-01T01:00:00Z", "2027-01-01T02:00:00Z"]
        ),
        Case(
            expression: "@daily",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-02T00:00:00Z", "2027-01-03T00:00:00Z"]
        ),
        Case(expression: "@midnight", after: "2027-01-01T12:00:00Z", expected: ["2027-01-02T00:00:00Z"]),
        Case(expression: "@DAILY", after: "2027-01-01T12:00:00Z", expected: ["2027-01-02T00:00:00Z"]),
        Case(
            expression: "@weekly",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-01-03T00:00:00Z", "2027-01-10T00:00:00Z"]
        ),
        Case(
            expression: "@monthly",
            after: "2027-01-01T00:00:00Z",
            expected: ["2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"]
        ),
        Case(
            expression: "@yearly",
            after: "2027-01-01T00:00:00Z",
            expected: ["2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"]
        ),
        Case(expression: "@annually", after: "2026-12-31T23:59:59Z", expected: ["2027-01-01T00:00:00Z"]),
    ]

    @Test("Names, ranges, steps and macros", arguments: Self.syntaxCases)
    func namesRangesStepsAndMacros(_ testCase: Case) throws {
        let times = try fireTimes(testCase.expression, after: testCase.after, count: testCase.expected.count)
        #expect(times == testCase.expected)
    }

    static let offsetCases: [Case] = [
        // 02:30 IST on 1 January is still 31 December in UTC, before the reference time.
        Case(
            expression: "30 2 * * *",
            after: "2027-01-01T00:00:00Z",
            zone: "Asia/Kolkata",
            expected: ["2027-01-01T21:00:00Z", "2027-01-02T21:00:00Z"]
        ),
        Case(
            expression: "0 0 * * *",
            after: "2027-01-01T00:00:00Z",
            zone: "Asia/Kathmandu",
            expected: ["2027-01-01T18:15:00Z", "2027-01-02T18:15:00Z"]
        ),
        Case(
            expression: "*/30 * * * *",
            after: "2027-01-01T00:00:00Z",
            zone: "Asia/Kathmandu",
            expected: ["2027-01-01T00:15:00Z", "2027-01-01T00:45:00Z", "2027-01-01T01:15:00Z"]
        ),
        Case(
            expression: "0 9 * * MON",
            after: "2027-01-01T00:00:00Z",
            zone: "Asia/Kolkata",
            expected: ["2027-01-04T03:30:00Z", "2027-01-11T03:30:00Z"]
        ),
        // The day of the month is read in the zone: 1 January starts at 18:15Z on 31 December.
        Case(
            expression: "0 0 1 * *",
            after: "2026-12-31T00:00:00Z",
            zone: "Asia/Kathmandu",
            expected: ["2026-12-31T18:15:00Z", "2027-01-31T18:15:00Z"]
        ),
        Case(
            expression: "0 0 * * FRI",
            after: "2027-01-01T00:00:00Z",
            zone: "America/New_York",
            expected: ["2027-01-01T05:00:00Z", "2027-01-08T05:00:00Z"]
        ),
        Case(
            expression: "0 0 29 2 *",
            after: "2027-01-01T00:00:00Z",
            zone: "Australia/Sydney",
            expected: ["2028-02-28T13:00:00Z", "2032-02-28T13:00:00Z"]
        ),
    ]

    @Test("Fire times at fixed offsets", arguments: Self.offsetCases)
    func fireTimesAtFixedOffsets(_ testCase: Case) throws {
        let times = try fireTimes(
            testCase.expression,
            after: testCase.after,
            in: testCase.zone,
            count: testCase.expected.count
        )
        #expect(times == testCase.expected)
    }

    @Test("Impossible schedule has no fire time", arguments: ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6 */7"])
    func impossibleScheduleHasNoFireTime(_ expression: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        #expect(!schedule.isSatisfiable)
        #expect(schedule.nextFire(after: utc("2027-01-01T00:00:00Z"), in: zone("UTC")) == nil)
        #expect(schedule.fireTimes(after: utc("2027-01-01T00:00:00Z"), in: zone("UTC"), count: 3).isEmpty)
    }

    @Test("Fire times with zero count")
    func fireTimesWithZeroCount() throws {
        let schedule = try CronSchedule(parsing: "* * * * *")
        #expect(schedule.fireTimes(after: utc("2027-01-01T00:00:00Z"), in: zone("UTC"), count: 0).isEmpty)
        #expect(schedule.fireTimes(after: utc("2027-01-01T00:00:00Z"), in: zone("UTC"), count: -1).isEmpty)
    }

    @Test("Description is the expression")
    func descriptionIsTheExpression() throws {
        let schedule = try CronSchedule(parsing: "@daily")
        #expect(schedule.description == "@daily")
        #expect(schedule.expression == "@daily")
        #expect(schedule == (try CronSchedule(parsing: "@daily")))
    }

    @Test("Non-finite reference time")
    func nonFiniteReferenceTime() throws {
        let schedule = try CronSchedule(parsing: "* * * * *")
        #expect(schedule.nextFire(after: Date(timeIntervalSince1970: .infinity), in: zone("UTC")) == nil)
        #expect(schedule.nextFire(after: Date(timeIntervalSince1970: .nan), in: zone("UTC")) == nil)
    }

    @Test("Reference time before 1970")
    func referenceTimeBefore1970() throws {
        let times = try fireTimes("0 12 * * *", after: "1969-12-31T12:00:00Z", count: 2)
        #expect(times == ["1970-01-01T12:00:00Z", "1970-01-02T12:00:00Z"])
    }
}
