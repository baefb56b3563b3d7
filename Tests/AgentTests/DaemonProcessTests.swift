import Demo
import Foundation
import StandIns
import Support
import Testing

@testable import Agent

/// Runs the real `nightshift` binary as a child process against the stand-ins of one `DemoEnvironment`.
final class DaemonProcessHarness {
    let root: String
    let environment: DemoEnvironment
    let configPath: String

    /// The default schedule fires only on 1 January, so a daemon started for a recovery test never starts a run of
    /// its own in the middle of the test.
    init(
        trainCommand: String = "sleep 600",
        maxDuration: String = "10m",
        schedule: String = "0 0 1 1 *",
        jobKeys: String = "",
        extraJobs: (String) -> String = { _ in "" }
    ) throws {
        self.root = NSTemporaryDirectory() + "nightshift-process-\(UUID().uuidString)"
        self.environment = try DemoEnvironment(root: self.root, machineDelay: 0.3)
        self.configPath = self.root + "/nightshift.yaml"
        self.writeConfig(
            schedule: schedule,
            trainCommand: trainCommand,
            maxDuration: maxDuration,
            jobKeys: jobKeys,
            extraJobs: extraJobs(self.root)
        )
    }

    /// Writes the config file; a test can rewrite it between runs of the binary.
    func writeConfig(
        schedule: String = "0 0 1 1 *",
        trainCommand: String = "sleep 600",
        maxDuration: String = "10m",
        jobKeys: String = "",
        extraJobs: String = ""
    ) {
        let text = self.environment.configText(
            stateDirectory: self.root + "/state",
            schedule: schedule,
            trainCommand: trainCommand,
            maxDuration: maxDuration,
            jobKeys: jobKeys,
            extraJobs: extraJobs
        )
        FileManager.default.createFile(
            atPath: self.configPath,
            contents: Data(text.utf8),
            attributes: [.posixPermissions: 0o600]
        )
    }

    /// The `nightshift` executable next to the test bundle, built by `swift build --build-tests`.
    static var executable: String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = directory.appendingPathComponent("nightshift").path
        if !FileManager.default.isExecutableFile(atPath: candidate) {
            // Under `swift test` the first argument may be the xctest helper; fall back to the build directory.
            candidate = FileManager.default.currentDirectoryPath + "/.build/debug/nightshift"
        }
        return candidate
    }

    func launch(_ arguments: [String], log: String) throws -> Subprocess {
        #expect(
            FileManager.default.isExecutableFile(atPath: Self.executable),
            "build nightshift first: \(Self.executable)"
        )
        var environment = ProcessInfo.processInfo.environment.merging(self.environment.configEnvironment) { _, new in
            new
        }
        environment["NIGHTSHIFT_TEST"] = "1"
        return try Subprocess(
            [Self.executable] + arguments + ["--config", self.configPath],
            environment: environment,
            outputPath: self.root + "/" + log
        )
    }

    /// Opens the state directory's journal, creating both if the binary has not yet.
    func journal() throws -> Journal {
        try FileManager.default.createDirectory(atPath: self.root + "/state", withIntermediateDirectories: true)
        return try Journal(path: self.root + "/state/journal.sqlite")
    }

    /// Waits until some run in the journal satisfies `condition`; returns it.
    func waitForRun(timeout: Double, _ condition: (RunRecord) -> Bool) throws -> RunRecord? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: self.root + "/state/journal.sqlite"),
                let match = try self.journal().runs().first(where: condition)
            {
                return match
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }

    func output(_ log: String) -> String {
        (try? String(contentsOfFile: self.root + "/" + log, encoding: .utf8)) ?? ""
    }

    func expectNothingLeft(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            self.environment.paperspace.machines.isEmpty,
            "machines left: \(self.environment.paperspace.machines.map(\.id))",
            sourceLocation: sourceLocation
        )
        #expect(self.environment.paperspace.startupScripts.isEmpty, "scripts left", sourceLocation: sourceLocation)
    }

    /// Waits for a child to exit; kills it after `timeout` seconds so a hung daemon fails the test instead of the
    /// suite.
    static func waitForExit(_ process: Subprocess, timeout: Double) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if let status = process.poll() { return status }
            Thread.sleep(forTimeInterval: 0.1)
        }
        process.send(SIGKILL)
        process.wait()
        return nil
    }

    deinit {
        self.environment.shutdown()
        try? FileManager.default.removeItem(atPath: self.root)
    }
}

@Suite(.serialized)
struct DaemonProcessTests {
    @Test func sigtermDuringStartTearsDownThenExits() throws {
        let harness = try DaemonProcessHarness()
        let process = try harness.launch(["start", "gold-demo"], log: "start.log")
        let running = try harness.waitForRun(timeout: 60) { $0.state == .running }
        #expect(running != nil, "run never reached running:\n\(harness.output("start.log"))")
        #expect(harness.environment.paperspace.machines.count == 1)
        process.send(SIGTERM)
        let status = DaemonProcessHarness.waitForExit(process, timeout: 60)
        #expect(status == 1, "exit status \(String(describing: status)):\n\(harness.output("start.log"))")
        let record = try #require(try harness.journal().runs().first)
        #expect(record.state == .failed)
        harness.expectNothingLeft()
        #expect(harness.output("start.log").contains("Shutdown requested"))
    }

