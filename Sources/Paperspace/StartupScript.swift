import Foundation

/// A Paperspace startup script. The API never returns the script text, only its metadata.
public struct StartupScript: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Whether the script runs only on the first boot of each machine it is assigned to.
    public var isRunOnce: Bool
    public var isEnabled: Bool
    public var assignedMachineIds: [String]
    public var dtCreated: Date?
    public var dtDeleted: Date?

    public init(
        id: String,
        name: String,
        isRunOnce: Bool,
        isEnabled: Bool = true,
        assignedMachineIds: [String] = [],
        dtCreated: Date? = nil,
        dtDeleted: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.isRunOnce = isRunOnce
        self.isEnabled = isEnabled
        self.assignedMachineIds = assignedMachineIds
        self.dtCreated = dtCreated
        self.dtDeleted = dtDeleted
    }

    /// Decodes a script from a JSON object; returns nil when `value` is not an object or has no `id`.
    init?(json value: Any?) {
        guard let object = value as? [String: Any] else { return nil }
        let fields = JSONFields(object)
        guard let id = fields.nonEmptyString("id") else { return nil }
        self.init(
            id: id,
            name: fields.string("name") ?? "",
            isRunOnce: fields.bool("isRunOnce") ?? false,
            isEnabled: fields.bool("isEnabled") ?? true,
            assignedMachineIds: fields.strings("assignedMachineIds"),
            dtCreated: fields.date("dtCreated"),
            dtDeleted: fields.date("dtDeleted")
        )
    }

    /// Whether the API has marked the script deleted.
    public var isDeleted: Bool {
        self.dtDeleted != nil
    }
}
