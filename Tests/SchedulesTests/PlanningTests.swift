import Foundation
import Schedules
import Testing

@Suite("Catch-up, overlap, jitter and tracker")
struct PlanningTests {
    static func nightly(_ policy: CatchUpPolicy = .latest, deadline: TimeInterval = 3600) throws -> JobTiming {
        JobTiming(
            name: "nightly",
            schedule: try Schedule(parsing: "0 3 * * *"),
            timeZone: zone("UTC"),
            catchUp: policy,
            startingDeadline: deadline
        )
    }

    @Test("On-time fire starts")
    func onTimeFireStarts() throws {
        let decision = CatchUpPlanner.decide(
            try Self.nightly(.none),
            lastFire: utc("2027-01-01T03:00:00Z"),
            now: utc("2027-01-02T03:00:20Z")
        )
        #expect(decision.fire?.date == utc("2027-01-02T03:00:00Z"))
        #expect(decision.missed == nil)
        #expect(decision.nextDue == utc("2027-01-03T03:00:00Z"))
    }

    @Test("Latest missed fire within deadline")
    func latestMissedFireWithinDeadline() throws {
        let decision = CatchUpPlanner.decide(
            try Self.nightly(),
            lastFire: utc("2027-01-01T03:00:00Z"),
            now: utc("2027-01-04T03:30:00Z")
        )
        #expect(decision.fire?.date == utc("2027-01-04T03:00:00Z"))
        #expect(decision.missed?.count == 2)
        #expect(decision.missed?.first.date == utc("2027-01-02T03:00:00Z"))
        #expect(decision.missed?.last.date == utc("2027-01-03T03:00:00Z"))
    }

    @Test("Deadline passed reports all missed")
    func deadlinePassedReportsAllMissed() throws {
        let decision = CatchUpPlanner.decide(
            try Self.nightly(),
            lastFire: utc("2027-01-01T03:00:00Z"),
            now: utc("2027-01-04T05:00:00Z")
        )
        #expect(decision.fire == nil)
        #expect(decision.missed?.count == 3)
        #expect(decision.missed?.last.date == utc("2027-01-04T03:00:00Z"))
        #expect(decision.handledThrough == utc("2027-01-04T03:00:00Z"))
    }

    @Test("Policy none skips late fire")
    func policyNoneSkipsLateFire() throws {
        let decision = CatchUpPlanner.decide(
            try Self.nightly(.none),
            lastFire: utc("2027-01-01T03:00:00Z"),
            now: utc("2027-01-02T03:10:00Z")
        )
        #expect(decision.fire == nil)
        #expect(decision.missed?.count == 1)
    }

    @Test("New job misses nothing")
    func newJobMissesNothing() throws {
        let decision = CatchUpPlanner.decide(try Self.nightly(), lastFire: nil, now: utc("2027-01-02T03:10:00Z"))
        #expect(decision.fire == nil)
        #expect(decision.missed == nil)
        #expect(decision.nextDue == utc("2027-01-03T03:00:00Z"))
    }

    @Test("Long outage counts a lower bound")
    func longOutageCountsALowerBound() throws {
        let timing = JobTiming(name: "often", schedule: try Schedule(parsing: "* * * * *"), timeZone: zone("UTC"))
        let decision = CatchUpPlanner.decide(
            timing,
            lastFire: utc("2027-01-01T00:00:00Z"),
            now: utc("2027-03-01T00:00:30Z")
        )
        #expect(decision.fire?.date == utc("2027-03-01T00:00:00Z"))
        #expect(decision.missed?.countIsLowerBound == true)
        #expect(decision.missed?.first.date == utc("2027-01-01T00:01:00Z"))
        #expect(decision.missed?.last.date == utc("2027-02-28T23:59:00Z"))
    }

    @Test("Overlap decisions")
    func overlapDecisions() {
        #expect(OverlapPolicy.skip.decide(runIsActive: false, runIsQueued: false) == .start)
        #expect(OverlapPolicy.skip.decide(runIsActive: true, runIsQueued: false) == .skip(.runActive))
        #expect(OverlapPolicy.queue.decide(runIsActive: true, runIsQueued: false) == .enqueue)
        #expect(OverlapPolicy.queue.decide(runIsActive: true, runIsQueued: true) == .skip(.queueFull))
        #expect(OverlapPolicy.queue.decide(runIsActive: false, runIsQueued: true) == .start)
    }

    @Test("Jitter stays in range")
    func jitterStaysInRange() {
        let seed = Jitter.seed(from: "gpu-host-1")
        let stable = Jitter(limit: 600, mode: .stable)
        let random = Jitter(limit: 600, mode: .random)
        var stableDelays = Set<TimeInterval>()
        var randomDelays = Set<TimeInterval>()
        for day in 0..<50 {
            let scheduled = utc("2027-01-01T03:00:00Z").addingTimeInterval(Double(day) * 86_400)
            let stableDelay = stable.delay(jobName: "nightly", scheduled: scheduled, seed: seed)
            let randomDelay = random.delay(jobName: "nightly", scheduled: scheduled, seed: seed)
            #expect(stableDelay >= 0)
            #expect(stableDelay < 600)
            #expect(randomDelay >= 0)
            #expect(randomDelay < 600)
            stableDelays.insert(stableDelay)
            randomDelays.insert(randomDelay)
        }
        #expect(stableDelays.count == 1)
        #expect(randomDelays.count > 30)
        let otherJob = stable.delay(jobName: "weekly", scheduled: Date(), seed: seed)
        let otherHost = stable.delay(jobName: "nightly", scheduled: Date(), seed: Jitter.seed(from: "gpu-host-2"))
        #expect(otherJob != stableDelays.first || otherHost != stableDelays.first)
        #expect(Jitter.none.delay(jobName: "nightly", scheduled: Date(), seed: seed) == 0)
    }

