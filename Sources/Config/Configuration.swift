import Foundation
import Schedules
import Support

/// A whole nightshift config file after loading and validation.
public struct Configuration: Sendable {
    /// The file the configuration was read from.
    public var sourcePath: String
    /// The directory of the journal and run scratch files. Default `/var/lib/nightshift`.
    public var stateDirectory: String
    /// The IANA time zone for jobs that name none. Default `UTC`.
    public var timeZone: String
    /// The minimum level that is logged. Default `info`.
    public var logLevel: Logger.Level
    public var paperspace: PaperspaceSettings
    public var hub: HubSettings
    /// Notifiers in file order.
    public var notifiers: [NotifierSettings]
    /// Training jobs in file order.
    public var jobs: [TrainingJob]
    /// `hub_upload` jobs in file order.
    public var uploads: [UploadJob]
    /// Problems that do not stop the daemon, such as an inline secret in a file other users can read.
    public var warnings: [ConfigDiagnostic]
    /// The `budget:` section: a monthly spending limit over every training job. Nil means no limit.
    public var budget: BudgetSettings? = nil

    public init(
        sourcePath: String,
        stateDirectory: String = Configuration.defaultStateDirectory,
        timeZone: String = "UTC",
        logLevel: Logger.Level = .info,
        paperspace: PaperspaceSettings = PaperspaceSettings(),
        hub: HubSettings = HubSettings(),
        notifiers: [NotifierSettings] = [],
        jobs: [TrainingJob] = [],
        uploads: [UploadJob] = [],
        warnings: [ConfigDiagnostic] = []
    ) {
        self.sourcePath = sourcePath
        self.stateDirectory = stateDirectory
        self.timeZone = timeZone
        self.logLevel = logLevel
        self.paperspace = paperspace
        self.hub = hub
        self.notifiers = notifiers
        self.jobs = jobs
        self.uploads = uploads
        self.warnings = warnings
    }

    public static let defaultPath = "/etc/nightshift/nightshift.yaml"
    public static let defaultStateDirectory = "/var/lib/nightshift"

    public func job(named name: String) -> TrainingJob? {
        self.jobs.first { $0.name == name }
    }

    public func uploadJob(named name: String) -> UploadJob? {
        self.uploads.first { $0.name == name }
    }

    /// The names of every job of every kind, in file order within each kind.
    public var jobNames: [String] {
        self.jobs.map(\.name) + self.uploads.map(\.name)
    }

    public func notifier(named name: String) -> NotifierSettings? {
        self.notifiers.first { $0.name == name }
    }
}

/// A secret value and where it came from. `description` never shows the value.
public struct Secret: Sendable, CustomStringConvertible {
    public enum Source: Sendable, Equatable {
        /// Written in the config file itself.
        case inline
        /// Read from an environment variable through a `${NAME}` reference.
        case environment(String)
        /// Read from a file, for example a systemd credential under `$CREDENTIALS_DIRECTORY`.
        case file(String)
    }

    public var value: String
    public var source: Source

    public init(value: String, source: Source) {
        self.value = value
        self.source = source
        SecretRedactor.shared.register(value)
    }

    public var description: String {
        switch self.source {
        case .inline: "[inline secret]"
        case .environment(let name): "[secret from $\(name)]"
        case .file(let path): "[secret from \(path)]"
        }
    }
}

/// The `paperspace:` section.
public struct PaperspaceSettings: Sendable {
    /// Default `https://api.paperspace.com/v1`.
    public var endpoint: String
    /// The API key, from `api_key` or `api_key_file`. Required when any training job exists.
    public var apiKey: Secret?
    /// The first part of every machine and startup script name this agent creates. Default `nightshift`.
    public var namePrefix: String
    /// `sweep_interval`: seconds between orphan sweeps while the daemon runs. Default 600 (10 minutes).
    public var sweepInterval: Double = PaperspaceSettings.defaultSweepInterval

