import Config
import Foundation
import Support

/// Drives one run's `Lifecycle` against Paperspace, the Hub and the journal, on the calling thread.
///
/// For every event it applies the transition, writes the new record to the journal, and only then runs the
/// actions. Waits between polls block on the cancellation signal, so SIGTERM takes effect at once. Before teardown
/// it fails the run and starts teardown. During teardown it is ignored, because teardown must finish.
public final class RunSupervisor: @unchecked Sendable {
    let job: TrainingJob
    let machines: MachineService
    let results: ResultStore
    let journal: Journal
    let events: RunEventSink
    let logger: Logger
    let cancel: Signal
    let scriptText: () -> String
    /// Called after every transition, for `nightshift start` and the demo to print state changes.
    let onTransition: @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void
    /// Called after every machine poll with the state Paperspace reported (nil when the machine is gone), for the
    /// progress line that `nightshift start` shows on a terminal.
    let onPoll: @Sendable (RunRecord, String?) -> Void

    public init(
        job: TrainingJob,
        machines: MachineService,
        results: ResultStore,
        journal: Journal,
        events: RunEventSink,
        logger: Logger,
        cancel: Signal,
        scriptText: @escaping () -> String,
        onTransition: @escaping @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void = { _, _, _, _ in
        },
        onPoll: @escaping @Sendable (RunRecord, String?) -> Void = { _, _ in }
    ) {
        self.job = job
        self.machines = machines
        self.results = results
        self.journal = journal
        self.events = events
        self.logger = logger
        self.cancel = cancel
        self.scriptText = scriptText
        self.onTransition = onTransition
        self.onPoll = onPoll
    }

    /// Returns the lifecycle limits for a job.
    public static func policy(for job: TrainingJob) -> LifecyclePolicy {
        LifecyclePolicy(
            startupPoll: job.poll.startup,
            runningPoll: job.poll.running,
            teardownPoll: job.poll.teardown,
            readyTimeout: job.timeouts.ready,
            stopTimeout: job.timeouts.stop,
            deleteTimeout: job.timeouts.delete,
            teardownLimit: job.timeouts.teardown
        )
    }

    /// Runs a new run from `pending` to a terminal state and returns the final record.
    public func run(_ record: RunRecord) -> RunRecord {
        self.drive(Lifecycle(record: record, policy: Self.policy(for: self.job)), first: .started)
    }

    /// Continues a run found in the journal after a restart and returns the final record.
    public func resume(_ record: RunRecord) -> RunRecord {
        self.drive(Lifecycle(record: record, policy: Self.policy(for: self.job)), first: .recovered)
    }

    private var runLogger: Logger {
        self.logger.with(["job": self.job.name])
    }

    private func drive(_ initial: Lifecycle, first: LifecycleEvent) -> RunRecord {
        var lifecycle = initial
        var logger = self.runLogger.with(["run.id": lifecycle.record.runId])
        var pending: [LifecycleAction] = self.apply(first, to: &lifecycle, logger: logger)

        while !pending.isEmpty {
            let action = pending.removeFirst()
            if let id = lifecycle.record.machineId {
                logger[metadataKey: "machine.id"] = id
            }
            guard let event = self.perform(action, lifecycle: lifecycle, logger: logger) else { continue }
            pending.append(contentsOf: self.apply(event, to: &lifecycle, logger: logger))
        }
        return lifecycle.record
    }

