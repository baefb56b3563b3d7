import Foundation
import Notifiers
import Support
import Testing

@Test func summaryOfSucceededRun() {
    #expect(
        succeededNotification().summary
            == "nightshift: weekly-train run 20271204-0300-ab12 succeeded in 1h 02m (A4000, ~$0.78)"
    )
    #expect(succeededNotification().title == "weekly-train succeeded")
    #expect(!succeededNotification().isUrgent)
}

@Test func summaryOfFailedRun() {
    #expect(
        failedNotification().summary
            == "nightshift: weekly-train run 20271204-0300-ab12 failed in state waitingForReady (A4000): "
            + "machine stuck in provisioning for 20m"
    )
    var withDuration = failedNotification()
    withDuration.durationSeconds = 1215
    withDuration.estimatedCostUSD = 0.26
    #expect(withDuration.summary.contains("failed in state waitingForReady after 20m 15s (A4000, ~$0.26): machine"))
}

@Test func summaryOfTeardownFailureIsUrgent() {
    let notification = teardownFailedNotification()
    #expect(notification.isUrgent)
    #expect(notification.title == "ACTION NEEDED: weekly-train teardown failed")
    #expect(
        notification.summary
            == "nightshift: ACTION NEEDED: machine psq2w3e4r may still be running and billing. "
            + "weekly-train run 20271204-0300-ab12 could not confirm teardown: delete returned 500 five times"
    )
}

@Test func summaryOfStartedRun() {
    let notification = RunNotification(kind: .started, job: "nightly", runId: "r1", machineType: "P5000")
    #expect(notification.summary == "nightshift: nightly run r1 started (P5000)")
    let bare = RunNotification(kind: .started, job: "nightly", runId: "r1")
    #expect(bare.summary == "nightshift: nightly run r1 started")
}

@Test func durationFormatting() {
    let cases: [(Double, String)] = [
        (0, "0s"), (45, "45s"), (59.6, "1m 00s"), (725, "12m 05s"), (3600, "1h 00m"), (3725, "1h 02m"),
        (90_061, "25h 01m"), (-5, "0s"),
    ]
    for (seconds, expected) in cases {
        #expect(RunNotification.formatDuration(seconds) == expected, "for \(seconds) s")
    }
    #expect(RunNotification.formatCost(0.78) == "~$0.78")
    #expect(RunNotification.formatCost(1.236) == "~$1.24")
    #expect(RunNotification.formatCost(12) == "~$12.00")
}

@Test func eventIdIsStablePerRunAndKind() {
    let first = failedNotification()
    let second = failedNotification()
    #expect(first.eventId == "20271204-0300-ab12:run_failed")
    #expect(first.eventId == second.eventId)
    #expect(first.eventId != succeededNotification().eventId)
    #expect(!first.eventId.contains("."))
}

@Test func codableRoundTripUsesSnakeCase() throws {
    let original = succeededNotification()
    let data = try JSONEncoder().encode(original)
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(object["event_id"] as? String == original.eventId)
    #expect(object["run_id"] as? String == original.runId)
    #expect(object["estimated_cost_usd"] as? Double == 0.78)
    #expect(object["model_commit_url"] as? String == original.modelCommitURL)
    #expect(object["kind"] as? String == "run_succeeded")
    #expect(object["reason"] == nil)
    let decoded = try JSONDecoder().decode(RunNotification.self, from: data)
    #expect(decoded == original)
}
