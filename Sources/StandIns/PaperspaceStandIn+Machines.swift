import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The validated body of `POST /machines`.
private struct MachineCreateRequest {
    var name: String
    var machineType: String
    var templateId: String
    var diskSize: Int
    var region: PaperspaceRegion
    var networkId: String?
    var publicIpType: String
    var autoSnapshotEnabled: Bool
    var autoSnapshotFrequency: String?
    var autoSnapshotSaveCount: Int?
    var autoShutdownEnabled: Bool
    var autoShutdownTimeout: Double?
    var autoShutdownForce: Bool?
    var restorePointEnabled: Bool
    var restorePointFrequency: String?
    var startupScriptId: String?
    var startOnCreate: Bool

    static let diskSizes = 50...2000
    static let autoShutdownHours = 1.0...168.0
    static let snapshotFrequencies = ["hourly", "daily", "weekly", "monthly"]

    init(_ body: JSONBodyFields, startOnCreateDefault: Bool) throws {
        self.name = try body.requiredString("name")
        self.machineType = try body.requiredString("machineType")
        self.templateId = try body.requiredString("templateId")
        guard let diskSize = try body.integer("diskSize") else {
            throw PaperspaceAPIError.badRequest("Invalid input: `diskSize` is required.")
        }
        // NOTE: the schema allows 11 literal sizes that no copy of it lists; this range covers 50 GB to 2 TB.
        guard MachineCreateRequest.diskSizes.contains(diskSize) else {
            throw PaperspaceAPIError.badRequest(
                "Invalid input: `diskSize` must be from 50 to 2000 GB, got \(diskSize)."
            )
        }
        self.diskSize = diskSize
        guard let regionText = try body.string("region") else {
            throw PaperspaceAPIError.badRequest("Invalid input: `region` is required.")
        }
        guard let region = PaperspaceRegion(spelling: regionText) else {
            throw PaperspaceAPIError.badRequest(
                "Invalid input: unknown region \"\(regionText)\"; use one of \(PaperspaceRegion.acceptedSpellings)."
            )
        }
        self.region = region
        self.networkId = try body.string("networkId")
        self.publicIpType = try body.oneOf("publicIpType", ["static", "dynamic", "none"]) ?? "dynamic"
        self.autoSnapshotEnabled = try body.bool("autoSnapshotEnabled") ?? false
        self.autoSnapshotFrequency = try body.oneOf("autoSnapshotFrequency", MachineCreateRequest.snapshotFrequencies)
        self.autoSnapshotSaveCount = try body.integer("autoSnapshotSaveCount")
        self.autoShutdownEnabled = try body.bool("autoShutdownEnabled") ?? false
        self.autoShutdownTimeout = try MachineCreateRequest.autoShutdownTimeout(body)
        self.autoShutdownForce = try body.bool("autoShutdownForce")
        self.restorePointEnabled = try body.bool("restorePointEnabled") ?? false
        self.restorePointFrequency = try body.oneOf("restorePointFrequency", ["shutdown"])
        self.startupScriptId = try body.string("startupScriptId")
        self.startOnCreate = try body.bool("startOnCreate") ?? startOnCreateDefault
        // Accepted and type-checked, but they change nothing in the stand-in.
        _ = try body.bool("takeInitialSnapshot")
        _ = try body.bool("emailPassword")
        _ = try body.bool("enableNvlink")
        _ = try body.stringArray("accessorIds")
    }

    static func autoShutdownTimeout(_ body: JSONBodyFields) throws -> Double? {
        guard let hours = try body.number("autoShutdownTimeout") else { return nil }
        guard MachineCreateRequest.autoShutdownHours.contains(hours) else {
            throw PaperspaceAPIError.badRequest(
                "Invalid input: `autoShutdownTimeout` must be from 1 to 168 hours, got \(hours)."
            )
        }
        return hours
    }
}

extension PaperspaceStandIn {
    /// Returns machine `id`, raising 404 NOT_FOUND when it does not exist or was deleted.
    func liveMachine(_ world: World, _ id: String) throws -> MachineRecord {
        guard let machine = world.machines[id], machine.dtDeleted == nil else {
            throw PaperspaceAPIError.notFound("Machine \(id) not found.")
        }
        return machine
    }

