import Foundation

/// A Paperspace machine as the v1 API describes it, reduced to the fields nightshift reads.
///
/// Decoding is lenient: unknown fields are ignored and every field except `id` may be null or missing.
/// The API returns `region` in more than one spelling (`ny2`, `NY2`, `East Coast (NY2)`), so it is kept as sent.
public struct Machine: Sendable, Equatable {
    public var id: String
    public var name: String
    public var state: MachineState
    /// The machine type label, for example `A4000` or `C5`.
    public var machineType: String
    public var region: String
    public var os: String?
    public var agentType: String?
    public var publicIp: String?
    public var privateIp: String?
    /// `static`, `dynamic` or `none`.
    public var publicIpType: String?
    public var cpus: Int?
    /// Memory in bytes.
    public var ram: Int64?
    public var dtCreated: Date?
    public var dtModified: Date?
    /// Set once the machine is deleted; lists may still contain such machines.
    public var dtDeleted: Date?
    public var autoShutdownEnabled: Bool?
    /// The auto-shutdown timeout in hours.
    public var autoShutdownTimeout: Double?
    public var autoShutdownForce: Bool?
    /// The hourly compute price in US dollars.
    public var usageRate: Double?
    /// The hourly storage price in US dollars.
    public var storageRate: Double?

    public init(
        id: String,
        name: String,
        state: MachineState,
        machineType: String = "",
        region: String = "",
        os: String? = nil,
        agentType: String? = nil,
        publicIp: String? = nil,
        privateIp: String? = nil,
        publicIpType: String? = nil,
        cpus: Int? = nil,
        ram: Int64? = nil,
        dtCreated: Date? = nil,
        dtModified: Date? = nil,
        dtDeleted: Date? = nil,
        autoShutdownEnabled: Bool? = nil,
        autoShutdownTimeout: Double? = nil,
        autoShutdownForce: Bool? = nil,
        usageRate: Double? = nil,
        storageRate: Double? = nil
    ) {
        self.id = id
        self.name = name
        self.state = state
        self.machineType = machineType
        self.region = region
        self.os = os
        self.agentType = agentType
        self.publicIp = publicIp
        self.privateIp = privateIp
        self.publicIpType = publicIpType
        self.cpus = cpus
        self.ram = ram
        self.dtCreated = dtCreated
        self.dtModified = dtModified
        self.dtDeleted = dtDeleted
        self.autoShutdownEnabled = autoShutdownEnabled
        self.autoShutdownTimeout = autoShutdownTimeout
        self.autoShutdownForce = autoShutdownForce
        self.usageRate = usageRate
        self.storageRate = storageRate
    }

    /// Decodes a machine from a JSON object; returns nil when `value` is not an object or has no `id`.
    init?(json value: Any?) {
        guard let object = value as? [String: Any] else { return nil }
        let fields = JSONFields(object)
        guard let id = fields.nonEmptyString("id") else { return nil }
        self.init(
            id: id,
            name: fields.string("name") ?? "",
            state: MachineState(apiValue: fields.string("state") ?? ""),
            machineType: fields.string("machineType") ?? "",
            region: fields.string("region") ?? "",
            os: fields.string("os"),
            agentType: fields.string("agentType"),
            publicIp: fields.nonEmptyString("publicIp"),
            privateIp: fields.nonEmptyString("privateIp"),
            publicIpType: fields.string("publicIpType"),
            cpus: fields.int("cpus"),
            ram: fields.int64("ram"),
            dtCreated: fields.date("dtCreated"),
            dtModified: fields.date("dtModified"),
            dtDeleted: fields.date("dtDeleted"),
            autoShutdownEnabled: fields.bool("autoShutdownEnabled"),
            autoShutdownTimeout: fields.double("autoShutdownTimeout"),
            autoShutdownForce: fields.bool("autoShutdownForce"),
            usageRate: fields.double("usageRate"),
            storageRate: fields.double("storageRate")
        )
    }

    /// Whether the API has marked the machine deleted.
    public var isDeleted: Bool {
        self.dtDeleted != nil
    }
}
