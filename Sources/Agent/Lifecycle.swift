import Foundation
import Support

/// Something that happened to a run: the result of an action, an observation, or a request from outside.
public enum LifecycleEvent: Sendable, Equatable {
    /// The run may begin creating resources.
    case started
    case scriptCreated(id: String)
    case machineCreated(id: String)
    /// A poll returned the machine's state. Nil means Paperspace no longer has the machine.
    case machineObserved(state: String?)
    /// The status record and the outputs were read from the model repo.
    case resultsChecked(succeeded: Bool, reason: String?, commitURL: String?)
    case stopRequested
    case deleteRequested
    case scriptDeleted
    /// Another machine with the run's name turned up before the script delete, from a duplicate create or an
    /// earlier attempt. It is torn down too.
    case otherMachineFound(id: String)
    /// An action failed. `operation` names it and `message` gives the reason, without secrets.
    case actionFailed(operation: String, message: String)
    /// The daemon is shutting down (SIGINT or SIGTERM) or a person asked to abort the run.
    case cancelled(reason: String)
    /// The daemon restarted and found this run in the journal.
    case recovered
}

/// Something the driver must do. The state machine itself performs no I/O.
public enum LifecycleAction: Sendable, Equatable {
    case createScript
    /// Create the machine, or adopt one that already carries the run's name.
    case createMachine
    /// Read the machine's state after waiting `after` seconds.
    case pollMachine(after: Double)
    case checkResults
    /// Request a stop; the driver looks the machine up by name when its id is unknown.
    case stopMachine(after: Double)
    case deleteMachine(after: Double)
    /// Delete the startup script; the driver looks it up by name when its id is unknown. Before that, the driver
    /// lists machines by the run's name and reports any that remain with `otherMachineFound`.
    case deleteScript(after: Double)
    case notify(RunEventKind)
    /// Try once to delete the startup script after teardown gave up on the machine. The script carries the Hub
    /// token, so it must not stay at Paperspace just because the machine could not be confirmed gone.
    case deleteScriptBestEffort
}

/// Limits and intervals the state machine applies, from the job's config.
public struct LifecyclePolicy: Sendable, Equatable {
    public var startupPoll: Double
    public var runningPoll: Double
    public var teardownPoll: Double
    /// Maximum time from machine create until `ready`.
    public var readyTimeout: Double
    /// Maximum time in `waitingForOff` before the stop is requested again.
    public var stopTimeout: Double
    /// Maximum time in `confirmingGone` before the delete is requested again.
    public var deleteTimeout: Double
    /// How long teardown keeps retrying in total before it raises a teardown-failed alert and gives up.
    public var teardownLimit: Double

    public init(
        startupPoll: Double = 10,
        runningPoll: Double = 30,
        teardownPoll: Double = 5,
        readyTimeout: Double = 1200,
        stopTimeout: Double = 600,
        deleteTimeout: Double = 600,
        teardownLimit: Double = 3600
    ) {
        self.startupPoll = startupPoll
        self.runningPoll = runningPoll
        self.teardownPoll = teardownPoll
        self.readyTimeout = readyTimeout
        self.stopTimeout = stopTimeout
        self.deleteTimeout = deleteTimeout
        self.teardownLimit = teardownLimit
    }

    /// Returns the delay before retrying teardown step number `failures`. It doubles from the teardown poll
    /// interval up to 5 minutes.
    func teardownRetryDelay(failures: Int) -> Double {
        min(300, self.teardownPoll * pow(2, Double(min(failures, 10) - 1)))
    }
}

/// The lifecycle of one training run as a value type: events in, actions out, no I/O.
///
/// Every path that leaves the happy path enters teardown: stop (unless the machine is already off), wait for
/// `off`, delete, confirm the machine is gone, delete the startup script. Teardown steps are retried with backoff
/// until they succeed or `teardownLimit` runs out, which ends in `needsAttention` and a `teardown_failed` alert.
public struct Lifecycle: Sendable {
    public private(set) var record: RunRecord
    public let policy: LifecyclePolicy
    /// Transitions made by the last `handle` call, for the journal: (from, to, reason).
    public private(set) var transitions: [(from: LifecycleState, to: LifecycleState, reason: String)] = []

