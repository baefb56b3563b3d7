import Foundation
import Schedules
import Support
import Testing

/// Compares `CalendarSchedule` with `systemd-analyze calendar` (systemd 252) on a fixed table and on seeded random
/// expressions, over random base times and zones. Instants where nightshift's daylight saving time policy
/// deliberately differs from systemd are left out by rule: fixed-time fires moved out of a gap (systemd skips that
/// day) and interval-like fires in the second pass of a repeated hour (systemd skips them).
@Suite("Calendar schedule against systemd-analyze")
struct SystemdOracleTests {
    static let executable = "/usr/bin/systemd-analyze"
    static let iterations = 24

    static let zones = [
        "UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago", "Pacific/Auckland",
        "Asia/Kolkata", "Australia/Adelaide", "Asia/Kathmandu", "Pacific/Chatham", "Australia/Lord_Howe",
        "Europe/Moscow", "America/Sao_Paulo",
    ]

    static let fixedExpressions = [
        "Mon *-*-* 03:00", "daily", "weekly", "monthly", "hourly", "minutely", "quarterly", "semiannually",
        "yearly", "annually", "Mon..Fri 03:00", "Sat,Sun 10:30", "Mon-Wed,Fri 1:2:3", "*-*~01", "*-02~03/1",
        "*-*~07/2 04:00", "Fri *-*~07/1 23:00", "*-*~1..3 12:00", "*-*-31 02:30", "*-02-29 00:00",
        "2028/4-02-29 12:00", "*:0/15", "*-*-* 0/2:00", "*-*-* 1..5/2:30", "*-*-1..7 3:0", "Sun *-*-1..7 01:30",
        "*-*-* 02:30:00", "*-*-* 01:30", "*-*-* 00:00:07.25", "*-*-* *:*:0/20", "*-1..12/3-1 06:00",
        "*-*-5/10 18:45", "Thu,Fri *-*-1,5 11:12:13", "*-*-* 02,03:00,30", "*:00", "*:30", "*-*-* 2:*",
        "2027..2029-01-01", "*-12-31 23:59:59", "*-01-01 00:00:00", "Mon *-05~07/1 08:00", "*-*-* 00/3:15",
    ]

    /// 2038-01-01T00:00:00Z.
    static let endOfComparison = 2_145_916_800

    struct Oracle {
        let expression: String
        let fires: [Int]
    }

