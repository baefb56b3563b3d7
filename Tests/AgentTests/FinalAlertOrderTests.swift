import Config
import Foundation
import Support
import Testing

@testable import Agent

/// Records, for each event, the state the journal held for the run at the moment the event was published.
private final class JournalWatchingSink: RunEventSink, @unchecked Sendable {
    let journal: Journal
    let seen = Protected<[(kind: RunEventKind, journaled: LifecycleState?)]>([])

    init(journal: Journal) {
        self.journal = journal
    }

    func publish(_ kind: RunEventKind, record: RunRecord, job: TrainingJob) {
        let journaled = try? self.journal.run(id: record.runId)?.state
        self.seen.withLock { $0.append((kind, journaled)) }
    }
}

@Suite(.serialized)
struct FinalAlertOrderTests {
    /// Recovery skips runs the journal shows finished, so a final alert published after the final journal write
    /// would be lost by a crash between the two.
    @Test(arguments: ["python3 train.py", "exit 3"])
    func finalAlertPrecedesFinalJournalWrite(trainCommand: String) throws {
        let harness = try EndToEndHarness(trainCommand: trainCommand)
        let runtime = try #require(harness.runtime)
        let sink = JournalWatchingSink(journal: runtime.journal)
        let record = RunRecord(
            runId: Daemon.defaultRunId(Date()),
            job: harness.job.name,
            machineName: "nightshift-\(harness.job.name)-alert-order",
            machineType: harness.job.machine.type,
            startedAt: Date(),
            maxDuration: harness.job.maxDuration
        )
        try runtime.journal.save(record, transitions: [])
        let supervisor = RunSupervisor(
            job: harness.job,
            machines: runtime.machines,
            results: runtime.results,
            journal: runtime.journal,
            events: sink,
            logger: Logger(label: "test", logLevel: .warning),
            cancel: harness.stop,
            scriptText: {
                StartupScriptTemplate.render(
                    job: harness.job,
                    runId: record.runId,
                    hubEndpoint: runtime.configuration.hub.endpoint,
                    hubToken: runtime.configuration.hub.token?.value ?? ""
                )
            }
        )

        let final = supervisor.run(record)

        let finalKind: RunEventKind = trainCommand == "exit 3" ? .failed : .succeeded
        #expect(final.state == (finalKind == .failed ? .failed : .succeeded))
        let alert = try #require(sink.seen.current.first { $0.kind == finalKind })
        let journaled = alert.journaled
        #expect(journaled.map { !$0.isTerminal } == true, "journal already showed \(String(describing: journaled))")
        #expect(try runtime.journal.run(id: record.runId)?.state == final.state)
        harness.expectNothingLeft()
    }
}