    public init(record: RunRecord, policy: LifecyclePolicy) {
        self.record = record
        self.policy = policy
    }

    public var state: LifecycleState { self.record.state }

    /// Applies `event` at time `now` and returns the actions to run, in order.
    public mutating func handle(_ event: LifecycleEvent, now: Date) -> [LifecycleAction] {
        self.transitions = []
        guard !self.record.state.isTerminal else { return [] }

        switch event {
        case .started:
            guard self.record.state == .pending else { return [] }
            self.record.scriptMayExist = true
            self.move(to: .creatingScript, reason: "run started", now: now)
            return [.notify(.started), .createScript]

        case .scriptCreated(let id):
            guard self.record.state == .creatingScript else { return [] }
            self.record.scriptId = id
            self.record.machineMayExist = true
            self.move(to: .creatingMachine, reason: "startup script \(id) created", now: now)
            return [.createMachine]

        case .machineCreated(let id):
            guard self.record.state == .creatingMachine else { return [] }
            self.record.machineId = id
            self.move(to: .waitingForReady, reason: "machine \(id) created", now: now)
            return [.pollMachine(after: self.policy.startupPoll)]

        case .machineObserved(let machineState):
            return self.observe(machineState, now: now)

        case .resultsChecked(let succeeded, let reason, let commitURL):
            guard self.record.state == .checkingResults else { return [] }
            self.record.modelCommitURL = commitURL
            if succeeded {
                self.record.outcome = RunRecord.Outcome(succeeded: true, failedState: nil, reason: nil)
                return self.beginTeardown(reason: "job succeeded", now: now, machineIsOff: true)
            }
            return self.fail(
                reason: reason ?? "the status record does not report success",
                now: now,
                machineIsOff: true
            )

        case .stopRequested:
            guard self.record.state == .stopping else { return [] }
            self.record.teardownFailures = 0
            self.move(to: .waitingForOff, reason: "stop requested", now: now)
            return [.pollMachine(after: self.policy.teardownPoll)]

        case .deleteRequested:
            guard self.record.state == .deleting else { return [] }
            self.record.teardownFailures = 0
            self.move(to: .confirmingGone, reason: "delete requested", now: now)
            return [.pollMachine(after: self.policy.teardownPoll)]

        case .otherMachineFound(let id):
            guard self.record.state == .deletingScript else { return [] }
            self.record.machineId = id
            self.record.machineMayExist = true
            self.record.teardownFailures = 0
            self.move(to: .stopping, reason: "another machine \(id) with the run's name still exists", now: now)
            return [.stopMachine(after: 0)]

        case .scriptDeleted:
            guard self.record.state == .deletingScript else { return [] }
            self.record.scriptMayExist = false
            return self.finish(now: now)

        case .actionFailed(let operation, let message):
            return self.actionFailed(operation: operation, message: message, now: now)

        case .cancelled(let reason):
            guard !self.record.state.isTeardown else { return [] }
            return self.fail(reason: reason, now: now, machineIsOff: false)

        case .recovered:
            return self.recover(now: now)
        }
    }

    // MARK: - Observations