    /// Runs one `systemd-analyze` process for all expressions at one base time and returns each one's fires.
    static func runSystemd(_ expressions: [String], base: Int) throws -> [Oracle] {
        // Standard error goes to its own file, because it would otherwise land inside buffered output lines.
        let errorPath = NSTemporaryDirectory() + "nightshift-systemd-analyze-\(UUID().uuidString).err"
        defer { unlink(errorPath) }
        let arguments =
            [
                "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"\(errorPath)\"", Self.executable, "calendar",
                "--iterations=\(Self.iterations)", "--base-time=@\(base)",
            ] + expressions
        let result = try Subprocess.run(arguments, environment: ["TZ": "UTC", "LC_ALL": "C", "SYSTEMD_COLORS": "0"])
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        // systemd-analyze reports each expression it rejects and prints blocks for the others, in order.
        let rejectedPrefix = "Failed to parse calendar specification '"
        let rejected = errors.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: rejectedPrefix) else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "'" })
        }
        for expression in rejected {
            #expect(
                (try? CalendarSchedule(parsing: expression)) == nil,
                "systemd rejects \(expression), but nightshift accepts it"
            )
        }
        // systemd 252 gives up on some expressions near DST changes with "Resource deadlock avoided" and prints no
        // block for them, so they are left out.
        let failedPrefix = "Failed to determine next elapse for '"
        let failed = errors.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: failedPrefix) else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "'" })
        }
        let expressions = expressions.filter { !rejected.contains($0) && !failed.contains($0) }
        #expect(
            result.status == 0 || !rejected.isEmpty || !failed.isEmpty,
            "systemd-analyze failed: \(errors.prefix(500))"
        )

        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"

        var oracles: [Oracle] = []
        var current: [Int] = []
        var started = false
        for line in result.output.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("Normalized form:") {
                if started {
                    oracles.append(Oracle(expression: expressions[oracles.count], fires: current))
                }
                started = true
                current = []
            } else if text.hasPrefix("Next elapse:") || text.hasPrefix("Iter. #") {
                let value = text.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
                if value == "never" {
                    continue
                }
                // "Thu 2026-01-01 23:00:00 UTC": drop the weekday and the zone.
                let parts = value.split(separator: " ")
                guard parts.count == 4, let date = formatter.date(from: "\(parts[1]) \(parts[2])") else {
                    Issue.record("unparsed systemd-analyze line: \(text)")
                    continue
                }
                current.append(Int(date.timeIntervalSince1970))
            }
        }
        if started {
            oracles.append(Oracle(expression: expressions[oracles.count], fires: current))
        }
        #expect(oracles.count == expressions.count, "expected one block per expression")
        return oracles
    }

    /// Returns whether `instant` falls in the second pass of a repeated local time, where an offset decrease at
    /// a transition makes clocks show times again.
    static func isInRepeatedPass(_ instant: Int, zone: TimeZone) -> Bool {
        let now = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
        // Offset changes are at most a day apart from their repeated span in every zone in the table.
        for lookBack in stride(from: 60, through: 86_400, by: 60) {
            let earlier = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant - lookBack)))
            if earlier > now {
                return lookBack <= earlier - now
            }
        }
        return false
    }

    /// Compares nightshift with one systemd block. Returns the number of instants compared.
    static func compare(_ oracle: Oracle, base: Int) throws -> Int {
        let schedule = try CalendarSchedule(parsing: oracle.expression)
        // systemd 252 skips some fires in 2038 and later (for example 2038-01-03 for `*-*-3/23 19:59:00
        // Asia/Kolkata`), so only instants before 2038 are compared.
        let oracle = Oracle(expression: oracle.expression, fires: oracle.fires.filter { $0 < Self.endOfComparison })
        let zone = schedule.effectiveTimeZone(default: TimeZone(identifier: "UTC")!)
        guard let last = oracle.fires.last else {
            let next = schedule.nextFire(after: Date(timeIntervalSince1970: Double(base)), in: zone)
                .map { Int($0.date.timeIntervalSince1970) }
            #expect(
                next == nil || next! >= Self.endOfComparison,
                "\(oracle.expression) at base \(base): systemd never fires, nightshift does"
            )
            return 0
        }
        var ours: [Int] = []
        var cursor = Date(timeIntervalSince1970: Double(base))
        while let fire = schedule.nextFire(after: cursor, in: zone), Int(fire.date.timeIntervalSince1970) <= last {
            cursor = fire.date
            let instant = Int(fire.date.timeIntervalSince1970)
            if fire.movedFrom != nil {
                continue
            }
            if schedule.isIntervalLike, Self.isInRepeatedPass(instant, zone: zone) {
                continue
            }
            ours.append(instant)
            if ours.count > 10 * Self.iterations {
                break
            }
        }
        let theirs = oracle.fires.filter { instant in
            !(schedule.isIntervalLike && Self.isInRepeatedPass(instant, zone: zone))
        }
        let firstDifference =
            (0..<min(ours.count, theirs.count)).first { ours[$0] != theirs[$0] } ?? min(ours.count, theirs.count)
        let shown = { (values: [Int]) in
            values.dropFirst(max(0, firstDifference - 1)).prefix(4).map { iso(Date(timeIntervalSince1970: Double($0))) }
        }
        #expect(
            ours == theirs,
            Comment(
                rawValue: "\(oracle.expression) after \(iso(Date(timeIntervalSince1970: Double(base)))): from fire "
                    + "\(firstDifference) nightshift \(shown(ours)), systemd \(shown(theirs))"
            )
        )
        return theirs.count
    }

    /// A small deterministic generator (SplitMix64), so a failing random case repeats on every run.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var value = self.state
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            return value ^ (value >> 31)
        }
    }

    static func randomComponent(_ minimum: Int, _ maximum: Int, using random: inout SeededGenerator) -> String {
        switch Int.random(in: 0..<10, using: &random) {
        case 0...2:
            return "*"
        case 3...4:
            return String(Int.random(in: minimum...maximum, using: &random))
        case 5:
            let values = (0..<Int.random(in: 2...4, using: &random)).map { _ in
                Int.random(in: minimum...maximum, using: &random)
            }
            return Set(values).sorted().map(String.init).joined(separator: ",")
        case 6...7:
            let low = Int.random(in: minimum...maximum, using: &random)
            let high = Int.random(in: low...maximum, using: &random)
            return "\(low)..\(high)"
        default:
            let start = Int.random(in: minimum...max(minimum, maximum / 2), using: &random)
            let step = Int.random(in: 1...max(1, maximum - start), using: &random)
            return "\(start)/\(step)"
        }
    }

    static func randomExpression(using random: inout SeededGenerator) -> String {
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        var parts: [String] = []
        if Int.random(in: 0..<4, using: &random) == 0 {
            let low = Int.random(in: 0..<7, using: &random)
            let high = Int.random(in: low..<7, using: &random)
            parts.append(low == high ? names[low] : "\(names[low])..\(names[high])")
        }
        let month = Self.randomComponent(1, 12, using: &random)
        var day = Self.randomComponent(1, 28, using: &random)
        let dayParts = day.split(separator: "/").compactMap { Int($0) }
        if dayParts.count == 2 {
            // systemd 252 skips the first January match of a day repetition after December (`*-*-3/23` after
            // 2034-12-27 gives 2035-01-26, but `*-*-3,26` gives 2035-01-03), so repetitions are written as lists.
            day = stride(from: dayParts[0], through: 28, by: dayParts[1]).map(String.init).joined(separator: ",")
        }
        if Int.random(in: 0..<5, using: &random) == 0 {
            let offset = Int.random(in: 1...7, using: &random)
            let step = Int.random(in: 1...3, using: &random)
            day = offset <= step || Bool.random(using: &random) ? "~\(offset)" : "~\(offset)/\(step)"
            parts.append("*-\(month)\(day)")
        } else {
            parts.append("*-\(month)-\(day)")
        }
        let hour = Self.randomComponent(0, 23, using: &random)
        let minute = Self.randomComponent(0, 59, using: &random)
        let second = Int.random(in: 0..<6, using: &random) == 0 ? Self.randomComponent(0, 59, using: &random) : "00"
        parts.append("\(hour):\(minute):\(second)")
        let zone = Self.zones[Int.random(in: 0..<Self.zones.count, using: &random)]
        if zone != "UTC" || Bool.random(using: &random) {
            parts.append(zone)
        }
        return parts.joined(separator: " ")
    }

    @Test("Fixed table matches systemd", .enabled(if: FileManager.default.isExecutableFile(atPath: executable)))
    func fixedTableMatchesSystemd() throws {
        var random = SeededGenerator(state: 20_270_314)
        var compared = 0
        for round in 0..<6 {
            // Bases from 2026 to 2036, so some windows contain daylight saving time changes.
            let base = Int.random(in: 1_767_225_600..<2_114_380_800, using: &random)
            let zone = Self.zones[round % Self.zones.count]
            let expressions = Self.fixedExpressions.map { $0 + " " + zone }
            for oracle in try Self.runSystemd(expressions, base: base) {
                compared += try Self.compare(oracle, base: base)
            }
        }
        #expect(compared > 2000)
    }

    @Test("Random expressions match systemd", .enabled(if: FileManager.default.isExecutableFile(atPath: executable)))
    func randomExpressionsMatchSystemd() throws {
        var random = SeededGenerator(state: 0x5EED_CA1E)
        var compared = 0
        for _ in 0..<8 {
            let base = Int.random(in: 1_767_225_600..<2_114_380_800, using: &random)
            let expressions = (0..<40).map { _ in Self.randomExpression(using: &random) }
            for oracle in try Self.runSystemd(expressions, base: base) {
                compared += try Self.compare(oracle, base: base)
            }
        }
        #expect(compared > 2000)
    }
}
