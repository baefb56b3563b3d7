import Foundation
import HTTP
import Support

/// The fields of a machine created by hand.
public struct ManualMachineRequest: Sendable, Equatable {
    public var name: String
    /// The machine type label, for example `A4000` or `C5`.
    public var machineType: String
    public var templateId: String
    /// An old name (`NYC1`) or a v1 spelling (`ny2`, `East Coast (NY2)`); see `LegacyRegion`.
    public var region: String
    /// The disk size in GB.
    public var diskSizeGB: Int
    /// Hours until Paperspace stops the machine by itself, or nil for no auto-shutdown. By hand the default is
    /// nil, because such a machine is usually used interactively, so the CLI should print that it keeps running
    /// (and billing) until stopped.
    public var autoShutdownHours: Int?

    public init(
        name: String,
        machineType: String,
        templateId: String,
        region: String,
        diskSizeGB: Int,
        autoShutdownHours: Int? = nil
    ) {
        self.name = name
        self.machineType = machineType
        self.templateId = templateId
        self.region = region
        self.diskSizeGB = diskSizeGB
        self.autoShutdownHours = autoShutdownHours
    }
}

/// One machine as a table row, with every cell already text.
public struct MachineRow: Sendable, Equatable {
    public var id: String
    public var name: String
    public var state: String
    public var machineType: String
    public var region: String
    /// The public IP address, or `-` when there is none.
    public var publicIp: String
    /// The creation time as `yyyy-MM-dd HH:mm` in UTC, or `-` when unknown.
    public var created: String

    /// The column titles, in the order of `cells`.
    public static let headers = ["ID", "NAME", "STATE", "TYPE", "REGION", "PUBLIC IP", "CREATED (UTC)"]

    public var cells: [String] {
        [self.id, self.name, self.state, self.machineType, self.region, self.publicIp, self.created]
    }

    public init(_ machine: Machine) {
        self.id = machine.id
        self.name = machine.name
        self.state = machine.state.description
        self.machineType = machine.machineType
        self.region = machine.region
        self.publicIp = machine.publicIp ?? "-"
        self.created = machine.dtCreated.map(MachineRow.format) ?? "-"
    }

