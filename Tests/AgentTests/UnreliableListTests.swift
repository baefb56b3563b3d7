import Config
import Foundation
import Paperspace
import Support
import Testing

@testable import Agent

/// Delegates to the real service, but its list by name can be made to fail, or to keep reporting deleted
/// machines as `off`, as a lagging read replica would.
final class UnreliableListMachines: MachineService, @unchecked Sendable {
    let inner: MachineService
    let listFails = Protected(false)
    let keepsDeletedMachines = Protected(false)
    private let deleted = Protected<[String: String]>([:])

    init(_ inner: MachineService) {
        self.inner = inner
    }

    func createStartupScript(name: String, script: String) throws -> String {
        try self.inner.createStartupScript(name: name, script: script)
    }

    func findStartupScripts(named name: String) throws -> [String] {
        try self.inner.findStartupScripts(named: name)
    }

    func deleteStartupScript(id: String) throws {
        try self.inner.deleteStartupScript(id: id)
    }

    func ensureMachine(name: String, spec: MachineSpec, startupScriptId: String, autoShutdownHours: Int) throws
        -> String
    {
        try self.inner.ensureMachine(
            name: name,
            spec: spec,
            startupScriptId: startupScriptId,
            autoShutdownHours: autoShutdownHours
        )
    }

    func listMachines(named name: String) throws -> [(id: String, state: String)] {
        if self.listFails.current {
            throw PaperspaceError.invalidResponse(operation: "list machines", detail: "injected failure")
        }
        var result = try self.inner.listMachines(named: name)
        for (id, deletedName) in self.deleted.current
        where deletedName == name && !result.contains(where: { $0.id == id }) {
            result.append((id, "off"))
        }
        return result
    }

    func machineState(id: String) throws -> String? {
        try self.inner.machineState(id: id)
    }

    func stopMachine(id: String) throws {
        try self.inner.stopMachine(id: id)
    }

    func deleteMachine(id: String) throws {
        try self.inner.deleteMachine(id: id)
        if self.keepsDeletedMachines.current, let name = self.nameOfRun {
            self.deleted.withLock { $0[id] = name }
        }
    }

    /// The machine name of the run under test, so deleted machines stay listed under it.
    nonisolated(unsafe) var nameOfRun: String?
}

extension EndToEndHarness {
    /// Replaces the runtime's machine service and rebuilds the daemon on it.
    func useMachines(_ machines: MachineService) {
        let old = self.runtime!
        self.runtime = Runtime(
            configuration: old.configuration,
            machines: machines,
            results: old.results,
            dispatcher: old.dispatcher,
            events: old.events,
            journal: old.journal
        )
        self.daemon = Daemon(
            runtime: self.runtime,
            logger: Logger(label: "nightshift", logLevel: .debug, sink: self.capture.sink),
            stop: self.stop
        )
    }
}

@Suite(.serialized)
struct UnreliableListTests {
    @Test func failingListDoesNotBlockTeardown() throws {
        let harness = try EndToEndHarness(
            trainCommand: "sleep 600",
            maxDuration: "5s",
            timeouts: ("2m", "2m", "2m", "15s")
        )
        let machines = UnreliableListMachines(harness.runtime.machines)
        harness.useMachines(machines)
        let started = try #require(harness.daemon.startRun(of: harness.job))
        #expect(
            try harness.waitFor(started.runId, timeout: 60) { $0.state == .confirmingGone || $0.state == .deleting }
        )
        machines.listFails.withLock { $0 = true }
        #expect(harness.daemon.waitForRuns(timeout: 90))
        let record = try #require(try harness.runtime.journal.run(id: started.runId))
        #expect(record.state == .failed, "\(harness.dumpTransitions(started.runId))")
        harness.expectNothingLeft()
    }

    @Test func staleListAfterDeleteDoesNotLoop() throws {
        let harness = try EndToEndHarness(
            trainCommand: "sleep 600",
            maxDuration: "5s",
            timeouts: ("2m", "2m", "5s", "20s")
        )
        let machines = UnreliableListMachines(harness.runtime.machines)
        harness.useMachines(machines)
        machines.keepsDeletedMachines.withLock { $0 = true }
        let started = try #require(harness.daemon.startRun(of: harness.job))
        machines.nameOfRun = started.machineName
        #expect(harness.daemon.waitForRuns(timeout: 90))
        let record = try #require(try harness.runtime.journal.run(id: started.runId))
        #expect(record.state == .failed, "\(harness.dumpTransitions(started.runId))")
        harness.expectNothingLeft()
    }

    @Test func teardownGivingUpStillDeletesScript() throws {
        let harness = try EndToEndHarness(timeouts: ("2m", "2m", "2m", "5s"))
        harness.environment.paperspace.inject(.deleteFails(count: 100_000))
        let record = try harness.runOnce()
        #expect(record.state == .needsAttention)
        // The machine could not be deleted, but the script, which carries the Hub token, is gone.
        #expect(harness.environment.paperspace.machines.count == 1)
        #expect(harness.environment.paperspace.startupScripts.isEmpty)
    }
}