    func mutationResponse(_ machine: MachineRecord, _ event: EventRecord?) -> HTTPResponse {
        var body: [String: Any] = ["data": machine.json(regionSpelling: self.options.regionSpelling)]
        if let event {
            body["event"] = event.json
        }
        return .json(200, body)
    }

    func listMachines(_ request: HTTPRequest) throws -> HTTPResponse {
        let query = try PageQuery(
            request,
            orderByChoices: ["dtCreated", "name", "state"],
            defaultLimit: self.options.pageLimitDefault
        )
        var region: PaperspaceRegion?
        if let text = request.queryValue("region") {
            guard let parsed = PaperspaceRegion(spelling: text) else {
                throw PaperspaceAPIError.badRequest(
                    "Invalid input: unknown region \"\(text)\"; use one of \(PaperspaceRegion.acceptedSpellings)."
                )
            }
            region = parsed
        }
        let name = request.queryValue("name")
        let machineType = request.queryValue("machineType")?.lowercased()
        let agentType = request.queryValue("agentType")
        return self.locked { world in
            let matching = world.machines.values.filter { machine in
                machine.dtDeleted == nil
                    && (name == nil || machine.name == name)
                    && (region == nil || machine.region == region)
                    && (machineType == nil || machine.machineType.lowercased() == machineType)
                    && (agentType == nil || agentType == "LinuxDesktop")
            }
            let page = query.page(
                matching,
                sortValue: { machine, orderBy in
                    switch orderBy {
                    case "name": .text(machine.name)
                    case "state": .text(machine.state.rawValue)
                    default: .number(machine.sequence)
                    }
                },
                sequence: \.sequence,
                json: { $0.json(regionSpelling: self.options.regionSpelling) }
            )
            return .json(200, page)
        }
    }

    func getMachine(id: String) throws -> HTTPResponse {
        try self.locked { world in
            let machine = try self.liveMachine(world, id)
            return .json(200, machine.json(regionSpelling: self.options.regionSpelling))
        }
    }

    func createMachine(_ request: HTTPRequest) throws -> HTTPResponse {
        let create = try MachineCreateRequest(
            JSONBodyFields(request),
            startOnCreateDefault: self.options.startOnCreateDefault
        )
        return try self.locked { world in
            var script: ScriptRecord?
            if let scriptId = create.startupScriptId {
                guard let found = world.scripts[scriptId], found.dtDeleted == nil else {
                    throw PaperspaceAPIError.notFound("Startup script \(scriptId) not found.")
                }
                script = found
            }
            var id = PaperspaceStandIn.makeID(prefix: "ps", length: 10)
            while world.machines[id] != nil {
                id = PaperspaceStandIn.makeID(prefix: "ps", length: 10)
            }
            let directory = (self.options.scratchDirectory as NSString).appendingPathComponent(id)
            try self.prepareMachineDirectory(directory)
            let now = Date()
            let machine = MachineRecord(
                id: id,
                sequence: world.takeSequence(),
                name: create.name,
                machineType: create.machineType,
                templateId: create.templateId,
                region: create.region,
                diskSize: create.diskSize,
                publicIpType: create.publicIpType,
                directory: directory,
                now: now
            )
            machine.networkId = create.networkId
            machine.autoSnapshotEnabled = create.autoSnapshotEnabled
            machine.autoSnapshotFrequency = create.autoSnapshotFrequency
            machine.autoSnapshotSaveCount = create.autoSnapshotSaveCount
            machine.autoShutdownEnabled = create.autoShutdownEnabled
            machine.autoShutdownTimeout = create.autoShutdownTimeout
            machine.autoShutdownForce = create.autoShutdownForce
            machine.restorePointEnabled = create.restorePointEnabled
            machine.restorePointFrequency = create.restorePointFrequency
            machine.startOnCreate = create.startOnCreate
            // Provisioning is billed time as far as the stand-in counts it.
            machine.poweredOnAt = now
            world.machines[id] = machine
            if let script {
                self.attach(script, to: machine, in: world)
            }
            let event = self.newEvent("create", for: machine, in: world, now: now)
            self.logger.info("Machine created", metadata: ["machine.id": id, "machine.name": create.name])
            return self.mutationResponse(machine, event)
        }
    }