    public init(
        endpoint: String = PaperspaceSettings.defaultEndpoint,
        apiKey: Secret? = nil,
        namePrefix: String = "nightshift"
    ) {
        self.endpoint = endpoint
        self.apiKey = apiKey
        self.namePrefix = namePrefix
    }

    public static let defaultEndpoint = "https://api.paperspace.com/v1"
    public static let defaultSweepInterval: Double = 600
}

/// The `hub:` section.
public struct HubSettings: Sendable {
    /// Default `https://huggingface.co`.
    public var endpoint: String
    /// The access token, from `token` or `token_file`. Required when any training job exists.
    public var token: Secret?

    public init(endpoint: String = HubSettings.defaultEndpoint, token: Secret? = nil) {
        self.endpoint = endpoint
        self.token = token
    }

    public static let defaultEndpoint = "https://huggingface.co"
}

/// One entry of the `notifiers:` map.
public struct NotifierSettings: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A Slack incoming webhook.
        case slack
        /// A generic JSON webhook signed with HMAC-SHA256 in the Standard Webhooks manner.
        case webhook
        /// A Discord channel webhook.
        case discord
        /// A Telegram chat, through the Bot API.
        case telegram
        /// A Microsoft Teams channel, through a Workflows (Power Automate) webhook.
        case teams
        /// A Mattermost incoming webhook.
        case mattermost
        /// An ntfy topic.
        case ntfy
    }

    /// The parse mode of a Telegram message.
    public enum TelegramParseMode: String, Sendable, CaseIterable {
        case html
        case markdownv2
    }

    public var name: String
    public var kind: Kind
    /// The webhook or topic URL, from `url` or `url_file`. It is a secret, because most of these URLs are
    /// their own credential. Nil only for `telegram`, which takes `bot_token` instead.
    public var url: Secret?
    /// The signing secret of a `webhook` notifier, from `secret` or `secret_file`.
    public var signingSecret: Secret?
    /// The bot token of a `telegram` notifier, from `bot_token` or `bot_token_file`.
    public var botToken: Secret?
    /// The chat of a `telegram` notifier: a numeric id or an `@channel` name.
    public var chatId: String?
    /// The topic of a Telegram forum group, from `message_thread_id`.
    public var messageThreadId: Int?
    /// The Bot API server of a `telegram` notifier, from `api_url`. Default `https://api.telegram.org`.
    public var apiURL: String?
    /// The parse mode of a `telegram` notifier. Default `html`.
    public var parseMode: TelegramParseMode
    /// The access token of an `ntfy` notifier, from `token` or `token_file`.
    public var accessToken: Secret?
    /// The priority (1 to 5) of routine events of an `ntfy` notifier. Default 3.
    public var priority: Int?
    /// Extra ntfy tags, shown as emoji or text next to the title.
    public var tags: [String]
    /// The display name of a `discord` or `mattermost` post, from `username`.
    public var username: String?
    /// The channel a `mattermost` post goes to instead of the webhook's default, from `channel`.
    public var channel: String?
    /// The events this notifier receives. Default: all of them.
    public var events: Set<RunEventKind>
    /// Seconds allowed for one delivery attempt. Default 10.
    public var timeout: Double
    /// Seconds after which an undelivered notification is given up, from `expire_after`. Default 24 hours.
    public var expireAfter: Double

    public init(
        name: String,
        kind: Kind,
        url: Secret?,
        signingSecret: Secret? = nil,
        botToken: Secret? = nil,
        chatId: String? = nil,
        messageThreadId: Int? = nil,
        apiURL: String? = nil,
        parseMode: TelegramParseMode = .html,
        accessToken: Secret? = nil,
        priority: Int? = nil,
        tags: [String] = [],
        username: String? = nil,
        channel: String? = nil,
        events: Set<RunEventKind> = Set(RunEventKind.allCases),
        timeout: Double = 10,
        expireAfter: Double = NotifierSettings.defaultExpireAfter
    ) {
        self.name = name
        self.kind = kind
        self.url = url
        self.signingSecret = signingSecret
        self.botToken = botToken
        self.chatId = chatId
        self.messageThreadId = messageThreadId
        self.apiURL = apiURL
        self.parseMode = parseMode
        self.accessToken = accessToken
        self.priority = priority
        self.tags = tags
        self.username = username
        self.channel = channel
        self.events = events
        self.timeout = timeout
        self.expireAfter = expireAfter
    }

    /// 24 hours: an alert older than a day is rarely still worth a message.
    public static let defaultExpireAfter: Double = 86_400
}

