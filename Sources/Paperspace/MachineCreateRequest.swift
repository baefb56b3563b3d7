import Foundation

/// The body of `POST /machines`, with the choices nightshift always makes filled in.
public struct MachineCreateRequest: Sendable, Equatable {
    /// The exact machine name; `ensureMachine` finds an earlier create by it, so it should be unique per run.
    public var name: String
    /// The machine type label, for example `A4000` or `C5`.
    public var machineType: String
    public var templateId: String
    /// The disk size in GB, sent as a JSON number.
    public var diskSize: Int
    /// Sent as given, because the API documents several spellings (`ny2`, `NY2`, `East Coast (NY2)`).
    public var region: String
    public var startupScriptId: String?
    /// The auto-shutdown timeout in hours. When set, the body also turns auto-shutdown on and forces it, so the
    /// machine stops after this long even if nightshift is gone.
    public var autoShutdownTimeoutHours: Int?
    public var startOnCreate: Bool
    /// `dynamic`, `static` or `none`. A dynamic address is released, and no longer billed, when the machine stops.
    public var publicIpType: String
    /// Whether Paperspace emails the machine's password; the API default is true.
    public var emailPassword: Bool

    public init(
        name: String,
        machineType: String,
        templateId: String,
        diskSize: Int,
        region: String,
        startupScriptId: String? = nil,
        autoShutdownTimeoutHours: Int? = nil,
        startOnCreate: Bool = true,
        publicIpType: String = "dynamic",
        emailPassword: Bool = false
    ) {
        self.name = name
        self.machineType = machineType
        self.templateId = templateId
        self.diskSize = diskSize
        self.region = region
        self.startupScriptId = startupScriptId
        self.autoShutdownTimeoutHours = autoShutdownTimeoutHours
        self.startOnCreate = startOnCreate
        self.publicIpType = publicIpType
        self.emailPassword = emailPassword
    }

    /// The maximum auto-shutdown timeout Paperspace allows: one week, in hours.
    public static let maxAutoShutdownHours = 168

    /// Returns what is wrong with the request, or nil when it can be sent.
    public var validationProblem: String? {
        if self.name.trimmingCharacters(in: .whitespaces).isEmpty {
            return "the machine name is empty"
        }
        for (field, value) in [
            ("machineType", self.machineType), ("templateId", self.templateId), ("region", self.region),
        ]
        where value.trimmingCharacters(in: .whitespaces).isEmpty {
            return "\(field) is empty"
        }
        if self.diskSize <= 0 {
            return "diskSize \(self.diskSize) is not a positive number of GB"
        }
        if let hours = self.autoShutdownTimeoutHours, !(1...MachineCreateRequest.maxAutoShutdownHours).contains(hours) {
            return "autoShutdownTimeoutHours \(hours) is outside 1...\(MachineCreateRequest.maxAutoShutdownHours)"
        }
        if !["dynamic", "static", "none"].contains(self.publicIpType) {
            return "publicIpType \"\(self.publicIpType)\" is not one of dynamic, static, none"
        }
        return nil
    }

    /// The JSON body, with numbers and booleans as JSON numbers and booleans.
    var body: [String: Any] {
        var body: [String: Any] = [
            "name": self.name,
            "machineType": self.machineType,
            "templateId": self.templateId,
            "diskSize": self.diskSize,
            "region": self.region,
            "startOnCreate": self.startOnCreate,
            "publicIpType": self.publicIpType,
            "emailPassword": self.emailPassword,
        ]
        if let startupScriptId = self.startupScriptId {
            body["startupScriptId"] = startupScriptId
        }
        if let hours = self.autoShutdownTimeoutHours {
            body["autoShutdownEnabled"] = true
            body["autoShutdownTimeout"] = hours
            body["autoShutdownForce"] = true
        }
        return body
    }
}
