import Foundation
import Schedules

/// One `jobs:` entry of kind `hub_upload`: on its schedule, upload what is new under a local directory to a Hub
/// repo, such as the nightly tick files.
public struct UploadJob: Sendable {
    /// The outcome of a run that finds nothing new.
    public enum EmptyOutcome: String, Sendable, CaseIterable {
        /// The run succeeds and reports that nothing was new.
        case succeed
        /// The run fails, because a nightly upload with nothing new usually means the data collection stopped.
        case fail
    }

    public var name: String
    /// A five-field cron expression or a macro such as `@daily`.
    public var schedule: String
    /// The IANA time zone the schedule is read in. Default: the global `time_zone`.
    public var timeZone: String
    /// The absolute path of the directory whose files are uploaded.
    public var localDirectory: String
    /// The Hub repo, `namespace/name`.
    public var repo: String
    /// `dataset` (default) or `model`.
    public var repoType: String
    /// The branch to commit to. Default `main`.
    public var revision: String
    /// The folder in the repo the files go under. Default `ticks`.
    public var pathInRepo: String
    /// Patterns of the files to upload, relative to `localDirectory`, as `GlobPattern` reads them (`*.csv`,
    /// `2026/**`). Default: every file.
    public var include: [String]
    public var commitMessage: String
    public var ifEmpty: EmptyOutcome
    /// The limit on one upload run, in seconds. Default 7200.
    public var maxDuration: Double
    /// Names of the notifiers that receive this job's events. Default: every notifier.
    public var notify: [String]
    /// When a fire starts: `catch_up`, `starting_deadline`, `overlap`, `jitter` and `jitter_mode`.
    public var firePolicy: FirePolicy

    public init(
        name: String,
        schedule: String,
        timeZone: String = "UTC",
        localDirectory: String,
        repo: String,
        repoType: String = "dataset",
        revision: String = "main",
        pathInRepo: String = UploadJob.defaultPathInRepo,
        include: [String] = [],
        commitMessage: String = UploadJob.defaultCommitMessage,
        ifEmpty: EmptyOutcome = .fail,
        maxDuration: Double = 7200,
        notify: [String] = [],
        firePolicy: FirePolicy = FirePolicy()
    ) {
        self.name = name
        self.schedule = schedule
        self.timeZone = timeZone
        self.localDirectory = localDirectory
        self.repo = repo
        self.repoType = repoType
        self.revision = revision
        self.pathInRepo = pathInRepo
        self.include = include
        self.commitMessage = commitMessage
        self.ifEmpty = ifEmpty
        self.maxDuration = maxDuration
        self.notify = notify
        self.firePolicy = firePolicy
    }

    public static let defaultPathInRepo = "ticks"
    public static let defaultCommitMessage = "Upload tick data"
}

/// The `upload_training_data:` step of a training job: before any machine is created, upload the prepared training
/// data from a local workspace, so that the machine trains on today's data.
public struct TrainingDataUpload: Sendable {
    /// The absolute path of the directory that contains `workspace/`.
    public var root: String
    /// The dataset repo to upload to. Default: the job's `dataset.repo`.
    public var repo: String
    /// Whether the scalers go too. Default true.
    public var includeScalers: Bool
    /// Whether the feature cache goes too. Default false.
    public var includeCache: Bool
    public var commitMessage: String

    public init(
        root: String,
        repo: String,
        includeScalers: Bool = true,
        includeCache: Bool = false,
        commitMessage: String = TrainingDataUpload.defaultCommitMessage
    ) {
        self.root = root
        self.repo = repo
        self.includeScalers = includeScalers
        self.includeCache = includeCache
        self.commitMessage = commitMessage
    }

    public static let defaultCommitMessage = "Upload training data"
}
