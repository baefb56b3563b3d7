import Foundation
import HTTP
import Paperspace
import Support

/// `nightshift machine create|list|stop|delete`: Paperspace machines by hand, through the v1 API.
enum MachineCLI {
    static let keyOption = OptionSpec.secret(
        "--api-key",
        "KEY",
        "The Paperspace API key (default: $\(PaperspaceAPIKey.environmentVariable))."
    )
    /// Overrides the API endpoint, for a proxy or a stand-in; the default is the real Paperspace API.
    static let endpointVariable = "PAPERSPACE_API_ENDPOINT"

    static let specs: [CommandSpec] = [
        CommandSpec(
            path: ["machine", "create"],
            summary: """
                Create a machine and print its id and state.
                Regions take the old names (NYC1, AMS1, CA1) or the v1 ones (ny2, "East Coast (NY2)", ...). A machine
                made by hand has no auto-shutdown unless --auto-shutdown-hours is given, so it bills until stopped.
                """,
            options: [
                .value("--name", "NAME", "The machine's name (required)."),
                .value("--type", "TYPE", "The machine type, such as A4000 or C5 (required)."),
                .value("--template", "ID", "The template id, such as t0nspur5 (required)."),
                .value("--region", "REGION", "The region, such as NYC1 or ny2 (required)."),
                .value("--disk-size", "GB", "The disk size in GB (default 50)."),
                .value("--auto-shutdown-hours", "N", "Stop the machine after N hours (default: never)."),
                Self.keyOption,
            ],
            run: MachineCLI.create
        ),
        CommandSpec(
            path: ["machine", "list"],
            summary: "List every machine of the team: id, name, state, type, region, public IP and creation time.",
            options: [Self.keyOption],
            run: MachineCLI.list
        ),
        CommandSpec(
            path: ["machine", "stop"],
            arguments: "ID",
            positional: 1...1,
            summary: "Stop a machine.",
            options: [Self.keyOption],
            run: MachineCLI.stop
        ),
        CommandSpec(
            path: ["machine", "delete"],
            arguments: "ID",
            positional: 1...1,
            summary: "Delete a machine that is off; a machine that is already gone counts as deleted.",
            options: [Self.keyOption],
            run: MachineCLI.delete
        ),
    ]

    static func client(_ arguments: ParsedArguments) -> PaperspaceClient? {
        let environment = ProcessInfo.processInfo.environment
        let key: String
        do {
            key = try PaperspaceAPIKey.resolve(explicit: arguments.value("--api-key"), environment: environment)
        } catch {
            printError("nightshift: \(error)")
            return nil
        }
        let logger = Logger(label: "nightshift", logLevel: .warning)
        return PaperspaceClient(
            endpoint: environment[Self.endpointVariable].flatMap { $0.isEmpty ? nil : $0 }
                ?? "https://api.paperspace.com/v1",
            apiKey: key,
            http: HTTPClient(logger: logger.with(["component": "http"])),
            logger: logger.with(["component": "paperspace"])
        )
    }

    static let create: @Sendable (ParsedArguments) -> Int32 = { arguments in
        var missing: [String] = []
        for name in ["--name", "--type", "--template", "--region"] where arguments.value(name) == nil {
            missing.append(name)
        }
        guard missing.isEmpty else {
            printError("nightshift: machine create needs \(missing.joined(separator: ", "))")
            return ExitCode.usage.rawValue
        }
        var diskSize = 50
        if let text = arguments.value("--disk-size") {
            guard let number = Int(text), number > 0 else {
                printError("nightshift: invalid --disk-size \(text): expected a whole number of GB, such as 50")
                return ExitCode.usage.rawValue
            }
            diskSize = number
        }
        var hours: Int? = nil
        if let text = arguments.value("--auto-shutdown-hours") {
            guard let number = Int(text), number > 0 else {
                printError("nightshift: invalid --auto-shutdown-hours \(text): expected a whole number of hours")
                return ExitCode.usage.rawValue
            }
            hours = number
        }
        guard let client = MachineCLI.client(arguments) else { return ExitCode.usage.rawValue }
        do {
            let machine = try MachineCommands.create(
                client,
                ManualMachineRequest(
                    name: arguments.value("--name")!,
                    machineType: arguments.value("--type")!,
                    templateId: arguments.value("--template")!,
                    region: arguments.value("--region")!,
                    diskSizeGB: diskSize,
                    autoShutdownHours: hours
                )
            )
            writeLine("created machine \(machine.id) (\(machine.name)), state \(machine.state)")
            if hours == nil {
                printError(
                    "nightshift: note: this machine has no auto-shutdown and bills until you run "
                        + "`nightshift machine stop \(machine.id)`"
                )
            }
            return ExitCode.success.rawValue
        } catch {
            return MachineCLI.fail(error)
        }
    }

