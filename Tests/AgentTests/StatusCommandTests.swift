import Foundation
import Support
import Testing

@testable import Agent

extension DaemonProcessHarness {
    /// Runs a short-lived `nightshift` command against the harness's config and returns its status and output.
    func command(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let environment = ProcessInfo.processInfo.environment.merging(self.environment.configEnvironment) { _, new in
            new
        }
        return try Subprocess.run(
            [Self.executable] + arguments + ["--config", self.configPath],
            environment: environment
        )
    }

    /// Runs a command that prints JSON on stdout and parses it; stderr stays out of the parse.
    func json(_ arguments: [String]) throws -> Any {
        let log = self.root + "/json-\(UUID().uuidString).out"
        var environment = ProcessInfo.processInfo.environment.merging(self.environment.configEnvironment) { _, new in
            new
        }
        environment["NIGHTSHIFT_TEST"] = "1"
        let process = try Subprocess(
            [Self.executable] + arguments + ["--config", self.configPath],
            environment: environment,
            outputPath: log
        )
        #expect(Self.waitForExit(process, timeout: 30) == 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        return try JSONSerialization.jsonObject(with: Data(text.utf8))
    }
}

@Suite(.serialized)
struct StatusCommandTests {
    @Test func statusShowsActiveRunWithCost() throws {
        let harness = try DaemonProcessHarness()
        let process = try harness.launch(["start", "gold-demo"], log: "start.log")
        let running = try harness.waitForRun(timeout: 60) { $0.state == .running }
        #expect(running != nil, "run never reached running:\n\(harness.output("start.log"))")

        let status = try #require(try harness.json(["status", "--json"]) as? [String: Any])
        let active = try #require(status["active_runs"] as? [[String: Any]])
        #expect(active.count == 1)
        #expect(active.first?["state"] as? String == "running")
        #expect(active.first?["job"] as? String == "gold-demo")
        #expect(active.first?["machine_id"] as? String == running?.machineId)
        #expect((active.first?["estimated_cost_usd"] as? Double).map { $0 >= 0 } == true)
        let jobs = try #require(status["jobs"] as? [[String: Any]])
        #expect(jobs.map { $0["name"] as? String } == ["gold-demo"])
        #expect((jobs.first?["next_fire"] as? String)?.hasSuffix("Z") == true)

        let text = try harness.command(["status"])
        #expect(text.status == 0)
        #expect(text.output.contains("Active runs:"))
        #expect(text.output.contains("gold-demo  running for"))
        #expect(text.output.contains("est. $"))

        process.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(process, timeout: 60) == 1)
        harness.expectNothingLeft()

        let history = try #require(try harness.json(["history", "gold-demo", "--json"]) as? [[String: Any]])
        #expect(history.count == 1)
        #expect(history.first?["outcome"] as? String == "failed")
        #expect(history.first?["run_id"] as? String == running?.runId)
        #expect((history.first?["reason"] as? String)?.isEmpty == false)
        #expect(history.first?["finished_at"] as? String != nil)

        let after = try #require(try harness.json(["status", "--json"]) as? [String: Any])
        #expect((after["active_runs"] as? [Any])?.isEmpty == true)
    }

    @Test func historyWithoutJournalSaysNoRuns() throws {
        let harness = try DaemonProcessHarness()
        let result = try harness.command(["history"])
        #expect(result.status == 0)
        #expect(result.output.contains("No runs recorded."))
        let limited = try harness.command(["history", "--limit", "0"])
        #expect(limited.status == 64)
    }
}
