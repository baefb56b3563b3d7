import Demo
import Foundation
import StandIns
import Support
import Testing

@testable import Agent

/// Returns a `hub_upload` job on `schedule` that uploads `<root>/ticks` to the demo Hub.
private func uploadJob(_ root: String, schedule: String, extra: String = "") -> String {
    """
      ticks:
        kind: hub_upload
        schedule: "\(schedule)"
        local_dir: \(root)/ticks
        repo: demo/gold-ticks-raw
        if_empty: succeed
    \(extra)
    """
}

private func writeTick(_ root: String, _ name: String) throws {
    try FileManager.default.createDirectory(atPath: root + "/ticks", withIntermediateDirectories: true)
    try Data("ts,bid\n1,\(name)\n".utf8).write(to: URL(fileURLWithPath: root + "/ticks/\(name).csv"))
}

/// Returns the JSON bodies the signed webhook receiver got for `job`.
private func webhookEvents(_ harness: DaemonProcessHarness, job: String) -> [[String: Any]] {
    harness.environment.webhook.deliveries.compactMap { delivery in
        guard let object = delivery.jsonObject, object["job"] as? String == job else { return nil }
        return object
    }
}

/// Waits until `condition` holds, polling every 0.2 s; returns whether it did within `timeout` seconds.
private func eventually(_ timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return try condition()
}

@Suite(.serialized)
struct SchedulingDaemonTests {
    @Test func missedFiresAreCaughtUpOnce() throws {
        let harness = try DaemonProcessHarness(extraJobs: { uploadJob($0, schedule: "* * * * *") })
        try writeTick(harness.root, "a")
        // The daemon was down for the last three minute marks: the latest is caught up, the two before reported.
        let now = Date()
        let minute = (now.timeIntervalSince1970 / 60).rounded(.down) * 60
        try harness.journal().recordFire(job: "ticks", scheduledAt: Date(timeIntervalSince1970: minute - 180))

        let daemon = try harness.launch(["run"], log: "daemon.log")
        let caughtUp = try eventually(30) { try harness.journal().uploads(job: "ticks").count >= 1 }
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 60) == 0)

        #expect(caughtUp, "no catch-up run:\n\(harness.output("daemon.log"))")
        let log = harness.output("daemon.log")
        #expect(log.contains("Scheduled runs missed"))
        #expect(log.contains("count=2"))
        let uploads = try harness.journal().uploads(job: "ticks")
        // One catch-up run, plus at most one regular fire if a minute boundary passed during the test.
        #expect((1...2).contains(uploads.count))
        #expect(harness.environment.webhook.waitForDeliveries(count: 2, timeout: 10))
        let missed = webhookEvents(harness, job: "ticks").filter { $0["kind"] as? String == "run_missed" }
        #expect(missed.count == 1)
        #expect((missed.first?["reason"] as? String)?.contains("2 scheduled run(s) missed") == true)
        let lastFire = try #require(try harness.journal().lastFireTimes()["ticks"])
        #expect(lastFire >= Date(timeIntervalSince1970: minute - 60))
    }

    @Test func catchUpNoneOnlyReports() throws {
        let harness = try DaemonProcessHarness(
            extraJobs: { uploadJob($0, schedule: "0 0 * * *", extra: "    catch_up: none") }
        )
        try writeTick(harness.root, "a")
        let now = Date()
        try harness.journal().recordFire(job: "ticks", scheduledAt: now.addingTimeInterval(-3 * 86_400))

        let daemon = try harness.launch(["run"], log: "daemon.log")
        let reported = eventually(30) { harness.output("daemon.log").contains("Scheduled runs missed") }
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 60) == 0)

        #expect(reported, "\(harness.output("daemon.log"))")
        #expect(try harness.journal().uploads(job: "ticks").isEmpty)
        #expect(harness.output("daemon.log").contains("catch_up=none"))
    }

    @Test func overlappingFireIsSkippedWithAlert() throws {
        // A calendar schedule every 3 seconds, and training that outlasts several fires.
        let harness = try DaemonProcessHarness(schedule: "*:*:0/3")
        let daemon = try harness.launch(["run"], log: "daemon.log")
        let skipped = eventually(60) { harness.output("daemon.log").contains("Run skipped because the previous run") }
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 60) == 0)

        #expect(skipped, "\(harness.output("daemon.log"))")
        #expect(try harness.journal().runs(job: "gold-demo").count == 1)
        harness.expectNothingLeft()
        #expect(
            eventually(10) {
                webhookEvents(harness, job: "gold-demo").contains { $0["kind"] as? String == "run_skipped" }
            }
        )
    }

    @Test func queuedFireStartsAfterThePreviousRun() throws {
        let harness = try DaemonProcessHarness(
            trainCommand: "python3 train.py && sleep 2",
            schedule: "*:*:0/2",
            jobKeys: "    overlap: queue\n"
        )
        let daemon = try harness.launch(["run"], log: "daemon.log")
        let two = try eventually(90) {
            try harness.journal().runs(job: "gold-demo").filter { $0.state == .succeeded }.count >= 2
        }
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 60) == 0)

        #expect(two, "\(harness.output("daemon.log"))")
        #expect(harness.output("daemon.log").contains("Run queued until the previous run ends"))
        let runs = try harness.journal().runs(job: "gold-demo").sorted { $0.startedAt < $1.startedAt }
        for (earlier, later) in zip(runs, runs.dropFirst()) {
            // A queued run starts only after the one before it has finished its teardown.
            #expect(later.startedAt >= (earlier.finishedAt ?? .distantFuture))
        }
        harness.expectNothingLeft()
    }

    @Test func alertsSurviveRestartWithReceiversDown() throws {
        let harness = try DaemonProcessHarness(extraJobs: { uploadJob($0, schedule: "0 0 1 1 *") })
        try writeTick(harness.root, "a")
        harness.environment.webhook.simulateDown()
        harness.environment.slack.simulateDown()

        // `start` waits for delivery; the second SIGTERM makes it exit at once with the alert still queued.
        let start = try harness.launch(["start", "ticks"], log: "start.log")
        #expect(try eventually(30) { try harness.journal().uploads(job: "ticks").count == 1 })
        start.send(SIGTERM)
        Thread.sleep(forTimeInterval: 0.5)
        start.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(start, timeout: 30) == 75)
        #expect(harness.environment.webhook.deliveries.isEmpty)

        try harness.environment.webhook.start()
        try harness.environment.slack.start()
        let daemon = try harness.launch(["run"], log: "daemon.log")
        let delivered = eventually(60) {
            !webhookEvents(harness, job: "ticks").isEmpty
                && harness.environment.slack.deliveries.contains { $0.bodyText.contains("ticks") }
        }
        Thread.sleep(forTimeInterval: 1)
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 60) == 0)

        #expect(delivered, "\(harness.output("daemon.log"))")
        let events = webhookEvents(harness, job: "ticks")
        #expect(events.count == 1)
        #expect(events.first?["kind"] as? String == "run_succeeded")
        let ids = harness.environment.webhook.deliveries.compactMap { $0.header("webhook-id") }
        #expect(Set(ids).count == ids.count)
        #expect(harness.environment.webhook.deliveries.allSatisfy { $0.signatureValid == true })
    }
}
