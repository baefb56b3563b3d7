import Foundation
import Notifiers
import Support

/// Intervals and limits of the orphan sweep, in seconds.
public struct SweepPolicy: Sendable, Equatable {
    /// Time between sweeps while the daemon runs.
    public var interval: Double
    /// Time between machine polls during a teardown.
    public var poll: Double
    /// Time in `stopping` after which the stop is requested again.
    public var stopTimeout: Double
    /// Time after the delete request after which the delete is sent again.
    public var deleteTimeout: Double
    /// Total time one machine's teardown may take before it raises `teardown_failed`.
    public var teardownLimit: Double

    public init(
        interval: Double = 600,
        poll: Double = 5,
        stopTimeout: Double = 600,
        deleteTimeout: Double = 600,
        teardownLimit: Double = 3600
    ) {
        self.interval = interval
        self.poll = poll
        self.stopTimeout = stopTimeout
        self.deleteTimeout = deleteTimeout
        self.teardownLimit = teardownLimit
    }
}

/// What one sweep found and did.
public struct SweepReport: Sendable, Equatable {
    /// Machines that were torn down and confirmed gone.
    public var machinesDeleted: [String] = []
    /// Machines whose teardown gave up; a `teardown_failed` alert went out for each.
    public var machinesFailed: [String] = []
    public var scriptsDeleted: [String] = []
    /// Names with this agent's prefix that an active run owns, so the sweep left them alone.
    public var skippedOwned: [String] = []
    /// Whether the machine or script listing failed, so the sweep could not look at everything.
    public var listingFailed = false

    public init() {}
}

/// Finds machines and startup scripts that carry this agent's name prefix but that no active run owns, and
/// tears them down: stop, wait for `off`, delete, confirm gone.
///
/// A name is this agent's only when it has exactly the form `<prefix>-<job>-<run id>` and either the job is in
/// the config or the run is in the journal. A run owns its name while the journal shows it in flight (recovery
/// drives it), while this process drives it, or while another live nightshift process holds its run lock.
public final class OrphanSweeper: @unchecked Sendable {
    let prefix: String
    let jobs: Set<String>
    let machines: MachineService
    let journal: Journal
    let policy: SweepPolicy
    let logger: Logger
    /// Returns true when this process drives the run with that id.
    let isDrivenHere: @Sendable (String) -> Bool
    /// Returns the path of the run lock of a run id.
    let lockPath: @Sendable (String) -> String
    /// Sends an alert about one machine: `teardown_failed`, or `run_failed` naming the swept orphan.
    let alert: @Sendable (RunNotification) -> Void

    public init(
        prefix: String,
        jobs: Set<String>,
        machines: MachineService,
        journal: Journal,
        policy: SweepPolicy,
        logger: Logger,
        isDrivenHere: @escaping @Sendable (String) -> Bool,
        lockPath: @escaping @Sendable (String) -> String,
        alert: @escaping @Sendable (RunNotification) -> Void
    ) {
        self.prefix = prefix
        self.jobs = jobs
        self.machines = machines
        self.journal = journal
        self.policy = policy
        self.logger = logger.with(["component": "teardown", "sweep": "orphans"])
        self.isDrivenHere = isDrivenHere
        self.lockPath = lockPath
        self.alert = alert
    }

    /// Runs one sweep on the calling thread; it blocks while it tears machines down.
    public func sweep() -> SweepReport {
        var report = SweepReport()
        var listed: [(id: String, name: String, state: String)] = []
        do {
            listed = try self.machines.listAllMachines()
        } catch {
            report.listingFailed = true
            self.logger.error("Orphan sweep could not list machines", metadata: ["error": "\(error)"])
        }
        for machine in listed {
            guard let name = MachineName.parse(machine.name, prefix: self.prefix) else { continue }
            guard let claim = self.claim(name, report: &report) else { continue }
            defer { claim.lock.release() }
            self.logger.warning(
                "Orphan machine found; tearing it down",
                metadata: [
                    "machine.id": machine.id, "machine.name": machine.name, "machine.state": machine.state,
                    "run.id": name.runId, "journal": claim.record.map { $0.state.rawValue } ?? "no record",
                ]
            )
            let started = Date()
            if let failure = self.tearDown(id: machine.id, state: machine.state) {
                report.machinesFailed.append(machine.id)
                self.send(.teardownFailed, name: name, machineId: machine.id, reason: failure, started: started)
            } else {
                report.machinesDeleted.append(machine.id)
                self.close(claim.record, machineId: machine.id)
                self.send(
                    .orphanSwept,
                    name: name,
                    machineId: machine.id,
                    reason: "the orphan sweep found machine \(machine.id) (\(machine.name)) in state "
                        + "\(machine.state) with no active run and deleted it",
                    started: started
                )
            }
        }
        self.sweepScripts(&report)
        return report
    }

    /// A name the sweep may tear down: the run lock it holds meanwhile and the run's journal record, if any.
    private struct Claim {
        var lock: FileLock
        var record: RunRecord?
    }

