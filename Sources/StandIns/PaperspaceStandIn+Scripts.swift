import Foundation

/// `/startup-scripts` and `/machine-events`.
extension PaperspaceStandIn {
    private func liveScript(_ world: World, _ id: String) throws -> ScriptRecord {
        guard let script = world.scripts[id], script.dtDeleted == nil else {
            throw PaperspaceAPIError.notFound("Startup script \(id) not found.")
        }
        return script
    }

    /// Validates script text: it must be non-empty and at most `scriptSizeLimit` UTF-8 bytes.
    private func checkScriptText(_ text: String) throws {
        guard !text.isEmpty else {
            throw PaperspaceAPIError.badRequest("Invalid input: `script` must be a non-empty string.")
        }
        let size = text.utf8.count
        guard size <= self.options.scriptSizeLimit else {
            throw PaperspaceAPIError.badRequest(
                "Invalid input: `script` is \(size) bytes; a startup script is limited to "
                    + "\(self.options.scriptSizeLimit) bytes."
            )
        }
    }

    func listScripts(_ request: HTTPRequest) throws -> HTTPResponse {
        let query = try PageQuery(
            request,
            orderByChoices: ["dtCreated", "name"],
            defaultLimit: self.options.pageLimitDefault
        )
        let name = request.queryValue("name")
        return self.locked { world in
            let matching = world.scripts.values.filter { $0.dtDeleted == nil && (name == nil || $0.name == name) }
            let page = query.page(
                matching,
                sortValue: { script, orderBy in orderBy == "name" ? .text(script.name) : .number(script.sequence) },
                sequence: \.sequence,
                json: \.json
            )
            return .json(200, page)
        }
    }

    func createScript(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBodyFields(request)
        let name = try body.requiredString("name")
        guard let text = try body.string("script") else {
            throw PaperspaceAPIError.badRequest("Invalid input: `script` is required.")
        }
        try self.checkScriptText(text)
        let isRunOnce = try body.bool("isRunOnce") ?? false
        return self.locked { world in
            var id = PaperspaceStandIn.makeID(prefix: "scr", length: 9)
            while world.scripts[id] != nil {
                id = PaperspaceStandIn.makeID(prefix: "scr", length: 9)
            }
            let script = ScriptRecord(
                id: id,
                sequence: world.takeSequence(),
                name: name,
                script: text,
                isRunOnce: isRunOnce,
                now: Date()
            )
            world.scripts[id] = script
            self.logger.info("Startup script created", metadata: ["script.id": id])
            return .json(200, script.json)
        }
    }

    func getScript(id: String) throws -> HTTPResponse {
        try self.locked { world in .json(200, try self.liveScript(world, id).json) }
    }

    func updateScript(id: String, _ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBodyFields(request)
        let name = try body.string("name")
        if let name, name.isEmpty {
            throw PaperspaceAPIError.badRequest("Invalid input: `name` must be a non-empty string.")
        }
        let text = try body.string("script")
        if let text {
            try self.checkScriptText(text)
        }
        let isRunOnce = try body.bool("isRunOnce")
        let isEnabled = try body.bool("isEnabled")
        return try self.locked { world in
            let script = try self.liveScript(world, id)
            if let name { script.name = name }
            if let text { script.script = text }
            if let isRunOnce { script.isRunOnce = isRunOnce }
            if let isEnabled { script.isEnabled = isEnabled }
            return .json(200, script.json)
        }
    }

    func deleteScript(id: String) throws -> HTTPResponse {
        try self.locked { world in
            let script = try self.liveScript(world, id)
            script.dtDeleted = Date()
            for machineId in script.assignedMachineIds {
                if let machine = world.machines[machineId], machine.startupScriptId == id {
                    machine.startupScriptId = nil
                }
            }
            script.assignedMachineIds = []
            self.logger.info("Startup script deleted", metadata: ["script.id": id])
            return .json(200, script.json)
        }
    }

    /// `POST /startup-scripts/{id}/assign` and `/unassign` with `{machineId}`. Unassigning a machine that does
    /// not have the script is accepted and changes nothing.
    func assignScript(id: String, assign: Bool, _ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBodyFields(request)
        let machineId = try body.requiredString("machineId")
        return try self.locked { world in
            let script = try self.liveScript(world, id)
            let machine = try self.liveMachine(world, machineId)
            if assign {
                self.attach(script, to: machine, in: world)
            } else {
                script.assignedMachineIds.removeAll { $0 == machineId }
                if machine.startupScriptId == id {
                    machine.startupScriptId = nil
                }
            }
            return .json(200, script.json)
        }
    }

    func listEvents(_ request: HTTPRequest) throws -> HTTPResponse {
        let query = try PageQuery(request, orderByChoices: ["dtCreated"], defaultLimit: self.options.pageLimitDefault)
        let machineId = request.queryValue("machineId")
        return self.locked { world in
            let matching = world.events.values.filter { machineId == nil || $0.machineId == machineId }
            let page = query.page(
                matching,
                sortValue: { event, _ in .number(event.sequence) },
                sequence: \.sequence,
                json: \.json
            )
            return .json(200, page)
        }
    }

    func getEvent(id: String) throws -> HTTPResponse {
        try self.locked { world in
            guard let event = world.events[id] else {
                throw PaperspaceAPIError.notFound("Machine event \(id) not found.")
            }
            return .json(200, event.json)
        }
    }
}
