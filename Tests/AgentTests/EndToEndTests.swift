import Config
import Demo
import Foundation
import Schedules
import StandIns
import Support
import Testing

@testable import Agent

/// One run against the stand-ins, with the config read through the real loader.
final class EndToEndHarness {
    let root: String
    let environment: DemoEnvironment
    let capture = LogCapture()
    var runtime: Runtime!
    var daemon: Daemon!
    let stop = Signal()

    init(
        machineDelay: Double = 0.3,
        trainCommand: String = "python3 train.py",
        maxDuration: String = "10m",
        outputs: [String] = ["model", "metrics.json"],
        environmentVariables: [String: String] = [:],
        timeouts: (ready: String, stop: String, delete: String, teardown: String) = ("2m", "2m", "2m", "1h")
    ) throws {
        self.root = NSTemporaryDirectory() + "nightshift-e2e-\(UUID().uuidString)"
        self.environment = try DemoEnvironment(root: self.root, machineDelay: machineDelay)
        let text = self.environment.configText(
            stateDirectory: self.root + "/state",
            trainCommand: trainCommand,
            maxDuration: maxDuration,
            outputs: outputs,
            environment: environmentVariables,
            timeouts: timeouts
        )
        try self.load(text)
    }

    func load(_ text: String) throws {
        let configuration = try ConfigLoader.load(
            text: text,
            path: self.root + "/nightshift.yaml",
            environment: self.environment.configEnvironment,
            scheduleValidator: CronSchedule.validate
        )
        let logger = Logger(label: "nightshift", logLevel: .debug, sink: self.capture.sink)
        self.runtime = try Runtime.make(configuration: configuration, logger: logger)
        self.daemon = Daemon(runtime: self.runtime, logger: logger, stop: self.stop)
    }

    var job: TrainingJob { self.runtime.configuration.jobs[0] }

    /// Starts one run and waits for it to end; returns the final journal record.
    func runOnce(timeout: Double = 120) throws -> RunRecord {
        let record = try #require(self.daemon.startRun(of: self.job))
        #expect(self.daemon.waitForRuns(timeout: timeout))
        return try #require(try self.runtime.journal.run(id: record.runId))
    }

    /// Checks that no machine and no startup script is left on the stand-in; every lifecycle test ends here.
    func expectNothingLeft(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            self.environment.paperspace.machines.isEmpty,
            "machines left: \(self.environment.paperspace.machines.map(\.id))",
            sourceLocation: sourceLocation
        )
        #expect(
            self.environment.paperspace.startupScripts.isEmpty,
            "scripts left: \(self.environment.paperspace.startupScripts.map(\.id))",
            sourceLocation: sourceLocation
        )
    }

    func deliveredKinds(_ receiver: WebhookReceiver) -> [String] {
        receiver.deliveries.compactMap { delivery in
            if let type = delivery.jsonObject?["type"] as? String { return type }
            return delivery.bodyText.contains("succeeded")
                ? "slack-succeeded" : (delivery.bodyText.contains("failed") ? "slack-failed" : "slack-other")
        }
    }

    deinit {
        self.environment.shutdown()
        try? FileManager.default.removeItem(atPath: self.root)
    }
}

