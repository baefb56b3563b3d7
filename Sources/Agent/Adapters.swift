import Config
import Foundation
import HTTP
import Hub
import Notifiers
import Paperspace
import Support

/// `MachineService` on the Paperspace v1 client.
public struct PaperspaceMachineService: MachineService {
    let client: PaperspaceClient

    public init(client: PaperspaceClient) {
        self.client = client
    }

    public func createStartupScript(name: String, script: String) throws -> String {
        // A script left by an earlier attempt of the same run is reused: its name is unique to the run.
        if let existing = try self.client.listStartupScripts(name: name).first(where: { $0.name == name }) {
            return existing.id
        }
        return try self.client.createStartupScript(name: name, script: script, runOnce: true).id
    }

    public func findStartupScripts(named name: String) throws -> [String] {
        try self.client.listStartupScripts(name: name).filter { $0.name == name }.map(\.id)
    }

    public func deleteStartupScript(id: String) throws {
        try self.client.deleteStartupScript(id: id)
    }

    public func ensureMachine(name: String, spec: MachineSpec, startupScriptId: String, autoShutdownHours: Int) throws
        -> String
    {
        let request = MachineCreateRequest(
            name: name,
            machineType: spec.type,
            templateId: spec.template,
            diskSize: spec.diskSize,
            region: spec.region,
            startupScriptId: startupScriptId.isEmpty ? nil : startupScriptId,
            autoShutdownTimeoutHours: min(autoShutdownHours, MachineCreateRequest.maxAutoShutdownHours)
        )
        return try self.client.ensureMachine(request).machine.id
    }

    public func listMachines(named name: String) throws -> [(id: String, state: String)] {
        try self.client.listMachines(name: name).filter { $0.name == name }.map { ($0.id, $0.state.apiValue) }
    }

    public func machineState(id: String) throws -> String? {
        try self.client.getMachine(id: id)?.state.apiValue
    }

    public func stopMachine(id: String) throws {
        do {
            try self.client.stopMachine(id: id)
        } catch let error as PaperspaceError {
            // A machine that no longer exists needs no stop, and the next poll reports it gone.
            if case .notFound = error { return }
            throw error
        }
    }

    public func deleteMachine(id: String) throws {
        try self.client.deleteMachine(id: id)
    }

    public func listAllMachines() throws -> [(id: String, name: String, state: String)] {
        try self.client.listMachines().map { ($0.id, $0.name, $0.state.apiValue) }
    }

    public func listAllStartupScripts() throws -> [(id: String, name: String)] {
        try self.client.listStartupScripts().map { ($0.id, $0.name) }
    }
}

/// `ResultStore` on the Hub client: reads the status record the startup script wrote and checks the outputs.
public struct HubResultStore: ResultStore {
    let client: HubClient

    public init(client: HubClient) {
        self.client = client
    }

