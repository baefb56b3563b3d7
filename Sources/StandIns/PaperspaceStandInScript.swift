import Foundation

/// A snapshot of one stand-in startup script, for tests to inspect.
public struct PaperspaceStandInScript: Sendable {
    public var id: String
    public var name: String
    /// The script text, which the API itself never returns.
    public var script: String
    public var isRunOnce: Bool
    public var isEnabled: Bool
    public var assignedMachineIds: [String]
    public var isDeleted: Bool
}

/// The mutable state of one startup script. Every access happens under the stand-in's world lock.
final class ScriptRecord {
    let id: String
    let sequence: Int
    var name: String
    var script: String
    var isRunOnce: Bool
    var isEnabled = true
    var assignedMachineIds: [String] = []
    let dtCreated: Date
    var dtDeleted: Date?

    init(id: String, sequence: Int, name: String, script: String, isRunOnce: Bool, now: Date) {
        self.id = id
        self.sequence = sequence
        self.name = name
        self.script = script
        self.isRunOnce = isRunOnce
        self.dtCreated = now
    }

    var snapshot: PaperspaceStandInScript {
        PaperspaceStandInScript(
            id: self.id,
            name: self.name,
            script: self.script,
            isRunOnce: self.isRunOnce,
            isEnabled: self.isEnabled,
            assignedMachineIds: self.assignedMachineIds,
            isDeleted: self.dtDeleted != nil
        )
    }

    /// Returns the API's Script object, which leaves out the script text.
    var json: [String: Any] {
        [
            "id": self.id,
            "name": self.name,
            "description": NSNull(),
            "isEnabled": self.isEnabled,
            "isRunOnce": self.isRunOnce,
            "assignedMachineIds": self.assignedMachineIds,
            "dtCreated": formatAPIDate(self.dtCreated),
            "dtDeleted": self.dtDeleted.map(formatAPIDate) ?? NSNull(),
        ]
    }
}

/// One machine event: the API's record of an asynchronous operation. Access happens under the world lock.
final class EventRecord {
    let id: String
    let sequence: Int
    let name: String
    var state: String
    let machineId: String
    let dtCreated: Date
    var dtStarted: Date?
    var dtFinished: Date?
    var error: String?

    init(id: String, sequence: Int, name: String, machineId: String, now: Date) {
        self.id = id
        self.sequence = sequence
        self.name = name
        self.state = "in progress"
        self.machineId = machineId
        self.dtCreated = now
        self.dtStarted = now
    }

    func finish(_ state: String, at now: Date) {
        guard self.dtFinished == nil else { return }
        self.state = state
        self.dtFinished = now
    }

    var json: [String: Any] {
        [
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "machineId": self.machineId,
            "dtCreated": formatAPIDate(self.dtCreated),
            "dtStarted": self.dtStarted.map(formatAPIDate) ?? NSNull(),
            "dtFinished": self.dtFinished.map(formatAPIDate) ?? NSNull(),
            "error": self.error ?? NSNull(),
        ]
    }
}
