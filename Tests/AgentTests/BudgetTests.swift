import Config
import Demo
import Foundation
import Schedules
import StandIns
import Support
import Testing

@testable import Agent

/// Budget rejections and warnings, against the stand-ins. The demo job costs $0.08 an hour and may run 10 minutes,
/// so its maximum cost is about $0.0133.
@Suite(.serialized)
struct BudgetTests {
    static func harness(jobLines: String = "", budget: String = "") throws -> EndToEndHarness {
        let harness = try EndToEndHarness()
        var text = harness.environment.configText(stateDirectory: harness.root + "/state")
        text = text.replacingOccurrences(of: "    max_duration: 10m\n", with: "    max_duration: 10m\n" + jobLines)
        try harness.load(text + budget)
        return harness
    }

    /// Writes a finished run of the demo job that was billed for `minutes` at $0.08 an hour.
    static func addFinishedRun(_ harness: EndToEndHarness, id: String, minutes: Double) throws {
        let start = Date().addingTimeInterval(-minutes * 60)
        var record = RunRecord(
            runId: id,
            job: "gold-demo",
            machineName: "nightshift-gold-demo-\(id)",
            machineType: "C5",
            startedAt: start,
            maxDuration: 600,
            hourlyRate: 0.08
        )
        record.machineId = "ps\(id.suffix(4))"
        record.machineMayExist = true
        record.state = .succeeded
        record.finishedAt = Date()
        try harness.runtime.journal.save(record)
    }

    func deliveries(_ harness: EndToEndHarness, type: String) -> [[String: Any]] {
        _ = harness.runtime.dispatcher.flush(timeout: 10)
        return harness.environment.webhook.deliveries.compactMap(\.jsonObject).filter { $0["type"] as? String == type }
    }

    @Test func runOverMaxCostIsRejected() throws {
        let harness = try Self.harness(jobLines: "    max_cost: 0.01\n")
        #expect(harness.job.maxCost == 0.01)
        #expect(harness.daemon.startRun(of: harness.job) == nil)
        #expect(harness.environment.paperspace.allMachinesEverCreated.isEmpty)
        #expect(harness.environment.paperspace.startupScripts.isEmpty)
        let failed = self.deliveries(harness, type: "run_failed")
        #expect(failed.count == 1)
        let reason = try #require(failed.first?["reason"] as? String)
        #expect(reason.contains("$0.01"))
        #expect(reason.contains("$0.08"))
        #expect(reason.contains("max_cost"))
        let record = try #require(try harness.runtime.journal.runs().first)
        #expect(record.state == .failed)
        #expect(record.hourlyRate == 0.08)
    }

    @Test func runOverMonthlyLimitIsRejected() throws {
        let harness = try Self.harness(budget: "budget:\n  monthly_limit: 0.02\n  warn_at: [0.99]\n")
        try Self.addFinishedRun(harness, id: "20270101-000000-0001", minutes: 10)
        #expect(harness.daemon.startRun(of: harness.job) == nil)
        #expect(harness.environment.paperspace.allMachinesEverCreated.isEmpty)
        let failed = self.deliveries(harness, type: "run_failed")
        #expect(failed.count == 1)
        let reason = try #require(failed.first?["reason"] as? String)
        #expect(reason.contains("monthly limit $0.02"))
        #expect(reason.contains("spend $0.01"))
    }

    @Test func warningsSentOncePerThreshold() throws {
        let harness = try Self.harness(budget: "budget:\n  monthly_limit: 1\n  warn_at: [0.01, 0.02, 0.5]\n")
        let ledger = harness.daemon.budgetLedger()
        let month = ledger.monthKey(for: Date())
        try Self.addFinishedRun(harness, id: "20270101-000000-0002", minutes: 10)
        harness.daemon.sendBudgetWarnings(job: harness.job, at: Date())
        harness.daemon.sendBudgetWarnings(job: harness.job, at: Date())
        #expect(try harness.runtime.journal.budgetWarnings(month: month) == [0.01])
        #expect(self.deliveries(harness, type: "budget_warning").count == 1)

        try Self.addFinishedRun(harness, id: "20270101-000000-0003", minutes: 10)
        harness.daemon.sendBudgetWarnings(job: harness.job, at: Date())
        harness.daemon.sendBudgetWarnings(job: harness.job, at: Date())
        #expect(try harness.runtime.journal.budgetWarnings(month: month) == [0.01, 0.02])
        let warnings = self.deliveries(harness, type: "budget_warning")
        #expect(warnings.count == 2)
        #expect((warnings.last?["reason"] as? String)?.contains("2% of the monthly limit $1.00") == true)
    }

    @Test func ledgerCountsActiveRunsAtMaximum() throws {
        let harness = try Self.harness()
        let ledger = harness.daemon.budgetLedger()
        var active = RunRecord(
            runId: "20270101-000000-0004",
            job: "gold-demo",
            machineName: "nightshift-gold-demo-20270101-000000-0004",
            machineType: "C5",
            startedAt: Date(),
            maxDuration: 3600,
            hourlyRate: 2
        )
        active.state = .running
        #expect(abs(ledger.estimatedCost(of: active, now: Date()) - 2) < 1e-9)
        // A run rejected before create costs nothing, whatever its rate.
        var refused = active
        refused.state = .failed
        refused.finishedAt = active.startedAt.addingTimeInterval(60)
        #expect(ledger.estimatedCost(of: refused, now: Date()) == 0)
        // The stored rate wins over the job's current rate.
        refused.machineMayExist = true
        #expect(abs(ledger.estimatedCost(of: refused, now: Date()) - 2.0 / 60) < 1e-9)
    }

    @Test func monthFollowsConfiguredTimeZone() throws {
        let harness = try Self.harness()
        let zone = try #require(TimeZone(identifier: "Pacific/Auckland"))
        let ledger = BudgetLedger(journal: harness.runtime.journal, timeZone: zone)
        // 2027-01-31 12:00 UTC is already February 1st in Auckland (UTC+13 in summer).
        let instant = Date(timeIntervalSince1970: 1_801_396_800)
        #expect(ledger.monthKey(for: instant) == "2027-02")
        let utc = BudgetLedger(journal: harness.runtime.journal, timeZone: TimeZone(identifier: "UTC")!)
        #expect(utc.monthKey(for: instant) == "2027-01")
    }
}
