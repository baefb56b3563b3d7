import Config
import Foundation
import Support

/// The Paperspace operations a run needs, so the supervisor can be driven against any implementation.
public protocol MachineService: Sendable {
    /// Creates a run-once startup script, or adopts one that already has `name`; returns its id.
    func createStartupScript(name: String, script: String) throws -> String
    func findStartupScripts(named name: String) throws -> [String]
    /// Deletes a startup script; succeeds when it is already gone.
    func deleteStartupScript(id: String) throws
    /// Creates the machine, or adopts one that already has `name`; returns its id. Never creates a duplicate.
    func ensureMachine(name: String, spec: MachineSpec, startupScriptId: String, autoShutdownHours: Int) throws
        -> String
    /// Returns every machine whose name is exactly `name`, with its state, oldest first.
    func listMachines(named name: String) throws -> [(id: String, state: String)]
    /// Returns the machine's state, or nil when Paperspace no longer has it.
    func machineState(id: String) throws -> String?
    func stopMachine(id: String) throws
    /// Deletes a machine; succeeds when it is already gone.
    func deleteMachine(id: String) throws
}

/// The result of reading a run's status record and outputs from the model repo.
public struct RunResults: Sendable, Equatable {
    public var succeeded: Bool
    public var reason: String?
    public var commitURL: String?

    public init(succeeded: Bool, reason: String?, commitURL: String?) {
        self.succeeded = succeeded
        self.reason = reason
        self.commitURL = commitURL
    }
}

/// Reads what a run left in the model repo.
public protocol ResultStore: Sendable {
    func checkResults(runId: String, job: TrainingJob) throws -> RunResults
}

/// Receives the run events that notifiers send on.
public protocol RunEventSink: Sendable {
    func publish(_ kind: RunEventKind, record: RunRecord, job: TrainingJob)
}