    @Test func sigkillDuringRunIsRecoveredOnRestart() throws {
        let harness = try DaemonProcessHarness(maxDuration: "20s")
        let first = try harness.launch(["start", "gold-demo"], log: "first.log")
        let running = try harness.waitForRun(timeout: 60) { $0.state == .running }
        #expect(running != nil, "run never reached running:\n\(harness.output("first.log"))")
        first.send(SIGKILL)
        first.wait()
        // The daemon is gone and the machine is still there, as after a crash.
        #expect(harness.environment.paperspace.machines.count == 1)

        let daemon = try harness.launch(["run"], log: "daemon.log")
        let finished = try harness.waitForRun(timeout: 90) { $0.state.isTerminal }
        #expect(finished?.state == .failed, "daemon log:\n\(harness.output("daemon.log"))")
        #expect(finished?.outcome?.reason?.contains("maximum duration") == true)
        harness.expectNothingLeft()
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 30) == 0)
        #expect(harness.output("daemon.log").contains("Recovering run from journal"))
    }

    @Test func sigkillDuringTeardownIsFinishedOnRestart() throws {
        let harness = try DaemonProcessHarness()
        harness.environment.paperspace.inject(.deleteFails(count: 100_000))
        let first = try harness.launch(["start", "gold-demo"], log: "first.log")
        _ = try harness.waitForRun(timeout: 60) { $0.state == .running }
        first.send(SIGTERM)
        let deleting = try harness.waitForRun(timeout: 60) { $0.state == .deleting && $0.teardownFailures >= 1 }
        #expect(deleting != nil, "teardown never retried a delete:\n\(harness.output("first.log"))")
        first.send(SIGKILL)
        first.wait()
        #expect(harness.environment.paperspace.machines.count == 1)

        harness.environment.paperspace.inject(.clear)
        let daemon = try harness.launch(["run"], log: "daemon.log")
        let finished = try harness.waitForRun(timeout: 60) { $0.state.isTerminal }
        #expect(finished?.state == .failed, "daemon log:\n\(harness.output("daemon.log"))")
        harness.expectNothingLeft()
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 30) == 0)
    }

    @Test func daemonLeavesRunOwnedByStartAlone() throws {
        let harness = try DaemonProcessHarness()
        let start = try harness.launch(["start", "gold-demo"], log: "start.log")
        let running = try harness.waitForRun(timeout: 60) { $0.state == .running }
        #expect(running != nil, "run never reached running:\n\(harness.output("start.log"))")

        let daemon = try harness.launch(["run"], log: "daemon.log")
        let deadline = Date(timeIntervalSinceNow: 30)
        while !harness.output("daemon.log").contains("Journal recovery finished") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 30) == 0)
        #expect(harness.output("daemon.log").contains("owned by another nightshift process"))
        // The run kept going under `start`, untouched by the daemon.
        #expect(start.poll() == nil)
        #expect(try harness.journal().runs().first?.state == .running)

        start.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(start, timeout: 60) == 1)
        harness.expectNothingLeft()
    }

    @Test func liveDaemonAdoptsRunOfKilledStart() throws {
        let harness = try DaemonProcessHarness(maxDuration: "10s")
        let daemon = try harness.launch(["run"], log: "daemon.log")
        let start = try harness.launch(["start", "gold-demo"], log: "start.log")
        let running = try harness.waitForRun(timeout: 60) { $0.state == .running }
        #expect(running != nil, "run never reached running:\n\(harness.output("start.log"))")
        start.send(SIGKILL)
        start.wait()
        // The daemon looks for unowned runs on every scheduler wake, at least once a minute.
        let finished = try harness.waitForRun(timeout: 100) { $0.state.isTerminal }
        #expect(finished?.state == .failed, "daemon log:\n\(harness.output("daemon.log"))")
        harness.expectNothingLeft()
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 30) == 0)
        #expect(harness.output("daemon.log").contains("Recovering run from journal"))
    }

    @Test func daemonFiresScheduleAndStopsOnSigterm() throws {
        let harness = try DaemonProcessHarness(schedule: "* * * * *")
        let daemon = try harness.launch(["run"], log: "daemon.log")
        // The schedule fires at the next minute boundary.
        let running = try harness.waitForRun(timeout: 100) { $0.state == .running }
        #expect(running != nil, "schedule never fired:\n\(harness.output("daemon.log"))")
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 60) == 0)
        let record = try #require(try harness.journal().runs().first)
        #expect(record.state == .failed)
        harness.expectNothingLeft()
        let log = harness.output("daemon.log")
        #expect(log.contains("Schedule fired"))
        #expect(!log.contains(DemoEnvironment.apiKey))
        #expect(!log.contains(DemoEnvironment.hubToken))
    }
}
