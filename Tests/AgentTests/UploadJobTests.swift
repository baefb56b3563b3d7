import Demo
import Foundation
import StandIns
import Support
import Testing

@testable import Agent

/// Returns a `hub_upload` job named `ticks` that uploads `<root>/ticks` to the demo Hub.
private func ticksJob(_ root: String, extra: String = "") -> String {
    """
      ticks:
        kind: hub_upload
        schedule: "0 0 1 1 *"
        local_dir: \(root)/ticks
        repo: demo/gold-ticks-raw
        include: ["*.csv"]
    \(extra)
    """
}

private func writeFile(_ path: String, _ text: String) throws {
    try writeFiles([(path as NSString).lastPathComponent: text], under: (path as NSString).deletingLastPathComponent)
}

/// Returns the notification kinds the signed webhook receiver got for `job`, in arrival order.
private func webhookKinds(_ harness: DaemonProcessHarness, job: String) -> [String] {
    harness.environment.webhook.deliveries.compactMap { delivery in
        guard let object = delivery.jsonObject, object["job"] as? String == job else { return nil }
        return object["kind"] as? String
    }
}

private func webhookReasons(_ harness: DaemonProcessHarness, job: String) -> [String] {
    harness.environment.webhook.deliveries.compactMap { delivery in
        guard let object = delivery.jsonObject, object["job"] as? String == job else { return nil }
        return object["reason"] as? String
    }
}

@Suite(.serialized)
struct UploadJobTests {
    @Test func nightlyUploadSendsOnlyNewFiles() throws {
        let harness = try DaemonProcessHarness(extraJobs: { ticksJob($0) })
        try writeFile(harness.root + "/ticks/2026-12-01.csv", "ts,bid\n1,2650.1\n")
        try writeFile(harness.root + "/ticks/2026/12/02.csv", "ts,bid\n2,2651.0\n")
        try writeFile(harness.root + "/ticks/notes.txt", "not a tick file\n")

        let first = try harness.command(["start", "ticks"])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("2 uploaded, 0 unchanged"))
        let files = try #require(harness.environment.hub.files(repo: "demo/gold-ticks-raw", type: .dataset))
        #expect(files["ticks/2026-12-01.csv"] == Data("ts,bid\n1,2650.1\n".utf8))
        #expect(files["ticks/2026/12/02.csv"] != nil)
        #expect(files["ticks/notes.txt"] == nil)
        let commits = harness.environment.hub.commits(repo: "demo/gold-ticks-raw", type: .dataset)
        #expect(commits.first?.title == "Upload tick data")
        #expect(harness.environment.webhook.waitForDeliveries(count: 1, timeout: 10))
        #expect(webhookKinds(harness, job: "ticks") == ["run_succeeded"])

        try writeFile(harness.root + "/ticks/2026-12-03.csv", "ts,bid\n3,2652.2\n")
        let second = try harness.command(["start", "ticks"])
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("1 uploaded, 2 unchanged"))

        let history = try #require(try harness.json(["history", "ticks", "--json"]) as? [[String: Any]])
        #expect(history.count == 2)
        #expect(history.first?["kind"] as? String == "hub_upload")
        #expect(history.first?["files_uploaded"] as? Int == 1)
        #expect((history.first?["commit_url"] as? String)?.contains("/commit/") == true)
    }

    @Test func emptyUploadFailsWithAlert() throws {
        let harness = try DaemonProcessHarness(extraJobs: { ticksJob($0) })
        try writeFile(harness.root + "/ticks/a.csv", "ts\n1\n")
        #expect(try harness.command(["start", "ticks"]).status == 0)

        let empty = try harness.command(["start", "ticks"])
        #expect(empty.status == 1)
        #expect(empty.output.contains("nothing new under"))
        #expect(harness.environment.webhook.waitForDeliveries(count: 2, timeout: 10))
        #expect(webhookKinds(harness, job: "ticks") == ["run_succeeded", "run_failed"])
        #expect(webhookReasons(harness, job: "ticks").last?.contains("if_empty: succeed") == true)

        harness.writeConfig(extraJobs: ticksJob(harness.root, extra: "    if_empty: succeed"))
        let allowed = try harness.command(["start", "ticks"])
        #expect(allowed.status == 0, "\(allowed.output)")
    }

    @Test func missingDirectoryFailsWithReason() throws {
        let harness = try DaemonProcessHarness(extraJobs: { ticksJob($0) })
        let result = try harness.command(["start", "ticks"])
        #expect(result.status == 1)
        #expect(result.output.contains("/ticks does not exist"))
        #expect(harness.environment.webhook.waitForDeliveries(count: 1, timeout: 10))
        #expect(webhookReasons(harness, job: "ticks").first?.contains("fix `local_dir`") == true)
    }

    @Test func hubErrorLeavesRepoAndAlerts() throws {
        let harness = try DaemonProcessHarness(extraJobs: { ticksJob($0) })
        try writeFile(harness.root + "/ticks/a.csv", "ts\n1\n")
        #expect(try harness.command(["start", "ticks"]).status == 0)
        let before = harness.environment.hub.commits(repo: "demo/gold-ticks-raw", type: .dataset).count
        try writeFile(harness.root + "/ticks/b.csv", "ts\n2\n")
        harness.environment.hub.inject(.status(500, retryAfter: nil, count: 100, pathContains: "/commit/"))

        let failed = try harness.command(["start", "ticks"])

        #expect(failed.status == 1, "\(failed.output)")
        #expect(failed.output.contains("failed:"))
        #expect(harness.environment.hub.commits(repo: "demo/gold-ticks-raw", type: .dataset).count == before)
        #expect(harness.environment.webhook.waitForDeliveries(count: 2, timeout: 10))
        #expect(webhookKinds(harness, job: "ticks").last == "run_failed")
        #expect(!failed.output.contains(DemoEnvironment.hubToken))
    }

    @Test func trainingDataStepRunsBeforeMachine() throws {
        let harness = try DaemonProcessHarness(trainCommand: "python3 train.py")
        harness.writeConfig(
            trainCommand: "python3 train.py",
            jobKeys: "    upload_training_data: {root: \(harness.root)/ml}\n"
        )
        // Without the CSVs the run fails before any machine is created.
        let rejected = try harness.command(["start", "gold-demo"])
        #expect(rejected.status == 1, "\(rejected.output)")
        #expect(harness.environment.paperspace.machines.isEmpty)
        let creates = harness.environment.paperspace.requests.filter { $0.method == "POST" && $0.path == "/machines" }
        #expect(creates.isEmpty)
        let record = try #require(try harness.journal().runs().first)
        #expect(record.state == .failed)
        #expect(record.outcome?.reason?.contains("gold_train.csv") == true)

        for name in ["train", "val", "test"] {
            try writeFile(harness.root + "/ml/workspace/prepared/features/gold_\(name).csv", "t,a\n1,2\n")
        }
        let ran = try harness.command(["start", "gold-demo"])
        #expect(ran.status == 0, "\(ran.output)")
        let files = try #require(harness.environment.hub.files(repo: DemoEnvironment.datasetRepo, type: .dataset))
        #expect(files["workspace/prepared/features/gold_val.csv"] == Data("t,a\n1,2\n".utf8))
        harness.expectNothingLeft()
    }
}
