import Foundation
import Testing

@testable import Agent

private let start = Date(timeIntervalSince1970: 1_800_000_000)

private func makeLifecycle(maxDuration: Double = 3600, policy: LifecyclePolicy = LifecyclePolicy()) -> Lifecycle {
    let record = RunRecord(
        runId: "20270115-030000-ab12",
        job: "nightly",
        machineName: "nightshift-nightly-20270115-030000-ab12",
        machineType: "A4000",
        startedAt: start,
        maxDuration: maxDuration
    )
    return Lifecycle(record: record, policy: policy)
}

/// Drives a lifecycle to `running` with machine `m1` and script `s1`.
private func runningLifecycle(maxDuration: Double = 3600) -> Lifecycle {
    var lifecycle = makeLifecycle(maxDuration: maxDuration)
    _ = lifecycle.handle(.started, now: start)
    _ = lifecycle.handle(.scriptCreated(id: "s1"), now: start)
    _ = lifecycle.handle(.machineCreated(id: "m1"), now: start)
    _ = lifecycle.handle(.machineObserved(state: "ready"), now: start.addingTimeInterval(60))
    return lifecycle
}

/// Feeds the teardown results until a terminal state and returns the states visited.
private func finishTeardown(_ lifecycle: inout Lifecycle, from time: Date) -> [LifecycleState] {
    var visited: [LifecycleState] = []
    var now = time
    for _ in 0..<20 {
        now = now.addingTimeInterval(5)
        switch lifecycle.state {
        case .stopping: _ = lifecycle.handle(.stopRequested, now: now)
        case .waitingForOff: _ = lifecycle.handle(.machineObserved(state: "off"), now: now)
        case .deleting: _ = lifecycle.handle(.deleteRequested, now: now)
        case .confirmingGone: _ = lifecycle.handle(.machineObserved(state: nil), now: now)
        case .deletingScript: _ = lifecycle.handle(.scriptDeleted, now: now)
        default: return visited
        }
        visited.append(lifecycle.state)
    }
    return visited
}

@Test func happyPathVisitsEveryState() {
    var lifecycle = makeLifecycle()
    #expect(lifecycle.handle(.started, now: start) == [.notify(.started), .createScript])
    #expect(lifecycle.handle(.scriptCreated(id: "s1"), now: start) == [.createMachine])
    #expect(lifecycle.handle(.machineCreated(id: "m1"), now: start) == [.pollMachine(after: 10)])
    #expect(lifecycle.handle(.machineObserved(state: "provisioning"), now: start) == [.pollMachine(after: 10)])
    #expect(lifecycle.handle(.machineObserved(state: "ready"), now: start) == [.pollMachine(after: 30)])
    #expect(lifecycle.state == .running)
    #expect(lifecycle.handle(.machineObserved(state: "off"), now: start) == [.checkResults])
    let actions = lifecycle.handle(.resultsChecked(succeeded: true, reason: nil, commitURL: "u"), now: start)
    #expect(actions == [.deleteMachine(after: 0)])
    #expect(lifecycle.handle(.deleteRequested, now: start) == [.pollMachine(after: 5)])
    #expect(lifecycle.handle(.machineObserved(state: nil), now: start) == [.deleteScript(after: 0)])
    #expect(lifecycle.handle(.scriptDeleted, now: start) == [.notify(.succeeded)])
    #expect(lifecycle.state == .succeeded)
    #expect(lifecycle.record.modelCommitURL == "u")
}

@Test func trainingFailureTearsDownAndFails() {
    var lifecycle = runningLifecycle()
    _ = lifecycle.handle(.machineObserved(state: "off"), now: start)
    let actions = lifecycle.handle(
        .resultsChecked(succeeded: false, reason: "train exited 3", commitURL: nil),
        now: start
    )
    #expect(actions == [.deleteMachine(after: 0)])
    let visited = finishTeardown(&lifecycle, from: start)
    #expect(visited.last == .failed)
    #expect(lifecycle.record.outcome?.reason == "train exited 3")
    #expect(lifecycle.record.outcome?.failedState == .checkingResults)
}