    static let list: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let client = MachineCLI.client(arguments) else { return ExitCode.usage.rawValue }
        do {
            let rows = try MachineCommands.list(client)
            writeLine(rows.isEmpty ? "no machines" : MachineRow.table(rows))
            return ExitCode.success.rawValue
        } catch {
            return MachineCLI.fail(error)
        }
    }

    /// Returns whether `id` can be a Paperspace machine id (letters, digits, `-` and `_`, as in `ps8q4opbh49b`),
    /// or prints why not. An id of `.` or `..` would otherwise reach libcurl, which removes dot segments from the
    /// path, so `delete ..` sent `DELETE /` and reported the machine as already gone.
    static func checkMachineID(_ id: String) -> Bool {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard !id.isEmpty, id.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
            printError(
                "nightshift: invalid machine id \"\(id)\": expected letters, digits, - or _; "
                    + "run `nightshift machine list` for the ids"
            )
            return false
        }
        return true
    }

    static let stop: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard MachineCLI.checkMachineID(arguments.positional[0]) else { return ExitCode.usage.rawValue }
        guard let client = MachineCLI.client(arguments) else { return ExitCode.usage.rawValue }
        do {
            try MachineCommands.stop(client, id: arguments.positional[0])
            writeLine("stop requested for machine \(arguments.positional[0])")
            return ExitCode.success.rawValue
        } catch {
            return MachineCLI.fail(error)
        }
    }

    static let delete: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard MachineCLI.checkMachineID(arguments.positional[0]) else { return ExitCode.usage.rawValue }
        guard let client = MachineCLI.client(arguments) else { return ExitCode.usage.rawValue }
        do {
            switch try MachineCommands.delete(client, id: arguments.positional[0]) {
            case .deleted: writeLine("deleted machine \(arguments.positional[0])")
            case .alreadyGone: writeLine("machine \(arguments.positional[0]) was already gone")
            }
            return ExitCode.success.rawValue
        } catch {
            return MachineCLI.fail(error)
        }
    }

    /// Prints a Paperspace error and returns 77 for a rejected key, 66 for an unknown machine, 64 for a value
    /// nightshift rejects before sending (a region, a name), 65 for a request the API rejects, and 75 for what may
    /// work later.
    static func fail(_ error: Error) -> Int32 {
        printError("nightshift: \(error)")
        if let commandError = error as? MachineCommandError {
            switch commandError {
            case .createOutcomeUnknown: return ExitCode.temporaryFailure.rawValue
            default: return ExitCode.dataError.rawValue
            }
        }
        guard let paperspaceError = error as? PaperspaceError else { return ExitCode.dataError.rawValue }
        switch paperspaceError {
        case .api(_, let status, _, _) where status == 401 || status == 403: return ExitCode.noPermission.rawValue
        case .api(_, let status, _, _) where status == 429 || status >= 500: return ExitCode.temporaryFailure.rawValue
        case .invalidRequest: return ExitCode.usage.rawValue
        case .api: return ExitCode.dataError.rawValue
        case .notFound: return ExitCode.noInput.rawValue
        case .transport, .invalidResponse: return ExitCode.temporaryFailure.rawValue
        }
    }
}