@Suite(.serialized)
struct EndToEndTests {
    @Test func successfulRunTearsDownAndNotifies() throws {
        let harness = try EndToEndHarness()
        let record = try harness.runOnce()
        #expect(
            record.state == .succeeded,
            "reason: \(record.outcome?.reason ?? "none")\n\(harness.capture.text.suffix(3000))"
        )
        harness.expectNothingLeft()
        let files = try #require(harness.environment.hub.files(repo: DemoEnvironment.modelRepo, type: .model))
        #expect(files["model/model.json"] != nil)
        #expect(files["metrics.json"] != nil)
        #expect(files[".nightshift/runs/\(record.runId)/status.json"] != nil)
        _ = harness.runtime.dispatcher.flush(timeout: 10)
        #expect(harness.environment.webhook.deliveries.count == 2)
        #expect(harness.environment.webhook.deliveries.allSatisfy { $0.signatureValid == true })
        #expect(harness.deliveredKinds(harness.environment.webhook) == ["run_started", "run_succeeded"])
        #expect(harness.environment.slack.deliveries.count == 2)
        let states = try harness.runtime.journal.transitions(runId: record.runId).map(\.to)
        #expect(
            states == [
                "creatingScript", "creatingMachine", "waitingForReady", "running", "checkingResults", "deleting",
                "confirmingGone", "deletingScript", "succeeded",
            ]
        )
        // Secrets never reach the logs.
        #expect(!harness.capture.text.contains(DemoEnvironment.hubToken))
        #expect(!harness.capture.text.contains(DemoEnvironment.apiKey))
        #expect(!harness.capture.text.contains(harness.environment.slack.slackURL()))
        // The machine was created with Paperspace's auto-shutdown as a backstop: 10 minutes rounds up to 1 hour.
        let machine = try #require(harness.environment.paperspace.allMachinesEverCreated.first)
        #expect(machine.autoShutdownEnabled)
        #expect(machine.autoShutdownTimeout == 1)
        #expect(machine.poweredOffByScript)
        #expect(machine.name == "nightshift-gold-demo-\(record.runId)")
    }

    @Test func secondRunOfActiveJobIsSkipped() throws {
        let harness = try EndToEndHarness(trainCommand: "sleep 600")
        let first = try #require(harness.daemon.startRun(of: harness.job))
        #expect(harness.daemon.isActive(harness.job.name))
        #expect(harness.daemon.startRun(of: harness.job) == nil)
        #expect(harness.capture.text.contains("Run skipped because the previous run is still active"))
        // A second daemon on the same state directory, standing in for another process, finds the job locked.
        let other = Daemon(
            runtime: harness.runtime,
            logger: Logger(label: "other", sink: harness.capture.sink),
            stop: harness.stop
        )
        #expect(other.startRun(of: harness.job) == nil)
        #expect(harness.capture.text.contains("another nightshift process is running this job"))
        harness.stop.raise()
        #expect(harness.daemon.waitForRuns(timeout: 60))
        #expect(try harness.runtime.journal.runs().map(\.runId) == [first.runId])
        harness.expectNothingLeft()
    }

    @Test func trainingFailureFailsRunAndTearsDown() throws {
        let harness = try EndToEndHarness(environmentVariables: ["DEMO_TRAIN_EXIT": "3"])
        let record = try harness.runOnce()
        #expect(record.state == .failed)
        #expect(record.outcome?.reason == "step train exited with status 3")
        harness.expectNothingLeft()
        _ = harness.runtime.dispatcher.flush(timeout: 10)
        #expect(harness.deliveredKinds(harness.environment.webhook) == ["run_started", "run_failed"])
        let failed = try #require(harness.environment.webhook.deliveries.last?.jsonObject)
        #expect(failed["failed_state"] as? String == "checkingResults")
    }

    @Test func missingOutputFailsRun() throws {
        let harness = try EndToEndHarness(outputs: ["model", "does-not-exist.bin"])
        let record = try harness.runOnce()
        #expect(record.state == .failed)
        #expect(record.outcome?.reason == "step upload_outputs exited with status 66")
        harness.expectNothingLeft()
    }

    @Test func maximumDurationStopsMachine() throws {
        let harness = try EndToEndHarness(trainCommand: "sleep 600", maxDuration: "8s")
        let record = try harness.runOnce()
        #expect(record.state == .failed)
        #expect(record.outcome?.reason?.contains("maximum duration of 8s exceeded") == true)
        #expect(record.outcome?.failedState == .running)
        harness.expectNothingLeft()
        let machine = try #require(harness.environment.paperspace.allMachinesEverCreated.first)
        #expect(machine.lastStopCause == .api)
    }

    @Test func deleteFailuresAreRetriedUntilGone() throws {
        let harness = try EndToEndHarness()
        harness.environment.paperspace.inject(.deleteFails(count: 3))
        let record = try harness.runOnce()
        #expect(record.state == .succeeded)
        harness.expectNothingLeft()
        let deletes = harness.environment.paperspace.requests.filter {
            $0.method == "DELETE" && $0.path.hasPrefix("/machines/")
        }
        #expect(deletes.count >= 4)
    }

    @Test func stuckProvisioningTearsDown() throws {
        let harness = try EndToEndHarness(timeouts: ("3s", "2m", "2m", "1h"))
        harness.environment.paperspace.inject(.stuck(state: "provisioning", machineNamePrefix: nil))
        let record = harness.daemon.startRun(of: harness.job)
        // Clear the fault once the run has given up on the machine, as Paperspace eventually would.
        for _ in 0..<100 {
            if let current = try harness.runtime.journal.run(id: record!.runId),
                current.state.isTeardown || current.state.isTerminal
            {
                break
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        harness.environment.paperspace.inject(.clear)
        #expect(harness.daemon.waitForRuns(timeout: 120))
        let final = try #require(try harness.runtime.journal.run(id: record!.runId))
        #expect(final.state == .failed)
        #expect(final.outcome?.reason?.contains("stuck in provisioning") == true)
        harness.expectNothingLeft()
    }

    @Test func apiErrorsDuringCreateAreRetried() throws {
        let harness = try EndToEndHarness()
        harness.environment.paperspace.inject(
            .status(code: 429, retryAfter: 1, count: 2, method: "GET", pathContains: "/machines")
        )
        harness.environment.paperspace.inject(
            .status(code: 503, retryAfter: nil, count: 1, method: "POST", pathContains: "/startup-scripts")
        )
        let record = try harness.runOnce()
        #expect(record.state == .succeeded, "reason: \(record.outcome?.reason ?? "none")")
        harness.expectNothingLeft()
        #expect(harness.environment.paperspace.allMachinesEverCreated.count == 1)
    }

    @Test func cancellationMidRunTearsDown() throws {
        let harness = try EndToEndHarness(trainCommand: "sleep 600")
        let started = try #require(harness.daemon.startRun(of: harness.job))
        for _ in 0..<200 {
            if try harness.runtime.journal.run(id: started.runId)?.state == .running { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        harness.stop.raise()
        #expect(harness.daemon.waitForRuns(timeout: 60))
        let record = try #require(try harness.runtime.journal.run(id: started.runId))
        #expect(record.state == .failed)
        #expect(record.outcome?.reason == "nightshift is shutting down")
        harness.expectNothingLeft()
    }

    @Test func teardownGivingUpSendsUrgentAlert() throws {
        let harness = try EndToEndHarness(timeouts: ("2m", "2m", "2m", "6s"))
        harness.environment.paperspace.inject(.deleteFails(count: 100_000))
        let record = try harness.runOnce()
        #expect(record.state == .needsAttention)
        _ = harness.runtime.dispatcher.flush(timeout: 10)
        #expect(harness.deliveredKinds(harness.environment.webhook) == ["run_started", "teardown_failed"])
        let alert = try #require(harness.environment.webhook.deliveries.last?.jsonObject)
        #expect(alert["urgent"] as? Bool == true)
        #expect(alert["machine_id"] as? String == record.machineId)
        #expect(
            harness.capture.records.contains { $0.level == .critical && $0.metadata["state.to"] == "needsAttention" }
        )
        // The machine really is left behind, as the alert reports. The harness stops the stand-in with it.
        #expect(harness.environment.paperspace.machines.count == 1)
    }

    @Test func receiverDownDoesNotFailRun() throws {
        let harness = try EndToEndHarness()
        harness.environment.slack.simulateDown()
        harness.environment.webhook.simulateDown()
        let record = try harness.runOnce()
        #expect(record.state == .succeeded)
        harness.expectNothingLeft()
    }
}