    func updateMachine(id: String, _ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBodyFields(request)
        let autoShutdownKeys = ["autoShutdownEnabled", "autoShutdownTimeout", "autoShutdownForce"]
        if self.options.rejectAutoShutdownUpdate, let key = autoShutdownKeys.first(where: body.contains) {
            throw PaperspaceAPIError.badRequest(
                "Auto-shutdown cannot be changed on an existing machine (`\(key)`); set it when creating the machine."
            )
        }
        let name = try body.string("name")
        if let name, name.isEmpty {
            throw PaperspaceAPIError.badRequest("Invalid input: `name` must be a non-empty string.")
        }
        let machineType = try body.string("machineType")
        let diskSize = try body.integer("diskSize")
        let networkId = try body.string("networkId")
        let publicIpType = try body.oneOf("publicIpType", ["static", "dynamic", "none"])
        let autoSnapshotEnabled = try body.bool("autoSnapshotEnabled")
        let autoSnapshotFrequency = try body.oneOf("autoSnapshotFrequency", MachineCreateRequest.snapshotFrequencies)
        let autoSnapshotSaveCount = try body.integer("autoSnapshotSaveCount")
        let autoShutdownEnabled = try body.bool("autoShutdownEnabled")
        let autoShutdownTimeout = try MachineCreateRequest.autoShutdownTimeout(body)
        let autoShutdownForce = try body.bool("autoShutdownForce")
        let restorePointEnabled = try body.bool("restorePointEnabled")
        let restorePointFrequency = try body.oneOf("restorePointFrequency", ["shutdown"])
        let restorePointSnapshotId = try body.string("restorePointSnapshotId")

        return try self.locked { world in
            let machine = try self.liveMachine(world, id)
            let typeChanges = machineType.map { $0.lowercased() != machine.machineType.lowercased() } ?? false
            let diskChanges = diskSize.map { $0 != machine.diskSize } ?? false
            if typeChanges || diskChanges {
                guard machine.state == .off else {
                    throw PaperspaceAPIError.badRequest(
                        "Turn off machine \(id) before changing its type or disk size; it is \(machine.state.rawValue)."
                    )
                }
            }
            if let diskSize, diskSize < machine.diskSize || !MachineCreateRequest.diskSizes.contains(diskSize) {
                throw PaperspaceAPIError.badRequest(
                    "Invalid input: `diskSize` can only grow, up to 2000 GB: "
                        + "it is \(machine.diskSize), got \(diskSize)."
                )
            }
            if publicIpType == "dynamic" && machine.publicIpType != "dynamic" {
                throw PaperspaceAPIError.badRequest("A dynamic public IP cannot be assigned to an existing machine.")
            }
            if let networkId, networkId != machine.networkId {
                throw PaperspaceAPIError.badRequest("An existing machine cannot move to another private network.")
            }
            let now = Date()
            if let name { machine.name = name }
            if let machineType { machine.machineType = machineType }
            if let diskSize { machine.diskSize = diskSize }
            if let publicIpType {
                machine.publicIpType = publicIpType
                if publicIpType == "none" { machine.publicIp = nil }
                if publicIpType == "static" { machine.publicIp = MachineRecord.publicAddress(machine.sequence) }
            }
            if let autoSnapshotEnabled { machine.autoSnapshotEnabled = autoSnapshotEnabled }
            if let autoSnapshotFrequency { machine.autoSnapshotFrequency = autoSnapshotFrequency }
            if let autoSnapshotSaveCount { machine.autoSnapshotSaveCount = autoSnapshotSaveCount }
            if let autoShutdownEnabled { machine.autoShutdownEnabled = autoShutdownEnabled }
            if let autoShutdownTimeout { machine.autoShutdownTimeout = autoShutdownTimeout }
            if let autoShutdownForce { machine.autoShutdownForce = autoShutdownForce }
            if let restorePointEnabled { machine.restorePointEnabled = restorePointEnabled }
            if let restorePointFrequency { machine.restorePointFrequency = restorePointFrequency }
            if let restorePointSnapshotId { machine.restorePointSnapshotId = restorePointSnapshotId }
            machine.dtModified = now
            var event: EventRecord?
            if typeChanges || diskChanges {
                let upgrade = self.newEvent("vm-upgrade", for: machine, in: world, now: now)
                upgrade.finish("done", at: now)
                event = upgrade
            }
            return self.mutationResponse(machine, event)
        }
    }

