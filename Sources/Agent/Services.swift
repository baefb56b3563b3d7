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
    /// Returns every machine of the team that is not deleted, following every page, for the orphan sweep.
    func listAllMachines() throws -> [(id: String, name: String, state: String)]
    /// Returns every startup script of the team that is not deleted, following every page.
    func listAllStartupScripts() throws -> [(id: String, name: String)]
}

/// The error of a `MachineService` that cannot list the whole team, so the orphan sweep cannot run on it.
public struct TeamListingUnsupported: Error, CustomStringConvertible {
    public var description: String {
        "this machine service cannot list every machine of the team; the orphan sweep needs PaperspaceMachineService"
    }
}

extension MachineService {
    public func listAllMachines() throws -> [(id: String, name: String, state: String)] {
        throw TeamListingUnsupported()
    }

    public func listAllStartupScripts() throws -> [(id: String, name: String)] {
        throw TeamListingUnsupported()
    }
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

/// The result of one data upload.
public struct DataUploadSummary: Sendable, Equatable {
    /// Local files that matched.
    public var filesConsidered: Int
    /// Files sent because they were new or changed.
    public var filesUploaded: Int
    /// Files skipped because the Hub already has the same content.
    public var filesUnchanged: Int
    public var bytesSent: Int64
    /// A link to the last commit, or nil when nothing was committed.
    public var commitURL: String?

    public init(filesConsidered: Int, filesUploaded: Int, filesUnchanged: Int, bytesSent: Int64, commitURL: String?) {
        self.filesConsidered = filesConsidered
        self.filesUploaded = filesUploaded
        self.filesUnchanged = filesUnchanged
        self.bytesSent = bytesSent
        self.commitURL = commitURL
    }
}

/// The reason a data upload did not happen.
public enum DataUploadError: Error, CustomStringConvertible, Sendable {
    /// The local directory does not exist or is not a directory.
    case missingDirectory(String)
    /// Required files are missing, such as the training CSVs.
    case missingFiles([String])
    /// The upload stopped because nightshift is stopping or the job's time ran out.
    case cancelled
    /// The Hub or the local disk failed; the text names the repo, the path and what to do.
    case failed(String)

    public var description: String {
        switch self {
        case .missingDirectory(let path):
            "local directory \(path) does not exist: create it, or fix `local_dir` in the job"
        case .missingFiles(let paths):
            "missing \(paths.joined(separator: ", ")): run the data preparation first"
        case .cancelled:
            "the upload was cancelled before it finished; the repo is at its previous commit"
        case .failed(let text):
            text
        }
    }
}

/// Uploads local data to the Hub for `hub_upload` jobs and for the training-data step of a training job.
public protocol DataUploader: Sendable {
    /// Uploads what is new under the job's local directory; a run with nothing new returns a summary with
    /// `filesUploaded == 0` and no commit.
    func upload(_ job: UploadJob, cancel: Signal) throws -> DataUploadSummary
    /// Uploads the prepared training CSVs, and the scalers and cache as the step specifies.
    func uploadTrainingData(_ step: TrainingDataUpload, cancel: Signal) throws -> DataUploadSummary
}

/// Receives the events of `hub_upload` runs.
public protocol UploadEventSink: Sendable {
    func publish(_ kind: RunEventKind, job: UploadJob, runId: String, startedAt: Date, result: UploadRunResult)
}
