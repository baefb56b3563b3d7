import Agent
import Config
import Foundation
import StandIns
import Support

/// The measurements of one campaign run.
struct RunMeasurement {
    var index: Int
    var finalState: LifecycleState?
    var alerts: [RunEventKind]
    var armed: [CampaignFault]
    /// Machines with the run's name still listed after the run's end plus the grace period, with that moment.
    var leakedMachines: [(id: String, since: Date)]
    var leakedScripts: Int
    /// Seconds from the transition into `stopping` on a failure to the first stop request the stand-in received.
    var failureToStop: Double?
    /// Seconds from the recovery start to the delete of a machine that existed when the supervisor crashed.
    var restartToTeardown: Double?
}

/// Runs planned runs against one `CampaignWorld`, one after another.
final class CampaignRunner: @unchecked Sendable {
    /// The time after a run's final state at which a machine that still exists counts as leaked.
    static let grace = 0.3
    /// A run that takes longer than this is reported as hung.
    static let runLimit = 120.0

    let world: CampaignWorld
    let events = CampaignEvents()

    init(world: CampaignWorld) {
        self.world = world
    }

    func run(_ plan: CampaignPlan, seed: UInt64) -> RunMeasurement {
        let runId = "campaign-\(seed)-\(plan.index)"
        let machineName = "nightshift-campaign-\(runId)"
        let job = CampaignWorld.job(fails: plan.fails)
        // Faults the previous run did not use up must not reach this one.
        self.world.paperspace.inject(.clear)
        self.world.hub.clearFaults()
        if !plan.fails { self.world.seedResults(runId: runId) }
        let armer = CampaignArmer(plan: plan, paperspace: self.world.paperspace, hub: self.world.hub, name: machineName)
        let crashing = CrashingMachineService(
            inner: self.world.machines,
            crashStep: plan.crashStep,
            crashAfterCall: plan.crashAfterCall
        )
        let failureSeen = Protected<Date?>(nil)
        let observe: @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void = { record, from, to, _ in
            armer.transition(record, to: to)
            if to == .stopping, !from.isTeardown, failureSeen.current == nil {
                failureSeen.withLock { $0 = Date() }
            }
        }
        let first = self.supervisor(job: job, machines: crashing) { record, from, to, reason in
            observe(record, from, to, reason)
            crashing.step()
        }
        let record = RunRecord(
            runId: runId,
            job: job.name,
            machineName: machineName,
            machineType: job.machine.type,
            startedAt: Date(),
            maxDuration: job.maxDuration
        )
        try? self.world.journal.save(record, transitions: [])

        let finished = Protected<RunRecord?>(nil)
        let done = Signal()
        let thread = Thread {
            let final = first.run(record)
            finished.withLock { $0 = final }
            done.raise()
        }
        thread.start()
        let deadline = Date(timeIntervalSinceNow: Self.runLimit)
        while !done.isRaised && !crashing.crashed.isRaised && Date() < deadline {
            _ = done.wait(seconds: 0.01)
        }

        var final = finished.current
        var restartToTeardown: Double?
        var armed = armer.armedFaults
        if crashing.crashed.isRaised, !done.isRaised {
            armed.append(.crash)
            let restartedAt = Date()
            let orphans = Set(self.world.paperspace.machines.filter { $0.name == machineName }.map(\.id))
            if let journaled = try? self.world.journal.run(id: runId) {
                let second = self.supervisor(job: job, machines: self.world.machines, onTransition: observe)
                final = second.resume(journaled)
            }
            let deletions = self.world.paperspace.allMachinesEverCreated.filter { orphans.contains($0.id) }
                .compactMap(\.deletedAt)
            if deletions.count == orphans.count, let last = deletions.max() {
                restartToTeardown = last.timeIntervalSince(restartedAt)
            }
        }
        let end = Date()
        Thread.sleep(forTimeInterval: Self.grace)
        let since = end.addingTimeInterval(Self.grace)
        let leaked = self.world.paperspace.machines.filter { $0.name == machineName }.map { ($0.id, since) }
        let leakedScripts = self.world.paperspace.startupScripts.filter { $0.name == machineName }.count
        return RunMeasurement(
            index: plan.index,
            finalState: final?.state,
            alerts: self.events.kinds(runId: runId),
            armed: armed,
            leakedMachines: leaked,
            leakedScripts: leakedScripts,
            failureToStop: self.stopLatency(machineName: machineName, after: failureSeen.current),
            restartToTeardown: restartToTeardown
        )
    }