@Test func maximumDurationStopsMachine() {
    var lifecycle = runningLifecycle(maxDuration: 600)
    let actions = lifecycle.handle(.machineObserved(state: "ready"), now: start.addingTimeInterval(601))
    #expect(actions == [.stopMachine(after: 0)])
    #expect(lifecycle.record.outcome?.reason?.contains("maximum duration") == true)
    let visited = finishTeardown(&lifecycle, from: start.addingTimeInterval(601))
    #expect(visited == [.waitingForOff, .deleting, .confirmingGone, .deletingScript, .failed])
}

@Test func stuckProvisioningFailsAfterReadyTimeout() {
    var lifecycle = makeLifecycle(maxDuration: 36000)
    _ = lifecycle.handle(.started, now: start)
    _ = lifecycle.handle(.scriptCreated(id: "s1"), now: start)
    _ = lifecycle.handle(.machineCreated(id: "m1"), now: start)
    #expect(
        lifecycle.handle(.machineObserved(state: "provisioning"), now: start.addingTimeInterval(1199)) == [
            .pollMachine(after: 10)
        ]
    )
    #expect(
        lifecycle.handle(.machineObserved(state: "provisioning"), now: start.addingTimeInterval(1200)) == [
            .stopMachine(after: 0)
        ]
    )
    #expect(lifecycle.record.outcome?.failedState == .waitingForReady)
}

@Test func cancellationBeforeTeardownTearsDown() {
    var lifecycle = runningLifecycle()
    #expect(lifecycle.handle(.cancelled(reason: "SIGTERM"), now: start) == [.stopMachine(after: 0)])
    #expect(lifecycle.handle(.cancelled(reason: "SIGTERM again"), now: start) == [])
    #expect(lifecycle.state == .stopping)
}

@Test func failureBeforeMachineDeletesOnlyScript() {
    var lifecycle = makeLifecycle()
    _ = lifecycle.handle(.started, now: start)
    let actions = lifecycle.handle(.actionFailed(operation: "create startup script", message: "HTTP 500"), now: start)
    #expect(actions == [.deleteScript(after: 0)])
    #expect(lifecycle.handle(.scriptDeleted, now: start) == [.notify(.failed)])
}

@Test func failedCreateStillLooksForMachine() {
    var lifecycle = makeLifecycle()
    _ = lifecycle.handle(.started, now: start)
    _ = lifecycle.handle(.scriptCreated(id: "s1"), now: start)
    // The create call was made, so a machine with the run's name may exist even though no id came back.
    let actions = lifecycle.handle(.actionFailed(operation: "create machine", message: "timeout"), now: start)
    #expect(actions == [.stopMachine(after: 0)])
    #expect(lifecycle.record.machineMayExist)
}

@Test func deleteFailuresRetryWithBackoff() {
    var lifecycle = runningLifecycle()
    _ = lifecycle.handle(.machineObserved(state: "off"), now: start)
    _ = lifecycle.handle(.resultsChecked(succeeded: true, reason: nil, commitURL: nil), now: start)
    var delays: [Double] = []
    for attempt in 1...4 {
        let actions = lifecycle.handle(
            .actionFailed(operation: "delete machine", message: "HTTP 500"),
            now: start.addingTimeInterval(Double(attempt))
        )
        guard case .deleteMachine(let delay)? = actions.first else {
            Issue.record("expected a delete retry, got \(actions)")
            return
        }
        delays.append(delay)
    }
    #expect(delays == [5, 10, 20, 40])
    let visited = finishTeardown(&lifecycle, from: start.addingTimeInterval(10))
    #expect(visited.last == .succeeded)
}

@Test func teardownGivesUpAfterLimit() {
    var lifecycle = runningLifecycle()
    _ = lifecycle.handle(.cancelled(reason: "SIGTERM"), now: start)
    let actions = lifecycle.handle(
        .actionFailed(operation: "stop machine", message: "HTTP 500"),
        now: start.addingTimeInterval(3600)
    )
    #expect(actions == [.notify(.teardownFailed), .deleteScriptBestEffort])
    #expect(lifecycle.state == .needsAttention)
}