/// The `machine:` section of a training job.
public struct MachineSpec: Sendable {
    /// The Paperspace machine type label, for example `A4000` or `C5`.
    public var type: String
    /// The template id, for example `t0nspur5`.
    public var template: String
    /// The region, for example `ny2`, `NY2` or `East Coast (NY2)`.
    public var region: String
    /// Disk size in GB. Default 50.
    public var diskSize: Int
    /// Estimated price in US dollars per hour, shown in notifications. Optional.
    public var hourlyRate: Double?

    public init(type: String, template: String, region: String, diskSize: Int = 50, hourlyRate: Double? = nil) {
        self.type = type
        self.template = template
        self.region = region
        self.diskSize = diskSize
        self.hourlyRate = hourlyRate
    }
}

/// Poll intervals of a training job, in seconds.
public struct PollIntervals: Sendable {
    /// While waiting for the machine to become ready. Default 10.
    public var startup: Double
    /// While the job runs on the machine. Default 30.
    public var running: Double
    /// During teardown: waiting for `off` and for the machine to be gone. Default 5.
    public var teardown: Double

    public init(startup: Double = 10, running: Double = 30, teardown: Double = 5) {
        self.startup = startup
        self.running = running
        self.teardown = teardown
    }
}

/// Limits on how long a machine may stay in a state before nightshift gives up on it, in seconds.
public struct StateTimeouts: Sendable {
    /// From create until `ready`. Default 1200 (20 minutes).
    public var ready: Double
    /// From the stop request until `off`. Default 600.
    public var stop: Double
    /// From the delete request until the machine is gone. Default 600.
    public var delete: Double
    /// How long teardown keeps retrying in total before it gives up with a `teardown_failed` alert. Default 3600.
    public var teardown: Double

    public init(ready: Double = 1200, stop: Double = 600, delete: Double = 600, teardown: Double = 3600) {
        self.ready = ready
        self.stop = stop
        self.delete = delete
        self.teardown = teardown
    }
}

/// One entry of the `jobs:` map: a scheduled training run.
public struct TrainingJob: Sendable {
    public var name: String
    /// A five-field cron expression, a macro such as `@daily`, or a systemd calendar expression such as
    /// `Mon..Fri *-*-* 03:00`; `Schedule(parsing:)` tells them apart.
    public var schedule: String
    /// The IANA time zone the schedule is read in. Default: the global `time_zone`.
    public var timeZone: String
    public var machine: MachineSpec
    /// The git repository URL to clone on the machine.
    public var repositoryURL: String
    /// The branch, tag or commit to check out. Default `main`.
    public var repositoryRef: String
    /// Run in the clone before the dataset download. Default `pip install -r requirements_linux.txt`.
    public var setupCommand: String
    /// The Hub dataset repo, `namespace/name`.
    public var datasetRepo: String
    /// The dataset revision. Default `main`.
    public var datasetRevision: String
    /// The dataset's download directory, relative to the clone. Default `data`.
    public var datasetDirectory: String
    /// The training command, run in the clone.
    public var trainCommand: String
    /// The Hub model repo, `namespace/name`.
    public var modelRepo: String
    /// Paths, relative to the clone, uploaded to the model repo under the same names.
    public var outputs: [String]
    /// Non-secret environment variables set for setup and training.
    public var environment: [(name: String, value: String)]
    /// The hard limit on a run, from create to teardown start, in seconds. Default 21600 (6 hours).
    public var maxDuration: Double
    public var poll: PollIntervals
    public var timeouts: StateTimeouts
    /// Names of the notifiers that receive this job's run events. Default: every notifier.
    public var notify: [String]
    /// Uploads the prepared training data before the machine is created, when set.
    public var trainingDataUpload: TrainingDataUpload?
    /// When a fire starts: `catch_up`, `starting_deadline`, `overlap`, `jitter` and `jitter_mode`.
    public var firePolicy: FirePolicy
    /// `max_cost`: the most one run may cost in US dollars, checked as `machine.hourly_rate` times
    /// `max_duration` before any machine is created. Nil means no per-run limit.
    public var maxCost: Double? = nil

