import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The cause of a stand-in machine's last stop.
public enum PaperspaceStandInStopCause: String, Sendable {
    /// A `PATCH /machines/{id}/stop` call.
    case api
    /// The startup script called `poweroff`, `shutdown` or `halt` (one of the shims in the machine directory).
    case guestPowerOff
    /// The auto-shutdown timeout ran out.
    case autoShutdown
}

/// A snapshot of one stand-in machine, for tests to inspect.
public struct PaperspaceStandInMachine: Sendable {
    public var id: String
    public var name: String
    /// The API state: `provisioning`, `starting`, `ready`, `stopping`, `restarting` or `off`.
    public var state: String
    public var machineType: String
    public var templateId: String
    /// The region as a lower-case code: `ny2`, `ams1` or `ca1`.
    public var region: String
    public var diskSize: Int
    public var autoShutdownEnabled: Bool
    /// The auto-shutdown timeout in API hours (see `Options.secondsPerHour`).
    public var autoShutdownTimeout: Double?
    public var startupScriptId: String?
    /// The number of times the machine reached `ready`.
    public var bootCount: Int
    /// The number of times the startup script was started.
    public var scriptRunCount: Int
    /// The exit status of the last startup script run, or 128 + N when signal N ended it. It is nil while the
    /// script runs and when no script ran.
    public var scriptExitStatus: Int32?
    /// Whether the last stop came from the startup script calling a poweroff shim.
    public var poweredOffByScript: Bool
    /// The number of lines in `<directory>/poweroff-calls`, one per shim call.
    public var powerOffCallCount: Int
    public var lastStopCause: PaperspaceStandInStopCause?
    public var isDeleted: Bool
    public var createdAt: Date
    public var deletedAt: Date?
    /// The seconds the machine spent in any state other than `off` (and before deletion): the billed time.
    public var secondsOn: Double
    /// The machine's scratch directory, which is kept after deletion so tests can read its logs.
    public var directory: String
}

/// The machine states of the v1 API.
enum MachineState: String {
    case off, starting, stopping, restarting, serviceready, ready, upgrading, provisioning
}

/// A power change that a `.stuck` fault holds back until it is cleared.
enum DeferredPowerAction {
    case start
    case stop(PaperspaceStandInStopCause)
    case restart
    case reboot
}

/// The mutable state of one machine. Every access happens under the stand-in's world lock.
final class MachineRecord {
    let id: String
    let sequence: Int
    var name: String
    var machineType: String
    let templateId: String
    let region: PaperspaceRegion
    var diskSize: Int
    var networkId: String?
    var publicIpType: String
    var autoSnapshotEnabled = false
    var autoSnapshotFrequency: String?
    var autoSnapshotSaveCount: Int?
    var autoShutdownEnabled = false
    var autoShutdownTimeout: Double?
    var autoShutdownForce: Bool?
    var restorePointEnabled = false
    var restorePointFrequency: String?
    var restorePointSnapshotId: String?
    var startupScriptId: String?
    var startOnCreate = true

    var state: MachineState = .provisioning
    var stateEnteredAt: Date
    let dtCreated: Date
    var dtModified: Date
    var dtDeleted: Date?
    let privateIp: String
    var publicIp: String?

    /// When the machine last left `off`; nil while it is off or deleted.
    var poweredOnAt: Date?
    var accumulatedSecondsOn: Double = 0
    var readyAt: Date?
    var bootCount = 0
    var scriptRunCount = 0
    var runOnceScriptsDone: Set<String> = []
    /// The startup script process while it runs; its process group may outlive it.
    var scriptPID: pid_t?
    var processGroup: pid_t?
    var powerOffCallCount = 0
    var scriptExitStatus: Int32?
    var poweredOffByScript = false
    var lastStopCause: PaperspaceStandInStopCause?
    var pendingEventId: String?
    var deferred: DeferredPowerAction?
    /// When an accepted delete under a `.deleteLags` fault takes effect; nil when no delete is pending.
    var deleteDueAt: Date?
    let directory: String

    init(
        id: String,
        sequence: Int,
        name: String,
        machineType: String,
        templateId: String,
        region: PaperspaceRegion,
        diskSize: Int,
        publicIpType: String,
        directory: String,
        now: Date
    ) {
        self.id = id
        self.sequence = sequence
        self.name = name
        self.machineType = machineType
        self.templateId = templateId
        self.region = region
        self.diskSize = diskSize
        self.publicIpType = publicIpType
        self.directory = directory
        self.stateEnteredAt = now
        self.dtCreated = now
        self.dtModified = now
        self.privateIp = "10.64.\(sequence / 250 % 250).\(sequence % 250 + 2)"
        if publicIpType == "static" {
            self.publicIp = MachineRecord.publicAddress(sequence)
        }
    }