    /// Formats `rows` as a left-aligned text table with a header line, columns two spaces apart.
    public static func table(_ rows: [MachineRow]) -> String {
        let lines = [MachineRow.headers] + rows.map(\.cells)
        var widths = MachineRow.headers.map(\.count)
        for line in lines {
            for (index, cell) in line.enumerated() {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return lines.map { line in
            line.enumerated().map { index, cell in
                index == line.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    private static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}

/// The result of deleting a machine by id.
public enum MachineDeletion: Sendable, Equatable {
    case deleted
    /// Paperspace returned 404: the machine was deleted before, or the id never existed.
    case alreadyGone
}

/// Errors of the by-hand machine commands that `PaperspaceError` has no case for.
public enum MachineCommandError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A machine with the requested name exists already.
    case nameTaken(name: String, id: String)
    /// Paperspace rejected the delete because the machine is not off.
    case notOff(id: String, state: String)
    /// The create request was sent but no response arrived, so the machine may exist.
    case createOutcomeUnknown(name: String, detail: String)

    public var description: String {
        switch self {
        case .nameTaken(let name, let id):
            "a machine named \(name) already exists (id \(id)); choose another name or delete that machine first"
        case .notOff(let id, let state):
            "machine \(id) is \(state), and Paperspace deletes only machines that are off; stop it first "
                + "(machine stop \(id)) and delete it once it is off"
        case .createOutcomeUnknown(let name, let detail):
            "creating machine \(name) may have succeeded although no response arrived (\(detail)); list the machines "
                + "before trying again, so as not to pay for two"
        }
    }
}

/// The machine commands the CLI runs by hand: create, list, stop and delete, each on a `PaperspaceClient`.
public enum MachineCommands {
    /// Creates one machine and returns it as Paperspace reported it, usually `provisioning`.
    ///
    /// The region goes through `LegacyRegion.apiRegion(for:)`. A machine of the same name is an error, because
    /// nightshift finds its machines by name. The `POST` is sent once. When its response is lost, the error
    /// reports that instead of posting again.
    public static func create(_ client: PaperspaceClient, _ request: ManualMachineRequest) throws -> Machine {
        let region = try LegacyRegion.apiRegion(for: request.region)
        let createRequest = MachineCreateRequest(
            name: request.name,
            machineType: request.machineType,
            templateId: request.templateId,
            diskSize: request.diskSizeGB,
            region: region,
            autoShutdownTimeoutHours: request.autoShutdownHours
        )
        if let problem = createRequest.validationProblem {
            throw PaperspaceError.invalidRequest(operation: "create machine \(request.name)", detail: problem)
        }
        if let existing = try client.listMachines(name: request.name).first {
            throw MachineCommandError.nameTaken(name: request.name, id: existing.id)
        }
        do {
            return try client.createMachine(createRequest)
        } catch let error as PaperspaceError {
            if case .transport = error {
                throw MachineCommandError.createOutcomeUnknown(name: request.name, detail: error.description)
            }
            if case .invalidResponse = error {
                throw MachineCommandError.createOutcomeUnknown(name: request.name, detail: error.description)
            }
            throw error
        }
    }

    /// Returns every machine of the team, following all pages, as rows ordered by creation time and then id.
    public static func list(_ client: PaperspaceClient) throws -> [MachineRow] {
        let machines = try client.listMachines().sorted { first, second in
            let firstDate = first.dtCreated ?? .distantFuture
            let secondDate = second.dtCreated ?? .distantFuture
            return firstDate != secondDate ? firstDate < secondDate : first.id < second.id
        }
        return machines.map(MachineRow.init)
    }

    /// Asks Paperspace to stop the machine; a machine that is already off or stopping counts as stopped.
    /// Throws `PaperspaceError.notFound` for an unknown id.
    public static func stop(_ client: PaperspaceClient, id: String) throws {
        try MachineCommands.requireID(id, operation: "stop machine")
        try client.stopMachine(id: id)
    }

    /// Deletes the machine with `id`; a 404 returns `.alreadyGone`. A machine that is not off is rejected by
    /// Paperspace, and that rejection becomes `MachineCommandError.notOff` with the machine's state.
    public static func delete(_ client: PaperspaceClient, id: String) throws -> MachineDeletion {
        try MachineCommands.requireID(id, operation: "delete machine")
        let call = APICall(
            operation: "delete machine \(id)",
            method: "DELETE",
            path: ["machines", id],
            metadata: ["machine.id": id]
        )
        let response = try client.send(call, retry: client.retry)
        if response.status == 404 {
            client.logger.info("Machine was already deleted", metadata: ["machine.id": id])
            return .alreadyGone
        }
        if response.isSuccess {
            client.logger.info("Machine deleted", metadata: ["machine.id": id])
            return .deleted
        }
        let rejection = client.apiError(call.operation, response)
        if [400, 409, 412].contains(response.status) {
            guard let machine = try client.getMachine(id: id) else { return .alreadyGone }
            if machine.state != .off {
                throw MachineCommandError.notOff(id: id, state: machine.state.description)
            }
        }
        throw rejection
    }

    /// Checks that `id` is letters, digits, `-` and `_`, as Paperspace ids are. An id such as `..` would reach
    /// libcurl, which removes dot segments from the path, so the request would go to another resource.
    private static func requireID(_ id: String, operation: String) throws {
        if id.trimmingCharacters(in: .whitespaces).isEmpty {
            throw PaperspaceError.invalidRequest(operation: operation, detail: "the machine id is empty")
        }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard id.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
            throw PaperspaceError.invalidRequest(
                operation: operation,
                detail: "invalid machine id \"\(id)\": expected letters, digits, - or _"
            )
        }
    }
}