    func deleteMachine(id: String) throws -> HTTPResponse {
        try self.locked { world in
            let machine = try self.liveMachine(world, id)
            if world.deleteFailuresLeft > 0 {
                world.deleteFailuresLeft -= 1
                throw PaperspaceAPIError.internalError("Failed to deactivate machine \(id). Try again later.")
            }
            if self.options.deleteRequiresOff && machine.state != .off {
                throw PaperspaceAPIError.badRequest(
                    "Turn off machine \(id) before deleting it; it is \(machine.state.rawValue)."
                )
            }
            let now = Date()
            if machine.deleteDueAt != nil {
                return self.mutationResponse(machine, nil)
            }
            if let lag = world.deleteLag, lag.remaining > 0 {
                world.deleteLag = lag.remaining > 1 ? (lag.seconds, lag.remaining - 1) : nil
                machine.deleteDueAt = now.addingTimeInterval(lag.seconds)
                let event = self.newEvent("deactivate", for: machine, in: world, now: now)
                return self.mutationResponse(machine, event)
            }
            let event = self.newEvent("deactivate", for: machine, in: world, now: now)
            self.completeDelete(machine, in: world, now: now)
            return self.mutationResponse(machine, event)
        }
    }

    /// Marks `machine` deleted: its guest processes die, billing stops and its pending `deactivate` event ends.
    func completeDelete(_ machine: MachineRecord, in world: World, now: Date) {
        self.signalGuest(machine, SIGKILL)
        machine.processGroup = nil
        machine.deferred = nil
        machine.deleteDueAt = nil
        if let poweredOnAt = machine.poweredOnAt {
            machine.accumulatedSecondsOn += max(0, now.timeIntervalSince(poweredOnAt))
            machine.poweredOnAt = nil
        }
        machine.dtDeleted = now
        machine.dtModified = now
        if let scriptId = machine.startupScriptId, let script = world.scripts[scriptId] {
            script.assignedMachineIds.removeAll { $0 == machine.id }
        }
        self.finishPendingEvent(machine, in: world, state: "done", now: now)
        self.logger.info("Machine deleted", metadata: ["machine.id": machine.id])
    }

    /// `PATCH /machines/{id}/start|stop|restart`, which accepts no body, `{}` or any JSON object.
    func changePower(id: String, action: String, _ request: HTTPRequest) throws -> HTTPResponse {
        _ = try JSONBodyFields(request)
        return try self.locked { world in
            let machine = try self.liveMachine(world, id)
            let now = Date()
            let power: DeferredPowerAction
            switch action {
            case "start":
                if machine.state == .ready || machine.state == .serviceready {
                    return try self.redundantPowerCall(machine, "start", "This machine is already running.", world, now)
                }
                guard machine.state == .off else { throw PaperspaceStandIn.busy(machine) }
                power = .start
            case "stop":
                if machine.state == .off {
                    return try self.redundantPowerCall(machine, "stop", "This machine is already off.", world, now)
                }
                guard machine.state != .stopping && machine.state != .upgrading else {
                    throw PaperspaceStandIn.busy(machine)
                }
                power = .stop(.api)
            default:
                guard machine.state == .ready || machine.state == .serviceready else {
                    throw PaperspaceStandIn.busy(machine)
                }
                power = .restart
            }
            let event = self.newEvent(action, for: machine, in: world, now: now)
            self.perform(power, on: machine, in: world, now: now)
            return self.mutationResponse(machine, event)
        }
    }

    /// Handles a start on a running machine or a stop on an `off` one: 400, or a finished no-op event.
    private func redundantPowerCall(
        _ machine: MachineRecord,
        _ name: String,
        _ message: String,
        _ world: World,
        _ now: Date
    ) throws -> HTTPResponse {
        if self.options.rejectRedundantPowerCalls {
            throw PaperspaceAPIError.badRequest(message)
        }
        let event = self.newEvent(name, for: machine, in: world, now: now, pending: false)
        event.finish("done", at: now)
        return self.mutationResponse(machine, event)
    }

    private static func busy(_ machine: MachineRecord) -> PaperspaceAPIError {
        .badRequest("This machine is currently \(machine.state.rawValue).")
    }
}
