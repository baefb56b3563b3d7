import Demo
import Foundation
import StandIns
import Support
import Testing

@testable import Agent

/// The SIGKILL column of the fault matrix: the real `nightshift start` binary is killed while the journal shows a
/// state, and a restarted `nightshift run` must finish the run with nothing left and the right alert.
///
/// Each state is held long enough to be seen by a stand-in fault armed before the launch, such as a delayed
/// create or a machine stuck in `stopping`, which `release` clears before the restart.
struct KillCase: Sendable, CustomTestStringConvertible {
    var state: LifecycleState

    var testDescription: String { "SIGKILL in \(self.state.rawValue)" }

    static let all: [KillCase] = MatrixCase.states.map { KillCase(state: $0) }

    /// `stopping` and `waitingForOff` are reached only when a run fails, here by overrunning its maximum duration.
    var runFails: Bool { self.state == .stopping || self.state == .waitingForOff }

    /// The alert the restarted daemon must send. A run interrupted while a create or the result check was in
    /// flight fails, because the outcome of that call is unknown. One interrupted while the machine ran or during a
    /// teardown keeps its outcome.
    var expectedAlert: RunEventKind {
        switch self.state {
        case .creatingScript, .creatingMachine, .checkingResults, .stopping, .waitingForOff: .failed
        default: .succeeded
        }
    }

    /// Arms the fault that keeps the run in the state.
    func hold(_ environment: DemoEnvironment) {
        let paperspace = environment.paperspace
        switch self.state {
        case .creatingScript:
            paperspace.inject(.delay(seconds: 1.5, count: 1, method: "POST", pathContains: "/startup-scripts"))
        case .creatingMachine:
            paperspace.inject(.delay(seconds: 1.5, count: 1, method: "POST", pathContains: "/machines"))
        case .waitingForReady:
            paperspace.inject(.stuck(state: "provisioning", machineNamePrefix: nil))
        case .running:
            break
        case .checkingResults:
            environment.hub.inject(.status(500, count: 4, pathContains: "status.json"))
        case .stopping:
            paperspace.inject(.delay(seconds: 1.5, count: 1, method: "PATCH", pathContains: "/stop"))
        case .waitingForOff:
            paperspace.inject(.stuck(state: "stopping", machineNamePrefix: nil))
        case .deleting:
            paperspace.inject(.deleteFails(count: 1_000_000))
        case .confirmingGone:
            paperspace.inject(.deleteLags(seconds: 3, count: 1))
        case .deletingScript:
            paperspace.inject(
                .status(
                    code: 500,
                    retryAfter: nil,
                    count: 1_000_000,
                    method: "DELETE",
                    pathContains: "/startup-scripts"
                )
            )
        default:
            break
        }
    }

    /// Clears the held fault once the killed process's requests in flight have landed.
    func release(_ environment: DemoEnvironment) {
        // A delayed create still lands after the client died. Waiting for it lets the restart find what a real
        // Paperspace would show by then.
        let deadline = Date(timeIntervalSinceNow: 5)
        while Date() < deadline {
            let landed =
                switch self.state {
                case .creatingScript: !environment.paperspace.startupScripts.isEmpty
                case .creatingMachine: !environment.paperspace.machines.isEmpty
                default: true
                }
            if landed { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        environment.paperspace.inject(.clear)
        environment.hub.clearFaults()
    }
}

@Suite struct FaultMatrixProcessTests {
    @Test(arguments: KillCase.all)
    func sigkillInState(_ killCase: KillCase) throws {
        let harness = try DaemonProcessHarness(
            trainCommand: killCase.runFails ? "sleep 600" : "sleep 2 && python3 train.py",
            maxDuration: killCase.runFails ? "6s" : "2m"
        )
        killCase.hold(harness.environment)
        let first = try harness.launch(["start", "gold-demo"], log: "first.log")
        let seen = try harness.waitForRun(timeout: 60) { $0.state == killCase.state }
        first.send(SIGKILL)
        first.wait()
        #expect(seen != nil, "the run never showed \(killCase.state.rawValue):\n\(harness.output("first.log"))")
        killCase.release(harness.environment)

        let daemon = try harness.launch(["run"], log: "daemon.log")
        let finished = try harness.waitForRun(timeout: 90) { $0.state.isTerminal }
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 30) == 0)
        let expectedState: LifecycleState = killCase.expectedAlert == .succeeded ? .succeeded : .failed
        #expect(
            finished?.state == expectedState,
            "ended in \(finished?.state.rawValue ?? "no terminal state"): \(finished?.outcome?.reason ?? "")"
        )
        harness.expectNothingLeft()
        // The outbox is in the state directory, so a started alert that the killed process queued may go out
        // later. The end-of-run alert must go out exactly once.
        let kinds = harness.environment.webhook.deliveries.compactMap { $0.jsonObject?["type"] as? String }
        #expect(kinds.filter { $0 != RunEventKind.started.rawValue } == [killCase.expectedAlert.rawValue])
        #expect(harness.output("daemon.log").contains("Recovering run from journal"))
    }
}
