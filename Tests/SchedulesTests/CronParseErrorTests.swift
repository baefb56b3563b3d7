import Schedules
import Testing

@Suite("Cron parse errors")
struct CronParseErrorTests {
    struct Case: Sendable, CustomStringConvertible {
        let expression: String
        let error: CronParseError
        /// Fragments the message must contain: usually the field, the token, what is allowed and the fix.
        let fragments: [String]

        var description: String { "\"\(self.expression)\"" }
    }

    static let cases: [Case] = [
        Case(expression: "", error: .emptyExpression, fragments: ["empty", "five fields", "0 3 * * *"]),
        Case(expression: " \t ", error: .emptyExpression, fragments: ["empty"]),
        Case(
            expression: "0 0 * *",
            error: .wrongFieldCount(expression: "0 0 * *", count: 4),
            fragments: ["found 4 fields", "exactly 5", "minute hour day-of-month month day-of-week", "Add the missing"]
        ),
        Case(
            expression: "0 0 0 * * *",
            error: .wrongFieldCount(expression: "0 0 0 * * *", count: 6),
            fragments: ["found 6 fields", "Seconds and year fields are not supported"]
        ),
        Case(
            expression: "@reboot",
            error: .rebootNotSupported(expression: "@reboot"),
            fragments: ["\"@reboot\" is not supported", "@daily"]
        ),
        Case(
            expression: "@REBOOT",
            error: .rebootNotSupported(expression: "@REBOOT"),
            fragments: ["not supported"]
        ),
        Case(
            expression: "@every 5m",
            error: .invalidMacro(expression: "@every 5m", macro: "@every"),
            fragments: ["\"@every\" is not a supported macro", "@hourly", "@annually"]
        ),
        Case(
            expression: "@daily 0",
            error: .invalidMacro(expression: "@daily 0", macro: "@daily"),
            fragments: ["written alone"]
        ),
        Case(
            expression: "60 * * * *",
            error: .valueOutOfRange(expression: "60 * * * *", field: .minute, token: "60"),
            fragments: ["invalid minute \"60\"", "out of range", "0-59", "from 0 to 59"]
        ),
        Case(
            expression: "0 24 * * *",
            error: .valueOutOfRange(expression: "0 24 * * *", field: .hour, token: "24"),
            fragments: ["invalid hour \"24\"", "0-23"]
        ),
        Case(
            expression: "0 0 0 * *",
            error: .valueOutOfRange(expression: "0 0 0 * *", field: .dayOfMonth, token: "0"),
            fragments: ["invalid day-of-month \"0\"", "1-31"]
        ),
        Case(
            expression: "0 0 32 * *",
            error: .valueOutOfRange(expression: "0 0 32 * *", field: .dayOfMonth, token: "32"),
            fragments: ["invalid day-of-month \"32\"", "from 1 to 31"]
        ),
        Case(
            expression: "0 0 * 13 *",
            error: .valueOutOfRange(expression: "0 0 * 13 *", field: .month, token: "13"),
            fragments: ["invalid month \"13\"", "1-12 or JAN-DEC"]
        ),
        Case(
            expression: "0 0 * 0 *",
            error: .valueOutOfRange(expression: "0 0 * 0 *", field: .month, token: "0"),
            fragments: ["invalid month \"0\""]
        ),
        Case(
            expression: "0 0 * * 8",
            error: .valueOutOfRange(expression: "0 0 * * 8", field: .dayOfWeek, token: "8"),
            fragments: ["invalid day-of-week \"8\"", "0-7 (0 and 7 are Sunday) or SUN-SAT"]
        ),
        Case(
            expression: "99999999999999999999 * * * *",
            error: .valueOutOfRange(
                expression: "99999999999999999999 * * * *",
                field: .minute,
                token: "99999999999999999999"
            ),
            fragments: ["out of range"]
        ),
        Case(
            expression: "*/0 * * * *",
            error: .invalidStep(expression: "*/0 * * * *", field: .minute, token: "*/0"),
            fragments: ["invalid minute \"*/0\"", "step", "from 1 to 59", "*/15"]
        ),
        Case(
            expression: "0 */24 * * *",
            error: .invalidStep(expression: "0 */24 * * *", field: .hour, token: "*/24"),
            fragments: ["invalid hour \"*/24\"", "from 1 to 23"]
        ),
        Case(
            expression: "0 0 * * 1/",
            error: .invalidStep(expression: "0 0 * * 1/", field: .dayOfWeek, token: "1/"),
            fragments: ["invalid day-of-week \"1/\"", "step"]
        ),
        Case(
            expression: "0 0 * * 1/x",
            error: .invalidStep(expression: "0 0 * * 1/x", field: .dayOfWeek, token: "1/x"),
            fragments: ["whole number"]
        ),
        Case(
            expression: "1,,2 * * * *",
            error: .emptyListItem(expression: "1,,2 * * * *", field: .minute, fieldText: "1,,2"),
            fragments: ["invalid minute \"1,,2\"", "empty item", "Remove the extra comma, as in \"1,2\""]
        ),
        Case(
            expression: "0 0 * * 1,",
            error: .emptyListItem(expression: "0 0 * * 1,", field: .dayOfWeek, fieldText: "1,"),
            fragments: ["empty item"]
        ),
        Case(
            expression: "0 22-2 * * *",
            error: .reversedRange(expression: "0 22-2 * * *", field: .hour, token: "22-2", start: 22, end: 2),
            fragments: ["invalid hour \"22-2\"", "do not wrap", "22-23,0-2"]
        ),
        Case(
            expression: "0 0 * NOV-FEB *",
            error: .reversedRange(expression: "0 0 * NOV-FEB *", field: .month, token: "NOV-FEB", start: 11, end: 2),
            fragments: ["invalid month \"NOV-FEB\"", "11-12,1-2"]
        ),
        Case(
            expression: "0 23-0 * * *",
            error: .reversedRange(expression: "0 23-0 * * *", field: .hour, token: "23-0", start: 23, end: 0),
            fragments: ["Write it as two ranges: 23,0"]
        ),
        Case(
            expression: "0 0 * * SAT-MON",
            error: .reversedRange(
                expression: "0 0 * * SAT-MON",
                field: .dayOfWeek,
                token: "SAT-MON",
                start: 6,
                end: 1
            ),
            fragments: ["invalid day-of-week \"SAT-MON\"", "6-7,0-1"]
        ),
        Case(
            expression: "x * * * *",
            error: .invalidToken(expression: "x * * * *", field: .minute, token: "x"),
            fragments: ["invalid minute \"x\"", "0-59", "*/n", "For example \"30\""]
        ),
        Case(
            expression: "0 MON * * *",
            error: .invalidToken(expression: "0 MON * * *", field: .hour, token: "MON"),
            fragments: ["names are only allowed in the month and day-of-week fields", "For example \"2\""]
        ),
        Case(
            expression: "0 0 * MON *",
            error: .invalidToken(expression: "0 0 * MON *", field: .month, token: "MON"),
            fragments: ["invalid month \"MON\"", "1-12 or JAN-DEC"]
        ),
        Case(
            expression: "0 0 * * MONDAY",
            error: .invalidToken(expression: "0 0 * * MONDAY", field: .dayOfWeek, token: "MONDAY"),
            fragments: ["three letters", "Write MON"]
        ),
        Case(
            expression: "0 0 * * MON-",
            error: .invalidToken(expression: "0 0 * * MON-", field: .dayOfWeek, token: "MON-"),
            fragments: ["invalid day-of-week \"MON-\""]
        ),
        Case(
            expression: "0 0 * * -1",
            error: .invalidToken(expression: "0 0 * * -1", field: .dayOfWeek, token: "-1"),
            fragments: ["invalid day-of-week \"-1\""]
        ),
        Case(
            expression: "0 0 1-2-3 * *",
            error: .invalidToken(expression: "0 0 1-2-3 * *", field: .dayOfMonth, token: "1-2-3"),
            fragments: ["invalid day-of-month \"1-2-3\""]
        ),
        Case(
            expression: "*/5/2 * * * *",
            error: .invalidToken(expression: "*/5/2 * * * *", field: .minute, token: "*/5/2"),
            fragments: ["invalid minute \"*/5/2\""]
        ),
        Case(
            expression: "0 0 ? * 1",
            error: .invalidToken(expression: "0 0 ? * 1", field: .dayOfMonth, token: "?"),
            fragments: ["\"?\" is not supported", "Use * for any value"]
        ),
        Case(
            expression: "0 0 L * *",
            error: .invalidToken(expression: "0 0 L * *", field: .dayOfMonth, token: "L"),
            fragments: ["L, W and # are not supported"]
        ),
        Case(
            expression: "0 0 15W * *",
            error: .invalidToken(expression: "0 0 15W * *", field: .dayOfMonth, token: "15W"),
            fragments: ["L, W and # are not supported"]
        ),
        Case(
            expression: "0 0 * * 5#3",
            error: .invalidToken(expression: "0 0 * * 5#3", field: .dayOfWeek, token: "5#3"),
            fragments: ["L, W and # are not supported", "for example \"MON-FRI\""]
        ),
        Case(
            expression: "0~30 * * * *",
            error: .invalidToken(expression: "0~30 * * * *", field: .minute, token: "0~30"),
            fragments: ["random values (~) are not supported"]
        ),
    ]

