/// The `state` of a Paperspace machine.
///
/// The eight named cases are the states the v1 API documents. Any other value, such as a state added later,
/// decodes to `unknown` with the text as sent, so callers can log it and keep polling.
public enum MachineState: Sendable, Hashable, CustomStringConvertible {
    case off
    case starting
    case stopping
    /// A stop followed by a start.
    case restarting
    /// The machine's services run but the Paperspace agent is not available yet.
    case serviceready
    case ready
    /// A change of machine type or disk, which shuts the machine down and starts it again.
    case upgrading
    /// Being created for the first time.
    case provisioning
    case unknown(String)

    /// Creates the state for `apiValue`, compared without regard to case.
    public init(apiValue: String) {
        switch apiValue.lowercased() {
        case "off": self = .off
        case "starting": self = .starting
        case "stopping": self = .stopping
        case "restarting": self = .restarting
        case "serviceready": self = .serviceready
        case "ready": self = .ready
        case "upgrading": self = .upgrading
        case "provisioning": self = .provisioning
        default: self = .unknown(apiValue)
        }
    }

    /// The state as the API spells it.
    public var apiValue: String {
        switch self {
        case .off: "off"
        case .starting: "starting"
        case .stopping: "stopping"
        case .restarting: "restarting"
        case .serviceready: "serviceready"
        case .ready: "ready"
        case .upgrading: "upgrading"
        case .provisioning: "provisioning"
        case .unknown(let value): value
        }
    }

    public var description: String {
        self.apiValue.isEmpty ? "unknown" : self.apiValue
    }

    /// Whether the machine is off or already on its way there, so a stop request has nothing left to do.
    public var isOffOrStopping: Bool {
        self == .off || self == .stopping
    }
}