    @Test("Jitter delays due time")
    func jitterDelaysDueTime() throws {
        var timing = try Self.nightly(.none)
        timing.jitter = Jitter(limit: 600, mode: .stable)
        timing.jitterSeed = 7
        let delay = timing.jitter.delay(jobName: "nightly", scheduled: utc("2027-01-02T03:00:00Z"), seed: 7)
        let early = CatchUpPlanner.decide(
            timing,
            lastFire: utc("2027-01-01T03:00:00Z"),
            now: utc("2027-01-02T03:00:00Z").addingTimeInterval(delay - 1)
        )
        #expect(early.fire == nil)
        #expect(early.missed == nil)
        #expect(early.nextDue == utc("2027-01-02T03:00:00Z").addingTimeInterval(delay))
        let onTime = CatchUpPlanner.decide(
            timing,
            lastFire: utc("2027-01-01T03:00:00Z"),
            now: utc("2027-01-02T03:00:00Z").addingTimeInterval(delay + 1)
        )
        #expect(onTime.fire?.date == utc("2027-01-02T03:00:00Z"))
    }

    @Test("Clock events are classified")
    func clockEventsAreClassified() {
        let start = ClockReading(wall: utc("2027-01-01T00:00:00Z"), monotonic: 1000, boottime: 1000)
        let normal = ClockReading(wall: utc("2027-01-01T00:01:00Z"), monotonic: 1060, boottime: 1060)
        let forward = ClockReading(wall: utc("2027-01-01T02:00:00Z"), monotonic: 1060, boottime: 1060)
        let backward = ClockReading(wall: utc("2026-12-31T23:00:00Z"), monotonic: 1060, boottime: 1060)
        let resumed = ClockReading(wall: utc("2027-01-01T02:00:00Z"), monotonic: 1060, boottime: 8200)
        #expect(ScheduleTracker.classify(from: start, to: normal) == .normal)
        #expect(ScheduleTracker.classify(from: start, to: forward) == .forwardJump(7140))
        #expect(ScheduleTracker.classify(from: start, to: backward) == .backwardJump(3660))
        #expect(ScheduleTracker.classify(from: start, to: resumed) == .resumed(7140))
    }

    @Test("Backward jump does not refire")
    func backwardJumpDoesNotRefire() throws {
        var tracker = ScheduleTracker(timing: try Self.nightly(), lastFire: utc("2027-01-01T03:00:00Z"))
        let first = tracker.wake(at: ClockReading(wall: utc("2027-01-02T03:00:01Z"), monotonic: 100))
        #expect(first.decision.fire?.date == utc("2027-01-02T03:00:00Z"))
        // The clock is set back an hour, so 03:00 passes again.
        let jumped = tracker.wake(at: ClockReading(wall: utc("2027-01-02T02:30:01Z"), monotonic: 1900))
        #expect(jumped.clockEvent == .backwardJump(3600))
        #expect(jumped.decision.fire == nil)
        let again = tracker.wake(at: ClockReading(wall: utc("2027-01-02T03:00:01Z"), monotonic: 3700))
        #expect(again.decision.fire == nil)
        #expect(again.decision.missed == nil)
    }

    @Test("Resume catches up once")
    func resumeCatchesUpOnce() throws {
        var tracker = ScheduleTracker(timing: try Self.nightly(), lastFire: utc("2027-01-01T03:00:00Z"))
        _ = tracker.wake(at: ClockReading(wall: utc("2027-01-02T02:00:00Z"), monotonic: 100, boottime: 100))
        let resumed = tracker.wake(
            at: ClockReading(wall: utc("2027-01-02T03:20:00Z"), monotonic: 160, boottime: 4900)
        )
        #expect(resumed.clockEvent == .resumed(4740))
        #expect(resumed.decision.fire?.date == utc("2027-01-02T03:00:00Z"))
        let later = tracker.wake(at: ClockReading(wall: utc("2027-01-02T03:21:00Z"), monotonic: 220, boottime: 4960))
        #expect(later.decision.fire == nil)
        #expect(tracker.handledThrough == utc("2027-01-02T03:00:00Z"))
    }

    @Test("Formatter marks moved fires")
    func formatterMarksMovedFires() throws {
        let schedule = try Schedule(parsing: "30 2 * * *")
        let newYork = zone("America/New_York")
        let fires = schedule.fireTimes(after: utc("2027-03-13T00:00:00Z"), in: newYork, count: 2)
        let lines = fires.map { FireTimeFormatter.format($0, in: newYork) }
        #expect(lines.first?.hasPrefix("2027-03-13 02:30:00") == true)
        #expect(lines.first?.contains("(-05:00)  2027-03-13T07:30:00Z") == true)
        #expect(lines.last?.hasPrefix("2027-03-14 03:00:00") == true)
        #expect(lines.last?.contains("(-04:00)  2027-03-14T07:00:00Z  moved from 02:30:00") == true)
        let kathmandu = FireTimeFormatter.format(
            ScheduledFire(date: utc("2027-01-01T00:00:00Z")),
            in: zone("Asia/Kathmandu")
        )
        #expect(kathmandu.contains("2027-01-01 05:45:00"))
        #expect(kathmandu.contains("(+05:45)"))
    }
}
