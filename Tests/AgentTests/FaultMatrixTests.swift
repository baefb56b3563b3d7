import Config
import Foundation
import StandIns
import Support
import Testing

@testable import Agent

/// A fault that the matrix arms at the moment a run enters a lifecycle state.
enum MatrixFault: String, CaseIterable, Sendable {
    /// Two 429 responses with `Retry-After: 2` to the state's requests.
    case tooManyRequests
    /// Two 500 responses to the state's requests.
    case serverError
    /// Two connection resets on the state's requests.
    case connectionReset
    /// Two of the state's requests responded to after the client's 0.4 s total timeout.
    case requestTimeout
    /// The machine stays in its current or next power state, or its delete takes effect late.
    case stuck
    /// Eight machine deletes answer 500, more than one call's retries, so teardown retries the step.
    case deleteFailing
    /// Every machine delete answers 500 until teardown gives up.
    case deleteFailingPastLimit
}

/// One cell of the matrix: a lifecycle state and the fault armed when the run enters it.
struct MatrixCase: Sendable, CustomTestStringConvertible {
    var state: LifecycleState
    var fault: MatrixFault

    var testDescription: String { "\(self.state.rawValue) x \(self.fault.rawValue)" }

    /// Every state in which a machine or a startup script can exist.
    static let states: [LifecycleState] = [
        .creatingScript, .creatingMachine, .waitingForReady, .running, .checkingResults, .stopping, .waitingForOff,
        .deleting, .confirmingGone, .deletingScript,
    ]

    /// Every state and fault pair, except the three that cannot happen: after the delete is confirmed no machine
    /// remains to be stuck or to fail a delete until teardown gives up.
    static let all: [MatrixCase] = states.flatMap { state in
        MatrixFault.allCases.compactMap { fault in
            let machineGone = state == .confirmingGone || state == .deletingScript
            if machineGone && fault == .deleteFailingPastLimit { return nil }
            if state == .deletingScript && fault == .stuck { return nil }
            return MatrixCase(state: state, fault: fault)
        }
    }

    /// Whether the run reaches the state only on a failure path: `stopping` and `waitingForOff` need a machine
    /// that is still on, so those rows run a job that overruns its maximum duration.
    var runFails: Bool { self.state == .stopping || self.state == .waitingForOff }

    /// The terminal state and the alert that must end the run.
    var expected: (state: LifecycleState, alert: RunEventKind) {
        switch self.fault {
        case .deleteFailingPastLimit:
            return (.needsAttention, .teardownFailed)
        case .stuck where [.creatingScript, .creatingMachine, .waitingForReady, .running].contains(self.state):
            // The machine never becomes ready, or never powers itself off: the ready timeout or the maximum
            // duration fails the run.
            return (.failed, .failed)
        default:
            return self.runFails ? (.failed, .failed) : (.succeeded, .succeeded)
        }
    }
}

/// Arms one matrix fault on the stand-ins when the run enters the case's state, and releases stuck machines once
/// the run has reacted to them.
final class MatrixFaultArmer: @unchecked Sendable {
    let matrixCase: MatrixCase
    let fixture: FaultMatrixFixture
    private let armed = Protected(false)
    private let released = Protected(false)

    init(_ matrixCase: MatrixCase, fixture: FaultMatrixFixture) {
        self.matrixCase = matrixCase
        self.fixture = fixture
    }

    var wasArmed: Bool { self.armed.current }

    /// The stand-in machine state that a `.stuck` fault holds, or nil when the row uses a late delete instead.
    var stuckMachineState: String? {
        switch self.matrixCase.state {
        case .creatingScript, .creatingMachine, .waitingForReady: "provisioning"
        case .running: "ready"
        case .stopping, .waitingForOff: "stopping"
        default: nil
        }
    }

    /// Whether the row needs a lagging delete armed before its state: the machine is already gone when
    /// `confirmingGone` begins, so its `stuck` and `deleteFailing` rows make the delete on entry to `deleting` lag.
    var lagsDeleteFirst: Bool {
        self.matrixCase.state == .confirmingGone && [.stuck, .deleteFailing].contains(self.matrixCase.fault)
    }

    func transition(_ record: RunRecord, to state: LifecycleState) {
        if state == .deleting, self.lagsDeleteFirst, !self.armed.current, record.teardownFailures == 0 {
            self.fixture.paperspace.inject(.deleteLags(seconds: 1.2, count: 1))
        }
        if state == self.matrixCase.state, !self.armed.current {
            self.armed.withLock { $0 = true }
            self.arm()
        }
        guard self.matrixCase.fault == .stuck, self.armed.current, !self.released.current else { return }
        // A held stop takes effect once the fault is cleared, so clear it when the run has asked for the stop,
        // or for `stopping`, once the stop timeout has made teardown retry the step.
        let reacted =
            self.stuckMachineState == "stopping"
            ? record.teardownFailures >= 1 : state == .waitingForOff
        if self.stuckMachineState != nil, reacted {
            self.released.withLock { $0 = true }
            self.fixture.paperspace.inject(.clear)
        }
    }

