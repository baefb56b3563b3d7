import Agent
import Config
import Foundation
import StandIns
import Support

/// A seeded SplitMix64 generator, so that a campaign seed always draws the same faults for the same run index.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The kinds of fault the campaign injects.
enum CampaignFault: String, CaseIterable {
    case tooManyRequests = "429 with Retry-After"
    case serverError = "500"
    case connectionReset = "connection reset"
    case requestTimeout = "request timeout"
    case stuck = "machine stuck or delete late"
    case deleteFailing = "delete failing for a while"
    case crash = "supervisor crash, then recovery"
}

/// What one run drew from the generator.
struct CampaignPlan {
    var index: Int
    var fails: Bool
    /// The faults armed on entry to a state, with the number of requests each applies to.
    var faults: [(fault: CampaignFault, state: LifecycleState, count: Int)]
    /// The machine-service call or transition (counted together) at which the first supervisor freezes, if any.
    var crashStep: Int?
    /// Whether a crash inside a machine-service call happens after the request was sent, losing its response.
    var crashAfterCall: Bool

    static let states: [LifecycleState] = [
        .creatingScript, .creatingMachine, .waitingForReady, .running, .checkingResults, .stopping, .waitingForOff,
        .deleting, .confirmingGone, .deletingScript,
    ]

    init(index: Int, seed: UInt64) {
        var generator = SplitMix64(state: seed &+ UInt64(index) &* 0x1000_0000_01B3)
        self.index = index
        self.fails = Double.random(in: 0..<1, using: &generator) < 0.3
        self.faults = []
        let requestFaults = CampaignFault.allCases.filter { $0 != .crash }
        for _ in 0..<Int.random(in: 1...2, using: &generator) {
            self.faults.append(
                (
                    requestFaults.randomElement(using: &generator)!,
                    Self.states.randomElement(using: &generator)!,
                    Int.random(in: 1...3, using: &generator)
                )
            )
        }
        self.crashStep =
            Double.random(in: 0..<1, using: &generator) < 0.3 ? Int.random(in: 1...24, using: &generator) : nil
        self.crashAfterCall = Bool.random(using: &generator)
    }
}

/// A `MachineService` that forwards to the real one until its step count reaches the crash step, and then blocks
/// the calling thread for good, as a process killed mid-call would stop. Transitions count as steps too.
final class CrashingMachineService: MachineService, @unchecked Sendable {
    let inner: MachineService
    let crashStep: Int?
    let crashAfterCall: Bool
    let crashed = Signal()
    private let steps = Protected(0)
    private let never = DispatchSemaphore(value: 0)

    init(inner: MachineService, crashStep: Int?, crashAfterCall: Bool) {
        self.inner = inner
        self.crashStep = crashStep
        self.crashAfterCall = crashAfterCall
    }

    /// Counts a step; at the crash step it raises `crashed` and never returns.
    func step() {
        let count = self.steps.withLock { value -> Int in
            value += 1
            return value
        }
        guard let crashStep = self.crashStep, count == crashStep else { return }
        self.crashed.raise()
        self.never.wait()
    }

    private func call<Result>(_ body: () throws -> Result) throws -> Result {
        if !self.crashAfterCall { self.step() }
        let result = try body()
        if self.crashAfterCall { self.step() }
        return result
    }

    func createStartupScript(name: String, script: String) throws -> String {
        try self.call { try self.inner.createStartupScript(name: name, script: script) }
    }

    func findStartupScripts(named name: String) throws -> [String] {
        try self.call { try self.inner.findStartupScripts(named: name) }
    }

    func deleteStartupScript(id: String) throws {
        try self.call { try self.inner.deleteStartupScript(id: id) }
    }

    func ensureMachine(name: String, spec: MachineSpec, startupScriptId: String, autoShutdownHours: Int) throws
        -> String
    {
        try self.call {
            try self.inner.ensureMachine(
                name: name,
                spec: spec,
                startupScriptId: startupScriptId,
                autoShutdownHours: autoShutdownHours
            )
        }
    }

    func listMachines(named name: String) throws -> [(id: String, state: String)] {
        try self.call { try self.inner.listMachines(named: name) }
    }

    func machineState(id: String) throws -> String? {
        try self.call { try self.inner.machineState(id: id) }
    }

    func stopMachine(id: String) throws {
        try self.call { try self.inner.stopMachine(id: id) }
    }

    func deleteMachine(id: String) throws {
        try self.call { try self.inner.deleteMachine(id: id) }
    }
}
