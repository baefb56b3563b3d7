import Config
import Foundation
import HTTP
import Hub
import Paperspace
import StandIns
import Support

@testable import Agent

/// One run driven by a real `RunSupervisor` against the Paperspace and Hub stand-ins over HTTP, with machine
/// delays, poll intervals and retry sleeps cut to hundredths of a second so that a fault case ends in a few seconds.
///
/// The startup script is a two-line shell script: a succeeding run powers the machine off after 0.5 s, a failing
/// run sleeps past the job's maximum duration. The status record and the output of a succeeding run are seeded in
/// the model repo before the run starts, so the result check reads them through the real `HubResultStore`.
final class FaultMatrixFixture: @unchecked Sendable {
    static let apiKey = "matrix-paperspace-key-0123456789"
    static let hubToken = "hf_matrixToken0123456789"
    static let modelRepo = "matrix/model"
    /// Retry sleeps the HTTP client requests are divided by this before they are slept.
    static let sleepDivisor = 100.0

    let root: String
    let paperspace: PaperspaceStandIn
    let hub: HubStandIn
    let journal: Journal
    let capture = LogCapture()
    let events = RecordedEvents()
    let cancel = Signal()
    let job: TrainingJob
    let runId: String
    let succeeds: Bool
    /// The retry delays the HTTP client asked for, in seconds, before the divisor.
    let requestedSleeps = Protected<[Double]>([])
    private let machines: PaperspaceMachineService
    private let results: HubResultStore

    /// `succeeds` picks the startup script; `maxDuration` and `timeouts` are in seconds.
    init(succeeds: Bool, maxDuration: Double = 3, timeouts: StateTimeouts, totalTimeout: Double = 0.4) throws {
        self.root = NSTemporaryDirectory() + "nightshift-matrix-\(UUID().uuidString)"
        self.succeeds = succeeds
        self.paperspace = PaperspaceStandIn(
            options: PaperspaceStandIn.Options(
                apiKey: Self.apiKey,
                scratchDirectory: self.root + "/machines",
                provisioningDelay: 0.3,
                startingDelay: 0.05,
                stoppingDelay: 0.05
            )
        )
        self.hub = HubStandIn(tokens: [Self.hubToken])
        try self.paperspace.start()
        try self.hub.start()
        self.journal = try Journal(path: self.root + "/journal.sqlite")
        self.runId = "20990101-000000-" + String(format: "%04x", Int.random(in: 0..<0x10000))
        self.job = TrainingJob(
            name: "matrix",
            schedule: "@yearly",
            machine: MachineSpec(type: "C5", template: "t0nspur5", region: "ny2"),
            repositoryURL: "https://git.invalid/matrix.git",
            datasetRepo: "matrix/data",
            trainCommand: "true",
            modelRepo: Self.modelRepo,
            outputs: ["model.bin"],
            maxDuration: maxDuration,
            poll: PollIntervals(startup: 0.05, running: 0.05, teardown: 0.05),
            timeouts: timeouts
        )
        let status = #"{"run_id":"\#(self.runId)","exit_code":0,"failed_step":"","steps":[]}"#
        self.hub.seed(
            repo: Self.modelRepo,
            type: .model,
            files: [
                StartupScriptTemplate.statusPath(runId: self.runId): Data(status.utf8),
                "model.bin": Data("weights".utf8),
            ],
            message: "Seed the outputs of a finished run"
        )
        let logger = Logger(label: "matrix", logLevel: .debug, sink: self.capture.sink)
        let sleeps = self.requestedSleeps
        let http = HTTPClient(
            connectTimeout: 1,
            totalTimeout: totalTimeout,
            logger: logger,
            sleep: { seconds, cancel in
                sleeps.withLock { $0.append(seconds) }
                let scaled = seconds / FaultMatrixFixture.sleepDivisor
                if let cancel { return !cancel.wait(seconds: scaled) }
                Thread.sleep(forTimeInterval: scaled)
                return true
            }
        )
        self.machines = PaperspaceMachineService(
            client: PaperspaceClient(endpoint: self.paperspace.baseURL, apiKey: Self.apiKey, http: http, logger: logger)
        )
        self.results = HubResultStore(
            client: HubClient(endpoint: self.hub.baseURL, token: Self.hubToken, http: http, logger: logger)
        )
    }

    var scriptText: String {
        self.succeeds ? "#!/bin/bash\nsleep 0.5\npoweroff\n" : "#!/bin/bash\nsleep 60\n"
    }

    /// Returns a supervisor whose transitions go to `onTransition` after each journal write.
    func supervisor(
        onTransition: @escaping @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void = { _, _, _, _ in
        }
    ) -> RunSupervisor {
        let text = self.scriptText
        return RunSupervisor(
            job: self.job,
            machines: self.machines,
            results: self.results,
            journal: self.journal,
            events: self.events,
            logger: Logger(label: "matrix", logLevel: .debug, sink: self.capture.sink),
            cancel: self.cancel,
            scriptText: { text },
            onTransition: onTransition
        )
    }

    /// Journals a new run record and returns it, as `Daemon.startRun` does before it starts the supervisor.
    func newRecord() throws -> RunRecord {
        let record = RunRecord(
            runId: self.runId,
            job: self.job.name,
            machineName: "nightshift-matrix-\(self.runId)",
            machineType: self.job.machine.type,
            startedAt: Date(),
            maxDuration: self.job.maxDuration
        )
        try self.journal.save(record, transitions: [])
        return record
    }

    deinit {
        self.paperspace.stop()
        self.hub.stop()
        try? FileManager.default.removeItem(atPath: self.root)
    }
}

/// Run events as the supervisor published them, in order.
final class RecordedEvents: RunEventSink, @unchecked Sendable {
    private let storage = Protected<[RunEventKind]>([])

    func publish(_ kind: RunEventKind, record: RunRecord, job: TrainingJob) {
        self.storage.withLock { $0.append(kind) }
    }

    var kinds: [RunEventKind] { self.storage.current }
}