    /// The method and path fragment of the requests the state makes, or nil for the Hub requests of
    /// `checkingResults`.
    private var requestFilter: (method: String?, path: String?)? {
        switch self.matrixCase.state {
        case .creatingScript: (nil, "/startup-scripts")
        case .creatingMachine: (nil, "/machines")
        case .waitingForReady, .running, .waitingForOff, .confirmingGone: ("GET", "/machines/")
        case .stopping: ("PATCH", "/stop")
        case .deleting: ("DELETE", "/machines/")
        case .checkingResults: nil
        default: (nil, nil)
        }
    }

    private func arm() {
        let paperspace = self.fixture.paperspace
        let filter = self.requestFilter
        switch self.matrixCase.fault {
        case .tooManyRequests:
            if let filter {
                paperspace.inject(
                    .status(code: 429, retryAfter: 2, count: 2, method: filter.method, pathContains: filter.path)
                )
            } else {
                self.fixture.hub.inject(.status(429, retryAfter: 2, count: 2))
            }
        case .serverError:
            if let filter {
                paperspace.inject(
                    .status(code: 500, retryAfter: nil, count: 2, method: filter.method, pathContains: filter.path)
                )
            } else {
                self.fixture.hub.inject(.status(500, count: 2))
            }
        case .connectionReset:
            if let filter {
                paperspace.inject(.resetConnection(count: 2, method: filter.method, pathContains: filter.path))
            } else {
                self.fixture.hub.inject(.resetConnection(count: 2))
            }
        case .requestTimeout:
            // The Hub stand-in has no delay fault, so `checkingResults` delays the teardown's first requests.
            let paperspaceFilter = filter ?? (nil, nil)
            paperspace.inject(
                .delay(seconds: 0.8, count: 2, method: paperspaceFilter.method, pathContains: paperspaceFilter.path)
            )
        case .stuck:
            if let state = self.stuckMachineState {
                paperspace.inject(.stuck(state: state, machineNamePrefix: nil))
            } else if !self.lagsDeleteFirst {
                paperspace.inject(.deleteLags(seconds: 1.2, count: 1))
            }
        case .deleteFailing:
            if self.matrixCase.state == .deletingScript {
                paperspace.inject(
                    .status(code: 500, retryAfter: nil, count: 8, method: "DELETE", pathContains: "/startup-scripts")
                )
            } else {
                paperspace.inject(.deleteFails(count: 8))
            }
        case .deleteFailingPastLimit:
            paperspace.inject(.deleteFails(count: 1_000_000))
        }
    }
}

@Suite struct FaultMatrixTests {
    @Test(arguments: MatrixCase.all)
    func faultInState(_ matrixCase: MatrixCase) throws {
        let teardownLimit = matrixCase.fault == .deleteFailingPastLimit ? 1.5 : 30
        let fixture = try FaultMatrixFixture(
            succeeds: !matrixCase.runFails,
            maxDuration: matrixCase.runFails ? 1 : 3,
            timeouts: StateTimeouts(ready: 1, stop: 0.5, delete: 0.5, teardown: teardownLimit)
        )
        let armer = MatrixFaultArmer(matrixCase, fixture: fixture)
        let supervisor = fixture.supervisor { record, _, to, _ in armer.transition(record, to: to) }
        let final = supervisor.run(try fixture.newRecord())
        let expected = matrixCase.expected

        #expect(armer.wasArmed, "the run never entered \(matrixCase.state.rawValue)")
        #expect(
            final.state == expected.state,
            "ended in \(final.state.rawValue): \(final.outcome?.reason ?? "no reason")"
        )
        #expect(fixture.events.kinds == [.started, expected.alert])
        #expect(
            fixture.paperspace.startupScripts.isEmpty,
            "scripts left: \(fixture.paperspace.startupScripts.map(\.id))"
        )
        if expected.state == .needsAttention {
            // Teardown gave up, so the machine is still there; the alert names it, and it is the only one.
            #expect(fixture.paperspace.machines.map(\.id) == [final.machineId].compactMap { $0 })
        } else {
            #expect(fixture.paperspace.machines.isEmpty, "machines left: \(fixture.paperspace.machines.map(\.id))")
        }
        try self.expectFaultFired(matrixCase, fixture: fixture, final: final)
    }

    /// Checks that the armed fault really reached the run, so that a case cannot pass on a fault that never fired.
    private func expectFaultFired(_ matrixCase: MatrixCase, fixture: FaultMatrixFixture, final: RunRecord) throws {
        let sleeps = fixture.requestedSleeps.current
        let reasons = try fixture.journal.transitions(runId: final.runId).map(\.reason)
        switch matrixCase.fault {
        case .tooManyRequests:
            #expect(sleeps.contains(2), "Retry-After: 2 was not honoured; sleeps \(sleeps)")
        case .serverError, .connectionReset, .requestTimeout:
            #expect(!sleeps.isEmpty, "the HTTP client never retried")
        case .stuck:
            let text = reasons.joined(separator: "\n")
            let noticed = ["stuck in", "after the delete request", "maximum duration"].contains { text.contains($0) }
            #expect(noticed, "no transition reports the stuck machine:\n\(text)")
        case .deleteFailing:
            #expect(reasons.contains { $0.hasPrefix("retrying in") }, "teardown never retried a step")
        case .deleteFailingPastLimit:
            #expect(reasons.contains { $0.hasPrefix("teardown gave up") })
        }
    }
}
