import Foundation
import Schedules
import Testing

@testable import Config

@Suite("Job schedule keys")
struct ScheduleKeysTests {
    static func withKeys(_ keys: String) -> String {
        ConfigFixtures.minimal(replacing: "    train: python", with: keys + "\n    train: python")
    }

    @Test("Schedule keys have defaults")
    func scheduleKeysHaveDefaults() throws {
        let job = try #require(try ConfigFixtures.load(ConfigFixtures.minimal).jobs.first)
        #expect(job.firePolicy.catchUp == .latest)
        #expect(job.firePolicy.startingDeadline == 3600)
        #expect(job.firePolicy.overlap == .skip)
        #expect(job.firePolicy.jitter == Jitter(limit: 0, mode: .stable))
    }

    @Test("Schedule keys are read")
    func scheduleKeysAreRead() throws {
        let text = Self.withKeys(
            "    catch_up: none\n    starting_deadline: 30m\n    overlap: queue\n"
                + "    jitter: 10m\n    jitter_mode: random"
        )
        let job = try #require(try ConfigFixtures.load(text).jobs.first)
        #expect(job.firePolicy.catchUp == CatchUpPolicy.none)
        #expect(job.firePolicy.startingDeadline == 1800)
        #expect(job.firePolicy.overlap == .queue)
        #expect(job.firePolicy.jitter == Jitter(limit: 600, mode: .random))
    }

    @Test("Invalid overlap has position")
    func invalidOverlapHasPosition() throws {
        let error = try #require(ConfigFixtures.singleError(Self.withKeys("    overlap: skipp")))
        #expect(error.key == "jobs.nightly.overlap")
        #expect(error.line == 16)
        #expect(error.column == 14)
        #expect(error.message.hasPrefix("invalid value `skipp`: expected one of"))
        #expect(error.fix == "write `skip`")
    }

    @Test("Calendar schedule is validated")
    func calendarScheduleIsValidated() throws {
        let valid = ConfigFixtures.minimal(replacing: "\"0 3 * * *\"", with: "\"Mon..Fri *-*-* 03:00\"")
        #expect(throws: Never.self) { try ConfigFixtures.load(valid, scheduleValidator: Schedule.validate) }
        let invalid = ConfigFixtures.minimal(replacing: "\"0 3 * * *\"", with: "\"Mon *-*-* 25:00\"")
        let error = try #require(ConfigFixtures.singleError(invalid, scheduleValidator: Schedule.validate))
        #expect(error.key == "jobs.nightly.schedule")
        #expect(error.message.contains("out of range"))
    }
}