@Test func stuckStoppingRequestsStopAgain() {
    var lifecycle = runningLifecycle()
    _ = lifecycle.handle(.cancelled(reason: "SIGTERM"), now: start)
    _ = lifecycle.handle(.stopRequested, now: start)
    let actions = lifecycle.handle(.machineObserved(state: "stopping"), now: start.addingTimeInterval(601))
    #expect(actions == [.stopMachine(after: 5)])
    #expect(lifecycle.state == .stopping)
}

@Test func machineVanishingDuringRunStillTearsDown() {
    var lifecycle = runningLifecycle()
    let actions = lifecycle.handle(.machineObserved(state: nil), now: start)
    // A machine reported gone is still stopped and deleted: the report may be a stale read.
    #expect(actions == [.stopMachine(after: 0)])
    #expect(lifecycle.record.outcome?.succeeded == false)
    let visited = finishTeardown(&lifecycle, from: start)
    #expect(visited == [.waitingForOff, .deleting, .confirmingGone, .deletingScript, .failed])
}

@Test func machineMissingAfterStopIsStillDeleted() {
    var lifecycle = runningLifecycle()
    _ = lifecycle.handle(.cancelled(reason: "SIGTERM"), now: start)
    _ = lifecycle.handle(.stopRequested, now: start)
    #expect(lifecycle.handle(.machineObserved(state: nil), now: start) == [.deleteMachine(after: 0)])
    #expect(lifecycle.state == .deleting)
}

@Test func duplicateMachineFoundBeforeScriptDelete() {
    var lifecycle = runningLifecycle()
    _ = lifecycle.handle(.machineObserved(state: "off"), now: start)
    _ = lifecycle.handle(.resultsChecked(succeeded: true, reason: nil, commitURL: nil), now: start)
    _ = lifecycle.handle(.deleteRequested, now: start)
    _ = lifecycle.handle(.machineObserved(state: nil), now: start)
    #expect(lifecycle.state == .deletingScript)
    #expect(lifecycle.handle(.otherMachineFound(id: "m2"), now: start) == [.stopMachine(after: 0)])
    #expect(lifecycle.record.machineId == "m2")
    let visited = finishTeardown(&lifecycle, from: start)
    #expect(visited == [.waitingForOff, .deleting, .confirmingGone, .deletingScript, .succeeded])
}

@Test(arguments: [
    (LifecycleState.creatingScript, LifecycleAction.deleteScript(after: 0)),
    (.creatingMachine, .stopMachine(after: 0)),
    (.running, .pollMachine(after: 0)),
    (.waitingForOff, .pollMachine(after: 0)),
    (.deleting, .deleteMachine(after: 0)),
    (.deletingScript, .deleteScript(after: 0)),
])
func recoveryResumesOrTearsDown(state: LifecycleState, expected: LifecycleAction) {
    var record = makeLifecycle().record
    record.state = state
    record.scriptMayExist = true
    record.machineMayExist = state != .creatingScript
    if state == .running || state == .waitingForOff || state == .deleting { record.machineId = "m1" }
    var lifecycle = Lifecycle(record: record, policy: LifecyclePolicy())
    #expect(lifecycle.handle(.recovered, now: start).first == expected)
}

@Test func terminalStatesIgnoreEvents() {
    var lifecycle = runningLifecycle()
    _ = lifecycle.handle(.machineObserved(state: "off"), now: start)
    _ = lifecycle.handle(.resultsChecked(succeeded: true, reason: nil, commitURL: nil), now: start)
    _ = finishTeardown(&lifecycle, from: start)
    #expect(lifecycle.state == .succeeded)
    #expect(lifecycle.handle(.started, now: start).isEmpty)
    #expect(lifecycle.handle(.cancelled(reason: "x"), now: start).isEmpty)
}

@Test func durationFormatting() {
    #expect(formatDuration(42) == "42s")
    #expect(formatDuration(303) == "5m 03s")
    #expect(formatDuration(3720) == "1h 02m")
}
