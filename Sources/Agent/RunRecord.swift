import Foundation

/// The states of one training run's lifecycle, in the order a successful run passes through them.
///
/// The teardown states (`stopping` through `deletingScript`) are entered from any earlier state on every failure
/// path, so that a machine is never left behind.
public enum LifecycleState: String, Codable, Sendable, CaseIterable {
    /// Recorded in the journal; nothing exists at Paperspace yet.
    case pending
    /// Creating the run-once startup script that carries the job.
    case creatingScript
    /// Creating the machine, or adopting one that already has this run's name.
    case creatingMachine
    /// The machine exists and is provisioning or starting.
    case waitingForReady
    /// The machine is on and the startup script is running the job.
    case running
    /// The machine powered itself off; reading the status record and outputs from the model repo.
    case checkingResults
    /// Asking Paperspace to stop the machine.
    case stopping
    /// Waiting for the machine to reach `off`.
    case waitingForOff
    /// Asking Paperspace to delete the machine.
    case deleting
    /// Waiting until Paperspace no longer lists the machine.
    case confirmingGone
    /// Deleting the startup script.
    case deletingScript
    /// Terminal: the job succeeded and everything was torn down.
    case succeeded
    /// Terminal: the job failed and everything was torn down.
    case failed
    /// Terminal: teardown gave up; the machine may still exist and cost money, so a person must look.
    case needsAttention

    public var isTerminal: Bool {
        self == .succeeded || self == .failed || self == .needsAttention
    }

    public var isTeardown: Bool {
        [.stopping, .waitingForOff, .deleting, .confirmingGone, .deletingScript].contains(self)
    }
}

/// Everything the journal keeps about one run. The lifecycle state machine reads and updates it; the driver
/// persists it before running the actions a transition returns.
public struct RunRecord: Codable, Sendable, Equatable {
    public var runId: String
    public var job: String
    public var state: LifecycleState
    /// The deterministic machine name, `<prefix>-<job>-<run id>`, which lets a restarted daemon find a machine
    /// whose id never reached the journal.
    public var machineName: String
    /// The startup script's name; the same as the machine name.
    public var scriptName: String
    public var machineId: String?
    public var scriptId: String?
    public var machineType: String
    public var startedAt: Date
    /// When the run must start its teardown: `startedAt` plus the job's maximum duration.
    public var deadline: Date
    public var stateEnteredAt: Date
    /// Set once the run's outcome is known; teardown then runs before the terminal state.
    public var outcome: Outcome?
    /// Failed attempts of the current teardown step.
    public var teardownFailures: Int
    /// When teardown began, for its overall limit.
    public var teardownStartedAt: Date?
    /// The last machine state seen from Paperspace.
    public var lastMachineState: String?
    /// Whether a machine with this run's name may exist at Paperspace: set as soon as the create call is made.
    public var machineMayExist: Bool
    /// Whether a startup script with this run's name may exist.
    public var scriptMayExist: Bool
    public var finishedAt: Date?
    /// A link to the model repo commit with the outputs, when the status record named one.
    public var modelCommitURL: String?
    /// The job's `machine.hourly_rate` in US dollars when the run started, kept so that a later rate change does
    /// not change the estimated cost of past runs. Nil for runs without a rate and for records older than the field.
    public var hourlyRate: Double?

    public struct Outcome: Codable, Sendable, Equatable {
        public var succeeded: Bool
        /// The state the run was in when it failed; nil on success.
        public var failedState: LifecycleState?
        /// The reason the run failed, in one sentence; nil on success.
        public var reason: String?
    }

    public init(
        runId: String,
        job: String,
        machineName: String,
        machineType: String,
        startedAt: Date,
        maxDuration: Double,
        hourlyRate: Double? = nil
    ) {
        self.runId = runId
        self.job = job
        self.state = .pending
        self.machineName = machineName
        self.scriptName = machineName
        self.machineId = nil
        self.scriptId = nil
        self.machineType = machineType
        self.startedAt = startedAt
        self.deadline = startedAt.addingTimeInterval(maxDuration)
        self.stateEnteredAt = startedAt
        self.outcome = nil
        self.teardownFailures = 0
        self.teardownStartedAt = nil
        self.lastMachineState = nil
        self.machineMayExist = false
        self.scriptMayExist = false
        self.finishedAt = nil
        self.modelCommitURL = nil
        self.hourlyRate = hourlyRate
    }
}