    private func supervisor(
        job: TrainingJob,
        machines: MachineService,
        onTransition: @escaping @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void
    ) -> RunSupervisor {
        RunSupervisor(
            job: job,
            machines: machines,
            results: self.world.results,
            journal: self.world.journal,
            events: self.events,
            logger: self.world.logger,
            cancel: Signal(),
            scriptText: { "#!/bin/bash\n" + (job.maxDuration < 2 ? "sleep 60\n" : "sleep 0.1\npoweroff\n") },
            onTransition: onTransition
        )
    }

    /// Returns the seconds from `seen` to the first stop request for a machine named `machineName`.
    private func stopLatency(machineName: String, after seen: Date?) -> Double? {
        guard let seen else { return nil }
        let ids = Set(self.world.paperspace.allMachinesEverCreated.filter { $0.name == machineName }.map(\.id))
        let stop = self.world.paperspace.requests.first { request in
            request.method == "PATCH" && request.date >= seen
                && ids.contains { request.path == "/machines/\($0)/stop" }
        }
        return stop.map { $0.date.timeIntervalSince(seen) }
    }
}

/// Arms a run's planned faults on entry to their states and releases stuck machines once the run reacted.
final class CampaignArmer: @unchecked Sendable {
    let plan: CampaignPlan
    let paperspace: PaperspaceStandIn
    let hub: HubStandIn
    let name: String
    private let armed = Protected<[Int]>([])
    private let stuckActive = Protected<String?>(nil)

    init(plan: CampaignPlan, paperspace: PaperspaceStandIn, hub: HubStandIn, name: String) {
        self.plan = plan
        self.paperspace = paperspace
        self.hub = hub
        self.name = name
    }

    var armedFaults: [CampaignFault] {
        self.armed.current.map { self.plan.faults[$0].fault }
    }

    func transition(_ record: RunRecord, to state: LifecycleState) {
        for (offset, planned) in self.plan.faults.enumerated()
        where planned.state == state && !self.armed.current.contains(offset) {
            self.armed.withLock { $0.append(offset) }
            self.arm(planned.fault, state: state, count: planned.count)
        }
        // A held power change takes effect once the stuck rule is cleared; clear it when the run has reacted.
        if let stuck = self.stuckActive.current {
            let reacted = stuck == "stopping" ? record.teardownFailures >= 1 : state == .waitingForOff
            if reacted || state.isTerminal {
                self.stuckActive.withLock { $0 = nil }
                self.paperspace.inject(.clear)
            }
        }
    }

    private func arm(_ fault: CampaignFault, state: LifecycleState, count: Int) {
        let filter: (method: String?, path: String?)?
        switch state {
        case .creatingScript: filter = (nil, "/startup-scripts")
        case .creatingMachine: filter = (nil, "/machines")
        case .waitingForReady, .running, .waitingForOff, .confirmingGone: filter = ("GET", "/machines/")
        case .stopping: filter = ("PATCH", "/stop")
        case .deleting: filter = ("DELETE", "/machines/")
        case .checkingResults: filter = nil
        default: filter = (nil, nil)
        }
        let paperspaceFilter = filter ?? (nil, nil)
        switch fault {
        case .tooManyRequests:
            if filter == nil {
                self.hub.inject(.status(429, retryAfter: 2, count: count))
            } else {
                self.paperspace.inject(
                    .status(
                        code: 429,
                        retryAfter: 2,
                        count: count,
                        method: paperspaceFilter.method,
                        pathContains: paperspaceFilter.path
                    )
                )
            }
        case .serverError:
            if filter == nil {
                self.hub.inject(.status(500, count: count))
            } else {
                self.paperspace.inject(
                    .status(
                        code: 500,
                        retryAfter: nil,
                        count: count,
                        method: paperspaceFilter.method,
                        pathContains: paperspaceFilter.path
                    )
                )
            }
        case .connectionReset:
            if filter == nil {
                self.hub.inject(.resetConnection(count: count))
            } else {
                self.paperspace.inject(
                    .resetConnection(count: count, method: paperspaceFilter.method, pathContains: paperspaceFilter.path)
                )
            }
        case .requestTimeout:
            self.paperspace.inject(
                .delay(seconds: 0.8, count: count, method: paperspaceFilter.method, pathContains: paperspaceFilter.path)
            )
        case .stuck:
            let machineState: String? =
                switch state {
                case .creatingScript, .creatingMachine, .waitingForReady: "provisioning"
                case .running: "ready"
                case .stopping, .waitingForOff: "stopping"
                default: nil
                }
            if let machineState {
                self.stuckActive.withLock { $0 = machineState }
                self.paperspace.inject(.stuck(state: machineState, machineNamePrefix: self.name))
            } else {
                self.paperspace.inject(.deleteLags(seconds: 1.2, count: 1))
            }
        case .deleteFailing:
            self.paperspace.inject(.deleteFails(count: 3 + 3 * count))
        case .crash:
            break
        }
    }
}