    private mutating func observe(_ machineState: String?, now: Date) -> [LifecycleAction] {
        self.record.lastMachineState = machineState
        let elapsedInState = now.timeIntervalSince(self.record.stateEnteredAt)

        switch self.record.state {
        case .waitingForReady, .running:
            guard let machineState else {
                // Not found by id nor by name. That may still be a stale read, so teardown runs in full: Paperspace
                // returns 404 to a stop and a delete of a machine that is really gone, which counts as done.
                return self.fail(
                    reason: "the machine disappeared from Paperspace while the job ran",
                    now: now,
                    machineIsOff: false
                )
            }
            if machineState == "off" {
                // The startup script powered the machine off: the job is over, successfully or not.
                self.move(to: .checkingResults, reason: "machine powered off", now: now)
                return [.checkResults]
            }
            if now >= self.record.deadline {
                let limit = formatDuration(self.record.deadline.timeIntervalSince(self.record.startedAt))
                return self.fail(reason: "maximum duration of \(limit) exceeded", now: now, machineIsOff: false)
            }
            if self.record.state == .waitingForReady {
                if machineState == "ready" || machineState == "serviceready" {
                    self.move(to: .running, reason: "machine is \(machineState)", now: now)
                    return [.pollMachine(after: self.policy.runningPoll)]
                }
                if elapsedInState >= self.policy.readyTimeout {
                    return self.fail(
                        reason: "machine stuck in \(machineState) for \(formatDuration(elapsedInState))",
                        now: now,
                        machineIsOff: false
                    )
                }
                return [.pollMachine(after: self.policy.startupPoll)]
            }
            return [.pollMachine(after: self.policy.runningPoll)]

        case .waitingForOff:
            guard let machineState else {
                // The delete is still sent, because only a confirmed delete proves the machine is gone.
                self.move(
                    to: .deleting,
                    reason: "machine not found after the stop request; deleting to make sure",
                    now: now
                )
                return [.deleteMachine(after: 0)]
            }
            if machineState == "off" {
                self.move(to: .deleting, reason: "machine is off", now: now)
                return [.deleteMachine(after: 0)]
            }
            if elapsedInState >= self.policy.stopTimeout {
                return self.retryTeardown(
                    step: .stopping,
                    reason:
                        "machine stuck in \(machineState) for \(formatDuration(elapsedInState)) after the stop request",
                    now: now
                )
            }
            return [.pollMachine(after: self.policy.teardownPoll)]

        case .confirmingGone:
            guard let machineState else {
                self.record.machineMayExist = false
                self.move(to: .deletingScript, reason: "machine is gone", now: now)
                return [.deleteScript(after: 0)]
            }
            if elapsedInState >= self.policy.deleteTimeout {
                return self.retryTeardown(
                    step: .deleting,
                    reason:
                        "machine still listed as \(machineState) "
                        + "\(formatDuration(elapsedInState)) after the delete request",
                    now: now
                )
            }
            return [.pollMachine(after: self.policy.teardownPoll)]

        default:
            return []
        }
    }

    // MARK: - Failures and teardown

    private mutating func actionFailed(operation: String, message: String, now: Date) -> [LifecycleAction] {
        let state = self.record.state
        if state.isTeardown {
            return self.retryTeardown(step: state, reason: "\(operation) failed: \(message)", now: now)
        }
        if state == .checkingResults {
            // The machine is already off; failing to read results fails the run but needs no stop.
            return self.fail(reason: "\(operation) failed: \(message)", now: now, machineIsOff: true)
        }
        if state == .waitingForReady || state == .running {
            // A failed poll is retried while the deadline allows; the HTTP client already retried transient errors.
            if now >= self.record.deadline {
                return self.fail(
                    reason: "\(operation) failed past the deadline: \(message)",
                    now: now,
                    machineIsOff: false
                )
            }
            self.transitions.append((state, state, "\(operation) failed, polling again: \(message)"))
            let interval = state == .running ? self.policy.runningPoll : self.policy.startupPoll
            return [.pollMachine(after: interval)]
        }
        return self.fail(reason: "\(operation) failed: \(message)", now: now, machineIsOff: false)
    }

    private mutating func fail(reason: String, now: Date, machineIsOff: Bool = false) -> [LifecycleAction] {
        let failedState = self.record.state
        self.record.outcome = RunRecord.Outcome(succeeded: false, failedState: failedState, reason: reason)
        return self.beginTeardown(reason: reason, now: now, machineIsOff: machineIsOff)
    }