    /// Returns a claim on `name` when no active run owns it and it is this agent's, or nil.
    private func claim(_ name: MachineName, report: inout SweepReport) -> Claim? {
        let record: RunRecord?
        do {
            record = try self.journal.run(id: name.runId)
        } catch {
            self.logger.error(
                "Orphan sweep could not read the journal; leaving the name alone",
                metadata: ["machine.name": name.text, "error": "\(error)"]
            )
            return nil
        }
        if let record, !record.state.isTerminal {
            report.skippedOwned.append(name.text)
            return nil
        }
        if record == nil && !self.jobs.contains(name.job) {
            // Without a record or a configured job, the name may belong to an agent whose prefix extends ours.
            self.logger.notice(
                "Name has this agent's prefix but no known job or run; leaving it alone",
                metadata: ["machine.name": name.text, "job": name.job]
            )
            return nil
        }
        if self.isDrivenHere(name.runId) {
            report.skippedOwned.append(name.text)
            return nil
        }
        guard let lock = try? FileLock.tryAcquire(self.lockPath(name.runId)) else {
            report.skippedOwned.append(name.text)
            return nil
        }
        // The run may have started between the journal read and the lock, so read it again under the lock.
        let current = (try? self.journal.run(id: name.runId)) ?? record
        if let current, !current.state.isTerminal {
            lock.release()
            report.skippedOwned.append(name.text)
            return nil
        }
        return Claim(lock: lock, record: current)
    }

    /// Stops, deletes and confirms the machine gone, retrying until `teardownLimit`. Returns nil on success, or
    /// the reason it gave up.
    func tearDown(id: String, state initialState: String) -> String? {
        let logger = self.logger.with(["machine.id": id])
        let started = Date()
        var state: String? = initialState
        var stopSentAt: Date?
        var deleteSentAt: Date?
        var lastError = "none"
        var failures = 0
        while Date().timeIntervalSince(started) < self.policy.teardownLimit {
            do {
                if let sent = deleteSentAt {
                    state = try self.machines.machineState(id: id)
                    if state == nil {
                        logger.notice("Orphan machine is gone")
                        return nil
                    }
                    if Date().timeIntervalSince(sent) >= self.policy.deleteTimeout {
                        deleteSentAt = nil
                    }
                } else if state == "off" || state == nil {
                    // A machine reported missing still gets its delete: only a confirmed delete proves it gone.
                    try self.machines.deleteMachine(id: id)
                    deleteSentAt = Date()
                    logger.info("Orphan machine delete requested")
                    continue
                } else if let sent = stopSentAt, Date().timeIntervalSince(sent) < self.policy.stopTimeout {
                    state = try self.machines.machineState(id: id)
                } else {
                    try self.machines.stopMachine(id: id)
                    stopSentAt = Date()
                    logger.info("Orphan machine stop requested", metadata: ["machine.state": state ?? "gone"])
                    state = try self.machines.machineState(id: id)
                }
                failures = 0
                if state == "off" || state == nil { continue }
                Thread.sleep(forTimeInterval: self.policy.poll)
            } catch {
                failures += 1
                lastError = "\(error)"
                let delay = min(300, self.policy.poll * pow(2, Double(min(failures, 10) - 1)))
                logger.warning(
                    "Orphan teardown step failed; retrying",
                    metadata: ["error": lastError, "retry.delay_s": String(format: "%.1f", delay)]
                )
                Thread.sleep(forTimeInterval: delay)
            }
        }
        let reason =
            "teardown of orphan machine \(id) did not finish within \(formatDuration(self.policy.teardownLimit)) "
            + "(last error: \(lastError)); check the Paperspace console and delete it by hand"
        logger.critical("Orphan teardown gave up", metadata: ["reason": reason])
        return reason
    }

    /// Ends the journal record of a swept run after the cloud confirmed its machine gone: a `needsAttention`
    /// run becomes `failed`, and every record gets a transition that names the sweep.
    private func close(_ record: RunRecord?, machineId: String) {
        guard var record else { return }
        let from = record.state
        let reason = "orphan sweep confirmed machine \(machineId) gone"
        if record.state == .needsAttention {
            record.state = .failed
            record.stateEnteredAt = Date()
        }
        record.machineMayExist = false
        do {
            try self.journal.save(record, transitions: [(from, record.state, reason)])
        } catch {
            self.logger.error(
                "Journal write after the orphan sweep failed",
                metadata: ["run.id": record.runId, "error": "\(error)"]
            )
        }
    }

    private func sweepScripts(_ report: inout SweepReport) {
        let scripts: [(id: String, name: String)]
        do {
            scripts = try self.machines.listAllStartupScripts()
        } catch {
            report.listingFailed = true
            self.logger.error("Orphan sweep could not list startup scripts", metadata: ["error": "\(error)"])
            return
        }
        for script in scripts {
            guard let name = MachineName.parse(script.name, prefix: self.prefix) else { continue }
            guard let claim = self.claim(name, report: &report) else { continue }
            defer { claim.lock.release() }
            do {
                try self.machines.deleteStartupScript(id: script.id)
                report.scriptsDeleted.append(script.id)
                self.logger.notice(
                    "Orphan startup script deleted",
                    metadata: ["script.id": script.id, "script.name": script.name, "run.id": name.runId]
                )
            } catch {
                self.logger.error(
                    "Orphan startup script delete failed; the next sweep tries again",
                    metadata: ["script.id": script.id, "script.name": script.name, "error": "\(error)"]
                )
            }
        }
    }

    private func send(_ kind: RunEventKind, name: MachineName, machineId: String, reason: String, started: Date) {
        let suffix = kind == .teardownFailed ? "orphan_teardown_failed" : "orphan_swept"
        self.alert(
            RunNotification(
                kind: kind,
                job: name.job,
                runId: name.runId,
                occurredAt: Date(),
                eventId: "\(name.runId):\(machineId):\(suffix)",
                machineId: machineId,
                durationSeconds: Date().timeIntervalSince(started),
                failedState: "orphan",
                reason: reason
            )
        )
    }
}