    /// Applies an event, journals the result, and returns the actions to run.
    private func apply(_ event: LifecycleEvent, to lifecycle: inout Lifecycle, logger: Logger) -> [LifecycleAction] {
        var actions = lifecycle.handle(event, now: Date())
        let transitions = lifecycle.transitions
        if lifecycle.record.state.isTerminal {
            // Recovery skips runs the journal shows finished, so the final alert goes to the durable outbox before
            // the final state is journaled. A crash between the two repeats the alert with the same event id, and
            // the outbox keeps it once.
            for case .notify(let kind) in actions {
                self.events.publish(kind, record: lifecycle.record, job: self.job)
            }
            actions.removeAll { action in
                if case .notify = action { return true }
                return false
            }
        }
        do {
            try self.journal.save(lifecycle.record, transitions: transitions)
        } catch {
            // The run continues, because stopping here would leak the machine; the error is logged loudly.
            logger.critical("Journal write failed", metadata: ["error": "\(error)"])
        }
        for transition in transitions {
            var metadata: Logger.Metadata = [
                "state.from": transition.from.rawValue, "state.to": transition.to.rawValue, "reason": transition.reason,
            ]
            if let id = lifecycle.record.machineId { metadata["machine.id"] = id }
            let level: Logger.Level =
                transition.to == .needsAttention ? .critical : (transition.to == .failed ? .error : .notice)
            logger.log(level: level, "Run state changed", metadata: metadata)
            self.onTransition(lifecycle.record, transition.from, transition.to, transition.reason)
        }
        return actions
    }

    /// Runs one action and returns the event it produced, or nil when it produces none.
    private func perform(_ action: LifecycleAction, lifecycle: Lifecycle, logger: Logger) -> LifecycleEvent? {
        let record = lifecycle.record
        switch action {
        case .notify(let kind):
            self.events.publish(kind, record: record, job: self.job)
            return nil

        case .deleteScriptBestEffort:
            do {
                var ids = (try? self.machines.findStartupScripts(named: record.scriptName)) ?? []
                if let id = record.scriptId, !ids.contains(id) { ids.append(id) }
                for id in ids {
                    try self.machines.deleteStartupScript(id: id)
                    logger.notice("Startup script deleted after teardown gave up", metadata: ["script.id": id])
                }
            } catch {
                logger.critical(
                    "Startup script delete failed after teardown gave up; delete it by hand, it contains the Hub token",
                    metadata: ["script.name": record.scriptName, "error": "\(error)"]
                )
            }
            return nil

        case .createScript:
            return self.attempt("create startup script", logger: logger) {
                let id = try self.machines.createStartupScript(name: record.scriptName, script: self.scriptText())
                logger.info("Startup script created", metadata: ["script.id": id])
                return .scriptCreated(id: id)
            }

        case .createMachine:
            return self.attempt("create machine", logger: logger) {
                let hours = max(1, Int((self.job.maxDuration / 3600).rounded(.up)))
                let id = try self.machines.ensureMachine(
                    name: record.machineName,
                    spec: self.job.machine,
                    startupScriptId: record.scriptId ?? "",
                    autoShutdownHours: hours
                )
                logger.info("Machine created", metadata: ["machine.id": id, "machine.name": record.machineName])
                return .machineCreated(id: id)
            }

        case .pollMachine(let delay):
            if let cancelled = self.wait(delay, state: record.state) { return cancelled }
            return self.attempt("read machine state", logger: logger) {
                guard let id = try self.machineId(for: record) else { return .machineObserved(state: nil) }
                // After a delete request a 404 is the expected response, and a stale or failing list must not keep
                // the run from finishing; before teardown, a 404 is cross-checked by name.
                let state =
                    record.state.isTeardown
                    ? try self.machines.machineState(id: id)
                    : try self.confirmedState(id: id, name: record.machineName, logger: logger)
                logger.debug("Machine polled", metadata: ["machine.id": id, "machine.state": state ?? "gone"])
                self.onPoll(record, state)
                return .machineObserved(state: state)
            }

        case .checkResults:
            return self.attempt("read results from the model repo", logger: logger) {
                let results = try self.results.checkResults(runId: record.runId, job: self.job)
                return .resultsChecked(
                    succeeded: results.succeeded,
                    reason: results.reason,
                    commitURL: results.commitURL
                )
            }

        case .stopMachine(let delay):
            _ = self.wait(delay, state: record.state)
            return self.attempt("stop machine", logger: logger) {
                if let id = try self.machineId(for: record) {
                    try self.machines.stopMachine(id: id)
                    logger.info("Machine stop requested", metadata: ["machine.id": id])
                }
                return .stopRequested
            }

        case .deleteMachine(let delay):
            _ = self.wait(delay, state: record.state)
            return self.attempt("delete machine", logger: logger) {
                if let id = try self.machineId(for: record) {
                    try self.machines.deleteMachine(id: id)
                    logger.info("Machine delete requested", metadata: ["machine.id": id])
                }
                return .deleteRequested
            }

        case .deleteScript(let delay):
            _ = self.wait(delay, state: record.state)
            return self.attempt("delete startup script", logger: logger) {
                // A second machine with the run's name (a duplicate create) must not outlive the run. When the list
                // itself fails, the script is still deleted: it carries the Hub token.
                var remaining: [(id: String, state: String)] = []
                do {
                    remaining = try self.machines.listMachines(named: record.machineName)
                } catch {
                    logger.warning(
                        "Listing machines by name failed before the script delete; deleting the script anyway",
                        metadata: ["machine.name": record.machineName, "error": "\(error)"]
                    )
                }
                // A listed machine that a read by id no longer finds is a stale list entry, not a machine.
                // A read that fails keeps the machine in, so a real duplicate is never skipped by accident.
                let others = remaining.filter { listed in
                    guard listed.id != record.machineId else { return false }
                    do {
                        return try self.machines.machineState(id: listed.id) != nil
                    } catch {
                        return true
                    }
                }
                if let other = others.first {
                    logger.warning(
                        "Another machine with the run's name still exists; tearing it down",
                        metadata: ["machine.id": other.id, "machine.state": other.state, "machines": "\(others.count)"]
                    )
                    return .otherMachineFound(id: other.id)
                }
                var ids = try self.machines.findStartupScripts(named: record.scriptName)
                if let id = record.scriptId, !ids.contains(id) { ids.append(id) }
                for id in ids {
                    try self.machines.deleteStartupScript(id: id)
                    logger.info("Startup script deleted", metadata: ["script.id": id])
                }
                return .scriptDeleted
            }
        }
    }