    private mutating func beginTeardown(reason: String, now: Date, machineIsOff: Bool) -> [LifecycleAction] {
        self.record.teardownStartedAt = now
        self.record.teardownFailures = 0
        if !self.record.machineMayExist {
            if self.record.scriptMayExist || self.record.scriptId != nil {
                self.move(to: .deletingScript, reason: "teardown: \(reason); no machine was created", now: now)
                return [.deleteScript(after: 0)]
            }
            return self.finish(now: now)
        }
        if machineIsOff {
            self.move(to: .deleting, reason: "teardown: \(reason)", now: now)
            return [.deleteMachine(after: 0)]
        }
        self.move(to: .stopping, reason: "teardown: \(reason)", now: now)
        return [.stopMachine(after: 0)]
    }

    private mutating func retryTeardown(step: LifecycleState, reason: String, now: Date) -> [LifecycleAction] {
        self.record.teardownFailures += 1
        let started = self.record.teardownStartedAt ?? now
        if now.timeIntervalSince(started) >= self.policy.teardownLimit {
            self.move(
                to: .needsAttention,
                reason: "teardown gave up after \(formatDuration(now.timeIntervalSince(started))): \(reason)",
                now: now
            )
            self.record.finishedAt = now
            return [.notify(.teardownFailed), .deleteScriptBestEffort]
        }
        let delay = self.policy.teardownRetryDelay(failures: self.record.teardownFailures)
        let retryState: LifecycleState
        switch step {
        case .waitingForOff: retryState = .stopping
        case .confirmingGone: retryState = .deleting
        default: retryState = step
        }
        // Re-entering the step restarts its timer; the failure count is kept for the backoff.
        let failures = self.record.teardownFailures
        self.move(to: retryState, reason: "retrying in \(formatDuration(delay)): \(reason)", now: now)
        self.record.teardownFailures = failures
        switch retryState {
        case .stopping: return [.stopMachine(after: delay)]
        case .deleting: return [.deleteMachine(after: delay)]
        case .deletingScript: return [.deleteScript(after: delay)]
        default: return [.stopMachine(after: delay)]
        }
    }

    private mutating func finish(now: Date) -> [LifecycleAction] {
        self.record.finishedAt = now
        if self.record.outcome?.succeeded == true {
            self.move(to: .succeeded, reason: "teardown complete", now: now)
            return [.notify(.succeeded)]
        }
        self.move(to: .failed, reason: "teardown complete", now: now)
        return [.notify(.failed)]
    }

    private mutating func recover(now: Date) -> [LifecycleAction] {
        switch self.record.state {
        case .pending:
            return self.finish(now: now)
        case .creatingScript, .creatingMachine, .checkingResults:
            // The outcome of the interrupted call is unknown; tear down whatever may exist under the run's name.
            return self.fail(
                reason: "the daemon restarted while the run was in \(self.record.state.rawValue)",
                now: now,
                machineIsOff: false
            )
        case .waitingForReady, .running:
            // The machine may still be doing useful work: keep watching it, within the same deadline.
            self.transitions.append((self.record.state, self.record.state, "resumed after daemon restart"))
            return [.pollMachine(after: 0)]
        case .stopping:
            return [.stopMachine(after: 0)]
        case .waitingForOff, .confirmingGone:
            return [.pollMachine(after: 0)]
        case .deleting:
            return [.deleteMachine(after: 0)]
        case .deletingScript:
            return [.deleteScript(after: 0)]
        case .succeeded, .failed, .needsAttention:
            return []
        }
    }

    private mutating func move(to state: LifecycleState, reason: String, now: Date) {
        self.transitions.append((self.record.state, state, reason))
        self.record.state = state
        self.record.stateEnteredAt = now
    }
}

/// Formats seconds as `1h 02m`, `5m 03s` or `42s`.
public func formatDuration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    let hours = total / 3600
    let minutes = (total % 3600) / 60
    let secs = total % 60
    if hours > 0 {
        return String(format: "%dh %02dm", hours, minutes)
    }
    if minutes > 0 {
        return String(format: "%dm %02ds", minutes, secs)
    }
    return "\(secs)s"
}
