import Config
import Demo
import Foundation
import HTTP
import Paperspace
import StandIns
import Support
import Testing

@testable import Agent

/// The orphan sweep and the cloud-checked recovery, against the Paperspace stand-in.
@Suite(.serialized)
struct OrphanSweepTests {
    static let fastSweep = SweepPolicy(interval: 600, poll: 0.1, stopTimeout: 30, deleteTimeout: 30, teardownLimit: 60)

    /// Creates a machine named `name` directly at the stand-in, as another process or agent would.
    static func createMachine(_ harness: EndToEndHarness, named name: String) throws -> String {
        try harness.runtime.machines.ensureMachine(
            name: name,
            spec: harness.job.machine,
            startupScriptId: "",
            autoShutdownHours: 1
        )
    }

    static func waitUntil(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
        let end = Date(timeIntervalSinceNow: timeout)
        while Date() < end {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }

    @Test func sweepDeletesOnlyOrphans() throws {
        let harness = try EndToEndHarness(trainCommand: "sleep 600")
        let active = try #require(harness.daemon.startRun(of: harness.job))
        #expect(try harness.waitFor(active.runId) { $0.state == .running })

        let orphanName = "nightshift-gold-demo-20270101-000000-abcd"
        let orphan = try Self.createMachine(harness, named: orphanName)
        let otherAgent = try Self.createMachine(harness, named: "nightshift2-gold-demo-20270101-000000-abcd")
        // A longer prefix `nightshift-ops` would give this name; the job `ops-gold-demo` is not configured.
        let longerPrefix = try Self.createMachine(harness, named: "nightshift-ops-gold-demo-20270101-000000-abcd")
        let script = try harness.runtime.machines.createStartupScript(name: orphanName, script: "echo stale")
        let otherScript = try harness.runtime.machines.createStartupScript(
            name: "nightshift2-gold-demo-20270101-000000-abcd",
            script: "echo other"
        )
        #expect(Self.waitUntil { harness.environment.paperspace.machines.allSatisfy { $0.state == "ready" } })

        let report = harness.daemon.sweepOrphans(policy: Self.fastSweep)
        #expect(report.machinesDeleted == [orphan])
        #expect(report.machinesFailed.isEmpty)
        #expect(report.scriptsDeleted == [script])
        #expect(report.skippedOwned.contains(active.machineName))
        let left = Set(harness.environment.paperspace.machines.map(\.id))
        #expect(!left.contains(orphan))
        #expect(left.contains(otherAgent))
        #expect(left.contains(longerPrefix))
        let activeRecord = try #require(try harness.runtime.journal.run(id: active.runId))
        #expect(left.contains(try #require(activeRecord.machineId)))
        let scripts = Set(harness.environment.paperspace.startupScripts.map(\.id))
        #expect(!scripts.contains(script))
        #expect(scripts.contains(otherScript))
        #expect(scripts.contains(try #require(activeRecord.scriptId)))
        // The orphan went through stop, off and delete.
        let paths = harness.environment.paperspace.requests.map { "\($0.method) \($0.path)" }
        #expect(paths.contains("PATCH /machines/\(orphan)/stop"))
        #expect(paths.contains("DELETE /machines/\(orphan)"))
        #expect(harness.capture.text.contains("Orphan machine found; tearing it down"))

        _ = harness.runtime.dispatcher.flush(timeout: 10)
        let swept = harness.environment.webhook.deliveries.compactMap(\.jsonObject).filter {
            ($0["reason"] as? String)?.contains("orphan sweep found machine \(orphan)") == true
        }
        #expect(swept.count == 1)
        #expect(swept.first?["type"] as? String == "orphan_swept")

        harness.stop.raise()
        #expect(harness.daemon.waitForRuns(timeout: 60))
    }

    @Test func sweepClosesNeedsAttentionRun() throws {
        let harness = try EndToEndHarness()
        let runId = "20270101-000000-beef"
        let name = "nightshift-gold-demo-\(runId)"
        let machine = try Self.createMachine(harness, named: name)
        var record = RunRecord(
            runId: runId,
            job: "gold-demo",
            machineName: name,
            machineType: "C5",
            startedAt: Date(),
            maxDuration: 600
        )
        record.machineId = machine
        record.machineMayExist = true
        record.state = .needsAttention
        record.finishedAt = Date()
        try harness.runtime.journal.save(record)

        let report = harness.daemon.sweepOrphans(policy: Self.fastSweep)
        #expect(report.machinesDeleted == [machine])
        harness.expectNothingLeft()
        let closed = try #require(try harness.runtime.journal.run(id: runId))
        #expect(closed.state == .failed)
        let last = try #require(try harness.runtime.journal.transitions(runId: runId).last)
        #expect(last.reason.contains("orphan sweep confirmed machine \(machine) gone"))
    }

    @Test func lateCreateIsSweptAfterRecovery() throws {
        let harness = try EndToEndHarness()
        let runId = "20270101-000000-cafe"
        let name = "nightshift-gold-demo-\(runId)"
        // The journal shows that the daemon died while the create request was in flight.
        var record = RunRecord(
            runId: runId,
            job: "gold-demo",
            machineName: name,
            machineType: "C5",
            startedAt: Date(),
            maxDuration: 600
        )
        record.state = .creatingMachine
        record.machineMayExist = true
        record.scriptMayExist = true
        try harness.runtime.journal.save(record)
        // The stand-in delays the create by 5 s, so it lands after recovery looked the name up.
        harness.environment.paperspace.inject(.delay(seconds: 5, count: 1, method: "POST", pathContains: "/machines"))
        let created = Signal()
        let spec = harness.job.machine
        let machines = harness.runtime.machines
        let thread = Thread {
            _ = try? machines.ensureMachine(name: name, spec: spec, startupScriptId: "", autoShutdownHours: 1)
            created.raise()
        }
        thread.start()
        Thread.sleep(forTimeInterval: 0.3)

        #expect(try harness.daemon.recover() == 1)
        #expect(harness.daemon.waitForRuns(timeout: 60))
        let recovered = try #require(try harness.runtime.journal.run(id: runId))
        #expect(recovered.state == .failed)
        #expect(!created.isRaised, "the create landed before recovery finished, so the hole was not simulated")

        #expect(created.wait(seconds: 30))
        #expect(harness.environment.paperspace.machines.map(\.name) == [name])
        let report = harness.daemon.sweepOrphans(policy: Self.fastSweep)
        #expect(report.machinesDeleted.count == 1)
        harness.expectNothingLeft()
    }

    @Test func recoveryClosesRunWithMachineGone() throws {
        let harness = try EndToEndHarness()
        let runId = "20270101-000000-dead"
        var record = RunRecord(
            runId: runId,
            job: "gold-demo",
            machineName: "nightshift-gold-demo-\(runId)",
            machineType: "C5",
            startedAt: Date(),
            maxDuration: 600
        )
        record.state = .running
        record.machineId = "psgone00001"
        record.machineMayExist = true
        record.scriptMayExist = true
        try harness.runtime.journal.save(record)

        #expect(try harness.daemon.recover() == 1)
        #expect(harness.daemon.waitForRuns(timeout: 60))
        let closed = try #require(try harness.runtime.journal.run(id: runId))
        #expect(closed.state == .failed, "\(harness.dumpTransitions(runId))")
        #expect(closed.outcome?.reason == "the machine disappeared from Paperspace while the job ran")
        #expect(harness.environment.paperspace.allMachinesEverCreated.isEmpty)
        harness.expectNothingLeft()
    }
}