    /// Returns the machine's id from the record, or looks it up by the run's machine name.
    private func machineId(for record: RunRecord) throws -> String? {
        if let id = record.machineId { return id }
        guard record.machineMayExist else { return nil }
        return try self.machines.listMachines(named: record.machineName).first?.id
    }

    /// Returns the machine's state, or nil only when neither a read by id nor a list by name finds it, so that
    /// one stale or wrong 404 is not taken for a deleted machine.
    private func confirmedState(id: String, name: String, logger: Logger) throws -> String? {
        if let state = try self.machines.machineState(id: id) { return state }
        if let listed = try self.machines.listMachines(named: name).first(where: { $0.id == id }) {
            logger.warning(
                "Machine not found by id but still listed by name",
                metadata: ["machine.id": id, "machine.state": listed.state]
            )
            return listed.state
        }
        return nil
    }

    private func attempt(_ operation: String, logger: Logger, _ body: () throws -> LifecycleEvent) -> LifecycleEvent {
        do {
            return try body()
        } catch {
            logger.error("Run action failed", metadata: ["operation": operation, "error": "\(error)"])
            return .actionFailed(operation: operation, message: "\(error)")
        }
    }

    /// Waits `seconds`; returns a `.cancelled` event when the daemon is stopping and the run is not yet in teardown.
    private func wait(_ seconds: Double, state: LifecycleState) -> LifecycleEvent? {
        if state.isTeardown || state.isTerminal {
            // Teardown waits are not cut short by cancellation, but they must not stall on an already raised signal.
            if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
            return nil
        }
        if self.cancel.isRaised || (seconds > 0 && self.cancel.wait(seconds: seconds)) {
            return .cancelled(reason: "nightshift is shutting down")
        }
        return nil
    }
}