    @Test("Parse error and message", arguments: Self.cases)
    func parseErrorAndMessage(_ testCase: Case) {
        var thrown: CronParseError?
        do {
            _ = try CronSchedule(parsing: testCase.expression)
        } catch {
            thrown = error
        }
        #expect(thrown == testCase.error)
        let message = thrown?.description ?? ""
        for fragment in testCase.fragments {
            #expect(message.contains(fragment), "message lacks \"\(fragment)\": \(message)")
        }
    }

    @Test("Validate returns the parse error text", arguments: Self.cases)
    func validateReturnsParseErrorText(_ testCase: Case) {
        #expect(CronSchedule.validate(testCase.expression) == testCase.error.description)
    }

    @Test(
        "Validate accepts valid schedules",
        arguments: [
            "0 3 * * *", "@daily", "@Hourly", "*/15 9-17 * * MON-FRI", "0 0 29 2 *", "0 0 31 1-12 *",
            "0 0 30 2 1", " 0  3 *\t* * ",
        ]
    )
    func validateAcceptsValidSchedules(_ expression: String) {
        #expect(CronSchedule.validate(expression) == nil)
    }

    @Test("Validate rejects never-firing schedules", arguments: ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 */7"])
    func validateRejectsNeverFiringSchedules(_ expression: String) throws {
        let message = try #require(CronSchedule.validate(expression))
        #expect(message.contains("\"\(expression)\" never fires"))
        #expect(message.contains("February 29"))
    }
}