    /// Returns an address from TEST-NET-2 (RFC 5737), which is never routed, so no client can reach a real host.
    static func publicAddress(_ sequence: Int) -> String {
        "198.51.100.\(sequence % 254 + 1)"
    }

    func secondsOn(at now: Date) -> Double {
        self.accumulatedSecondsOn + (self.poweredOnAt.map { max(0, now.timeIntervalSince($0)) } ?? 0)
    }

    func snapshot(at now: Date) -> PaperspaceStandInMachine {
        PaperspaceStandInMachine(
            id: self.id,
            name: self.name,
            state: self.state.rawValue,
            machineType: self.machineType,
            templateId: self.templateId,
            region: self.region.rawValue,
            diskSize: self.diskSize,
            autoShutdownEnabled: self.autoShutdownEnabled,
            autoShutdownTimeout: self.autoShutdownTimeout,
            startupScriptId: self.startupScriptId,
            bootCount: self.bootCount,
            scriptRunCount: self.scriptRunCount,
            scriptExitStatus: self.scriptExitStatus,
            poweredOffByScript: self.poweredOffByScript,
            powerOffCallCount: self.powerOffCallCount,
            lastStopCause: self.lastStopCause,
            isDeleted: self.dtDeleted != nil,
            createdAt: self.dtCreated,
            deletedAt: self.dtDeleted,
            secondsOn: self.secondsOn(at: now),
            directory: self.directory
        )
    }

    /// Returns the machine as the API's Machine object, with every field of the v1 schema.
    func json(regionSpelling: PaperspaceRegionSpelling) -> [String: Any] {
        let traits = MachineTypeTraits(machineType: self.machineType)
        let gibibyte: Int64 = 1 << 30
        return [
            "id": self.id,
            "name": self.name,
            "os": "Ubuntu 22.04",
            "machineType": self.machineType,
            "agentType": "LinuxDesktop",
            "state": self.state.rawValue,
            "cpus": traits.cpus,
            "ram": Int64(traits.ramGiB) * gibibyte,
            "storageTotal": Int64(self.diskSize) * gibibyte,
            "storageUsed": Int64(self.diskSize) * gibibyte / 10,
            "accelerators": traits.accelerators.map { $0 as Any } ?? NSNull(),
            "region": self.region.spelled(regionSpelling),
            "privateIp": self.privateIp,
            "publicIp": self.publicIp ?? NSNull(),
            "networkId": self.networkId ?? NSNull(),
            "publicIpType": self.publicIpType,
            "autoShutdownEnabled": self.autoShutdownEnabled,
            "autoShutdownTimeout": self.autoShutdownTimeout ?? NSNull(),
            "autoShutdownForce": self.autoShutdownForce ?? NSNull(),
            "autoSnapshotEnabled": self.autoSnapshotEnabled,
            "autoSnapshotFrequency": self.autoSnapshotFrequency ?? NSNull(),
            "autoSnapshotSaveCount": self.autoSnapshotSaveCount ?? NSNull(),
            "restorePointEnabled": self.restorePointEnabled,
            "restorePointFrequency": self.restorePointFrequency ?? NSNull(),
            "restorePointSnapshotId": self.restorePointSnapshotId ?? NSNull(),
            "updatesPending": false,
            "usageRate": traits.usageRate,
            "storageRate": Double(self.diskSize) * 0.0001,
            "dtCreated": formatAPIDate(self.dtCreated),
            "dtModified": formatAPIDate(self.dtModified),
            "dtDeleted": self.dtDeleted.map(formatAPIDate) ?? NSNull(),
            "reservation": NSNull(),
        ]
    }
}

/// Made-up but stable hardware figures for a machine type label. `C<n>` labels are CPU machines; other labels
/// are GPU types, with an `x<count>` suffix for several GPUs (`A100-80Gx8`).
struct MachineTypeTraits {
    var cpus: Int
    var ramGiB: Int
    var accelerators: [[String: Any]]?
    var usageRate: Double

    init(machineType: String) {
        let upper = machineType.uppercased()
        if upper.hasPrefix("C"), let size = Int(upper.dropFirst()) {
            self.cpus = max(1, size) * 2
            self.ramGiB = max(1, size) * 4
            self.accelerators = nil
            self.usageRate = 0.04 * Double(max(1, size))
            return
        }
        var gpuName = machineType
        var count = 1
        if let marker = machineType.lastIndex(where: { $0 == "x" || $0 == "X" }),
            let parsed = Int(machineType[machineType.index(after: marker)...]), parsed > 0
        {
            gpuName = String(machineType[..<marker])
            count = parsed
        }
        self.cpus = 8 * count
        self.ramGiB = 45 * count
        self.accelerators = [["name": gpuName, "memory": NSNull(), "count": count]]
        self.usageRate = 0.76 * Double(count)
    }
}