    public init(
        name: String,
        schedule: String,
        timeZone: String = "UTC",
        machine: MachineSpec,
        repositoryURL: String,
        repositoryRef: String = "main",
        setupCommand: String = TrainingJob.defaultSetupCommand,
        datasetRepo: String,
        datasetRevision: String = "main",
        datasetDirectory: String = "data",
        trainCommand: String,
        modelRepo: String,
        outputs: [String],
        environment: [(name: String, value: String)] = [],
        maxDuration: Double = 21600,
        poll: PollIntervals = PollIntervals(),
        timeouts: StateTimeouts = StateTimeouts(),
        notify: [String] = [],
        trainingDataUpload: TrainingDataUpload? = nil,
        firePolicy: FirePolicy = FirePolicy()
    ) {
        self.name = name
        self.schedule = schedule
        self.timeZone = timeZone
        self.machine = machine
        self.repositoryURL = repositoryURL
        self.repositoryRef = repositoryRef
        self.setupCommand = setupCommand
        self.datasetRepo = datasetRepo
        self.datasetRevision = datasetRevision
        self.datasetDirectory = datasetDirectory
        self.trainCommand = trainCommand
        self.modelRepo = modelRepo
        self.outputs = outputs
        self.environment = environment
        self.maxDuration = maxDuration
        self.poll = poll
        self.timeouts = timeouts
        self.notify = notify
        self.trainingDataUpload = trainingDataUpload
        self.firePolicy = firePolicy
    }

    public static let defaultSetupCommand = "pip install -r requirements_linux.txt"
}

/// One problem found in a config file, with its position.
public struct ConfigDiagnostic: Sendable, CustomStringConvertible, Equatable {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    public var file: String
    /// 1-based line, or 0 when the problem concerns the whole file.
    public var line: Int
    /// 1-based column, or 0 when the problem concerns the whole file.
    public var column: Int
    /// The dotted key path, for example `jobs.nightly.machine.disk_size`.
    public var key: String
    /// The problem, including what was expected.
    public var message: String
    /// The fix.
    public var fix: String

    public init(
        severity: Severity = .error,
        file: String,
        line: Int,
        column: Int,
        key: String,
        message: String,
        fix: String
    ) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
        self.fix = fix
    }

    /// `file:line:column: error: key: message` followed by an indented `fix:` line.
    public var description: String {
        let position = self.line > 0 ? "\(self.file):\(self.line):\(self.column)" : self.file
        let keyPart = self.key.isEmpty ? "" : "\(self.key): "
        return "\(position): \(self.severity.rawValue): \(keyPart)\(self.message)\n    fix: \(self.fix)"
    }
}

/// The error the loader throws when a config file has errors. It contains all of them, not just the first.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var diagnostics: [ConfigDiagnostic]

    public init(diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        let errors = self.diagnostics.filter { $0.severity == .error }.count
        let header = "\(errors) error\(errors == 1 ? "" : "s") in the configuration"
        return ([header] + self.diagnostics.map(\.description)).joined(separator: "\n")
    }
}
