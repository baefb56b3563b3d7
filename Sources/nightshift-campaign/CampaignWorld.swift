import Agent
import Config
import Foundation
import HTTP
import Hub
import Paperspace
import StandIns
import Support

/// One worker's stand-ins and clients: a Paperspace and a Hub stand-in on 127.0.0.1, with machine delays and HTTP
/// retry sleeps cut to hundredths of a second, and a journal. The worker runs its runs one after another.
final class CampaignWorld: @unchecked Sendable {
    static let apiKey = "campaign-paperspace-key-0123456789"
    static let hubToken = "hf_campaignToken0123456789"
    static let modelRepo = "campaign/model"

    let root: String
    let paperspace: PaperspaceStandIn
    let hub: HubStandIn
    let journal: Journal
    let machines: PaperspaceMachineService
    let results: HubResultStore
    let logger: Logger

    init(root: String) throws {
        self.root = root
        self.paperspace = PaperspaceStandIn(
            options: PaperspaceStandIn.Options(
                apiKey: Self.apiKey,
                scratchDirectory: root + "/machines",
                provisioningDelay: 0.1,
                startingDelay: 0.05,
                stoppingDelay: 0.05
            )
        )
        self.hub = HubStandIn(tokens: [Self.hubToken])
        try self.paperspace.start()
        try self.hub.start()
        self.journal = try Journal(path: root + "/journal.sqlite")
        // Run logs are dropped: the campaign reports numbers, and the failures are the point.
        self.logger = Logger(label: "campaign", logLevel: .critical, sink: LogSink { _ in })
        let http = HTTPClient(
            connectTimeout: 1,
            totalTimeout: 0.4,
            logger: self.logger,
            sleep: { seconds, cancel in
                let scaled = seconds / 100
                if let cancel { return !cancel.wait(seconds: scaled) }
                Thread.sleep(forTimeInterval: scaled)
                return true
            }
        )
        self.machines = PaperspaceMachineService(
            client: PaperspaceClient(
                endpoint: self.paperspace.baseURL,
                apiKey: Self.apiKey,
                http: http,
                logger: self.logger
            )
        )
        self.results = HubResultStore(
            client: HubClient(endpoint: self.hub.baseURL, token: Self.hubToken, http: http, logger: self.logger)
        )
    }

    /// Returns the job of one run; a failing run overruns its one-second maximum duration.
    static func job(fails: Bool) -> TrainingJob {
        TrainingJob(
            name: "campaign",
            schedule: "@yearly",
            machine: MachineSpec(type: "C5", template: "t0nspur5", region: "ny2"),
            repositoryURL: "https://git.invalid/campaign.git",
            datasetRepo: "campaign/data",
            trainCommand: "true",
            modelRepo: Self.modelRepo,
            outputs: ["model.bin"],
            maxDuration: fails ? 1 : 4,
            poll: PollIntervals(startup: 0.05, running: 0.05, teardown: 0.05),
            timeouts: StateTimeouts(ready: 1, stop: 0.5, delete: 0.5, teardown: 60)
        )
    }

    /// Seeds the status record and the output that a succeeding run leaves in the model repo.
    func seedResults(runId: String) {
        let status = #"{"run_id":"\#(runId)","exit_code":0,"failed_step":"","steps":[]}"#
        self.hub.seed(
            repo: Self.modelRepo,
            type: .model,
            files: [
                StartupScriptTemplate.statusPath(runId: runId): Data(status.utf8),
                "model.bin": Data(runId.utf8),
            ],
            message: "Seed the outputs of run \(runId)"
        )
    }

    func shutdown() {
        self.paperspace.stop()
        self.hub.stop()
    }
}

/// A `RunEventSink` that keeps the last alert of each run.
final class CampaignEvents: RunEventSink, @unchecked Sendable {
    private let storage = Protected<[String: [RunEventKind]]>([:])

    func publish(_ kind: RunEventKind, record: RunRecord, job: TrainingJob) {
        self.storage.withLock { $0[record.runId, default: []].append(kind) }
    }

    func kinds(runId: String) -> [RunEventKind] {
        self.storage.current[runId] ?? []
    }
}