    public func checkResults(runId: String, job: TrainingJob) throws -> RunResults {
        let statusPath = StartupScriptTemplate.statusPath(runId: runId)
        guard let data = try self.client.downloadFile(repo: job.modelRepo, type: .model, path: statusPath) else {
            return RunResults(
                succeeded: false,
                reason: "the machine powered off without writing \(statusPath) to \(job.modelRepo); "
                    + "its log is /var/log/startup-script-output.log on the machine",
                commitURL: nil
            )
        }
        guard let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let exitCode = status["exit_code"] as? Int
        else {
            return RunResults(
                succeeded: false,
                reason: "the status record \(statusPath) is not valid JSON",
                commitURL: nil
            )
        }
        let head = try self.client.headCommit(repo: job.modelRepo, type: .model)
        let commitURL = self.client.commitURL(repo: job.modelRepo, type: .model, commit: head)
        if exitCode != 0 {
            let step = (status["failed_step"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
            return RunResults(
                succeeded: false,
                reason: "step \(step) exited with status \(exitCode)",
                commitURL: commitURL
            )
        }
        let paths = try self.client.listFiles(repo: job.modelRepo, type: .model).filter { $0.type == .file }.map(\.path)
        for output in job.outputs {
            let trimmed = output.hasSuffix("/") ? String(output.dropLast()) : output
            let present = paths.contains { $0 == trimmed || $0.hasPrefix(trimmed + "/") }
            if !present {
                return RunResults(
                    succeeded: false,
                    reason: "output \(output) is missing from \(job.modelRepo)",
                    commitURL: commitURL
                )
            }
        }
        return RunResults(succeeded: true, reason: nil, commitURL: commitURL)
    }
}

/// `RunEventSink` that turns run events into notifications for the job's notifiers.
public struct NotifierEventSink: RunEventSink {
    let dispatcher: NotificationDispatcher

    public init(dispatcher: NotificationDispatcher) {
        self.dispatcher = dispatcher
    }

    public func publish(_ kind: RunEventKind, record: RunRecord, job: TrainingJob) {
        let end = record.finishedAt ?? Date()
        let duration = end.timeIntervalSince(record.startedAt)
        let cost = job.machine.hourlyRate.map { $0 * duration / 3600 }
        var reason = record.outcome?.reason
        if kind == .teardownFailed {
            reason =
                "teardown of machine \(record.machineId ?? record.machineName) did not finish; "
                + "check the Paperspace console and delete it by hand"
        }
        let notification = RunNotification(
            kind: kind,
            job: job.name,
            runId: record.runId,
            occurredAt: end,
            machineId: record.machineId,
            machineType: job.machine.type,
            durationSeconds: kind == .started ? nil : duration,
            estimatedCostUSD: kind == .started ? nil : cost,
            failedState: record.outcome?.failedState?.rawValue,
            reason: kind == .succeeded ? nil : reason,
            modelCommitURL: record.modelCommitURL
        )
        self.dispatcher.enqueue(notification, to: job.notify.isEmpty ? nil : job.notify)
    }
}

/// `UploadEventSink` that turns the end of a `hub_upload` run into a notification for the job's notifiers.
public struct NotifierUploadSink: UploadEventSink {
    let dispatcher: NotificationDispatcher

    public init(dispatcher: NotificationDispatcher) {
        self.dispatcher = dispatcher
    }

    public func publish(_ kind: RunEventKind, job: UploadJob, runId: String, startedAt: Date, result: UploadRunResult) {
        var reason = result.reason
        if let summary = result.summary, summary.filesUploaded > 0 {
            reason =
                "uploaded \(summary.filesUploaded) of \(summary.filesConsidered) files "
                + "(\(ProgressMeter.formatBytes(summary.bytesSent))) to \(job.repo)/\(job.pathInRepo); "
                + "\(summary.filesUnchanged) unchanged"
        }
        let notification = RunNotification(
            kind: kind,
            job: job.name,
            runId: runId,
            occurredAt: result.finishedAt,
            machineId: nil,
            machineType: nil,
            durationSeconds: result.finishedAt.timeIntervalSince(startedAt),
            estimatedCostUSD: nil,
            failedState: result.succeeded ? nil : "uploading",
            reason: reason,
            modelCommitURL: result.summary?.commitURL
        )
        self.dispatcher.enqueue(notification, to: job.notify.isEmpty ? nil : job.notify)
    }
}

/// The clients and services built from one configuration.
public struct Runtime: Sendable {
    public let configuration: Configuration
    public let machines: MachineService
    public let results: ResultStore
    public let dispatcher: NotificationDispatcher
    public let events: RunEventSink
    public let journal: Journal
    /// Uploads data for `hub_upload` jobs and training-data steps; nil when no Hub client is configured.
    public let uploader: DataUploader?
    public let uploadEvents: UploadEventSink

    public init(
        configuration: Configuration,
        machines: MachineService,
        results: ResultStore,
        dispatcher: NotificationDispatcher,
        events: RunEventSink,
        journal: Journal,
        uploader: DataUploader? = nil,
        uploadEvents: UploadEventSink? = nil
    ) {
        self.configuration = configuration
        self.machines = machines
        self.results = results
        self.dispatcher = dispatcher
        self.events = events
        self.journal = journal
        self.uploader = uploader
        self.uploadEvents = uploadEvents ?? NotifierUploadSink(dispatcher: dispatcher)
    }

    /// Builds the runtime; throws when the state directory or journal cannot be opened or a notifier is invalid.
    public static func make(configuration: Configuration, logger: Logger) throws -> Runtime {
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        let journal = try Journal(path: configuration.stateDirectory + "/journal.sqlite")
        let http = HTTPClient(logger: logger.with(["component": "http"]))
        let paperspace = PaperspaceClient(
            endpoint: configuration.paperspace.endpoint,
            apiKey: configuration.paperspace.apiKey?.value ?? "",
            http: http,
            logger: logger.with(["component": "paperspace"])
        )
        let hub = HubClient(
            endpoint: configuration.hub.endpoint,
            token: configuration.hub.token?.value,
            http: http,
            logger: logger.with(["component": "hub"])
        )
        let subscriptions = try configuration.notifiers.map { settings in
            NotifierSubscription(
                notifier: try Runtime.makeNotifier(settings, logger: logger),
                events: settings.events,
                expiry: settings.expireAfter
            )
        }
        let outbox = try NotificationOutbox(path: configuration.stateDirectory + "/outbox.sqlite")
        let dispatcher = NotificationDispatcher(
            subscriptions: subscriptions,
            outbox: outbox,
            logger: logger.with(["component": "notify"])
        )
        return Runtime(
            configuration: configuration,
            machines: PaperspaceMachineService(client: paperspace),
            results: HubResultStore(client: hub),
            dispatcher: dispatcher,
            events: NotifierEventSink(dispatcher: dispatcher),
            journal: journal,
            // The daemon keeps its hash cache in the state directory: a service user may have no home.
            uploader: HubDataUploader(
                sync: HubSync(client: hub, cacheDirectory: configuration.stateDirectory + "/hash-cache"),
                logger: logger.with(["component": "upload"])
            )
        )
    }

    /// Builds the notifier that `settings` describes, with its own HTTP client and timeout. Also used by
    /// `nightshift notify test`. Throws `NotifierError.invalidSettings` for settings the loader cannot check.
    public static func makeNotifier(_ settings: NotifierSettings, logger: Logger) throws -> any Notifier {
        let http = HTTPClient(totalTimeout: settings.timeout, logger: logger.with(["component": "notifier"]))
        let url = settings.url?.value ?? ""
        switch settings.kind {
        case .slack:
            return SlackNotifier(name: settings.name, url: url, http: http)
        case .webhook:
            return try WebhookNotifier(name: settings.name, url: url, secret: settings.signingSecret?.value, http: http)
        case .discord:
            return DiscordNotifier(name: settings.name, url: url, username: settings.username, http: http)
        case .telegram:
            return TelegramNotifier(
                name: settings.name,
                botToken: settings.botToken?.value ?? "",
                chatId: settings.chatId ?? "",
                parseMode: settings.parseMode == .markdownv2 ? .markdownV2 : .html,
                messageThreadId: settings.messageThreadId,
                apiURL: settings.apiURL ?? TelegramNotifier.defaultAPIURL,
                http: http
            )
        case .teams:
            return TeamsNotifier(name: settings.name, url: url, http: http)
        case .mattermost:
            return MattermostNotifier(
                name: settings.name,
                url: url,
                channel: settings.channel,
                username: settings.username,
                http: http
            )
        case .ntfy:
            return try NtfyNotifier(
                name: settings.name,
                topicURL: url,
                token: settings.accessToken?.value,
                priority: settings.priority ?? 3,
                tags: settings.tags,
                http: http
            )
        }
    }
}
