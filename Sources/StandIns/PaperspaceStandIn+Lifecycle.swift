import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The machine state machine: timed transitions, power actions, events and auto-shutdown.
extension PaperspaceStandIn {
    /// Records a new event for `machine`. A pending event (the default) is the one the machine's next finished
    /// transition marks `done`; it replaces, and cancels, any earlier pending event.
    @discardableResult
    func newEvent(
        _ name: String,
        for machine: MachineRecord,
        in world: World,
        now: Date,
        pending: Bool = true
    ) -> EventRecord {
        let event = EventRecord(
            id: UUID().uuidString.lowercased(),
            sequence: world.takeSequence(),
            name: name,
            machineId: machine.id,
            now: now
        )
        world.events[event.id] = event
        if pending {
            self.finishPendingEvent(machine, in: world, state: "cancelled", now: now)
            machine.pendingEventId = event.id
        }
        return event
    }

    func finishPendingEvent(_ machine: MachineRecord, in world: World, state: String, now: Date) {
        guard let id = machine.pendingEventId else { return }
        world.events[id]?.finish(state, at: now)
        machine.pendingEventId = nil
    }

    func isStuck(_ machine: MachineRecord, in world: World) -> Bool {
        world.stuckRules.contains { $0.applies(to: machine) }
    }

    private func enter(_ state: MachineState, _ machine: MachineRecord, now: Date) {
        machine.state = state
        machine.stateEnteredAt = now
        machine.dtModified = now
    }

    /// Starts a power change now, or keeps it for later while a `.stuck` fault applies to the machine.
    func perform(_ action: DeferredPowerAction, on machine: MachineRecord, in world: World, now: Date) {
        if self.isStuck(machine, in: world) {
            machine.deferred = action
            return
        }
        machine.deferred = nil
        switch action {
        case .start:
            if machine.poweredOnAt == nil {
                machine.poweredOnAt = now
            }
            self.enter(.starting, machine, now: now)
        case .stop(let cause):
            self.signalGuest(machine, SIGTERM)
            machine.lastStopCause = cause
            machine.poweredOffByScript = cause == .guestPowerOff
            machine.readyAt = nil
            self.enter(.stopping, machine, now: now)
            self.logger.info("Machine stopping", metadata: ["machine.id": machine.id, "cause": cause.rawValue])
        case .restart, .reboot:
            self.signalGuest(machine, SIGTERM)
            machine.readyAt = nil
            self.enter(.restarting, machine, now: now)
        }
    }

    /// Returns whether a held-back action still makes sense in the machine's current state.
    private func isAllowed(_ action: DeferredPowerAction, in state: MachineState) -> Bool {
        switch action {
        case .start: state == .off
        case .stop: state != .off && state != .stopping
        case .restart, .reboot: state == .ready || state == .serviceready
        }
    }

    /// Moves every machine one step: timed transitions, held-back actions, guest power calls and auto-shutdown.
    func tick(now: Date) {
        self.locked { world in
            guard world.stoppedAt == nil else { return }
            for machine in world.machines.values where machine.dtDeleted == nil {
                self.advance(machine, in: world, now: now)
            }
        }
    }

    private func advance(_ machine: MachineRecord, in world: World, now: Date) {
        if let due = machine.deleteDueAt {
            if now >= due {
                self.completeDelete(machine, in: world, now: now)
            }
            return
        }
        if machine.state == .ready && machine.scriptPID == nil && machine.processGroup != nil {
            // A background job of a finished script may still call a shim.
            self.collectGuestPowerCalls(machine, in: world, now: now)
        }
        guard !self.isStuck(machine, in: world) else { return }
        if let action = machine.deferred {
            machine.deferred = nil
            if self.isAllowed(action, in: machine.state) {
                self.perform(action, on: machine, in: world, now: now)
            } else {
                self.finishPendingEvent(machine, in: world, state: "cancelled", now: now)
            }
            return
        }
        let elapsed = now.timeIntervalSince(machine.stateEnteredAt)
        switch machine.state {
        case .provisioning:
            guard elapsed >= self.options.provisioningDelay else { return }
            if machine.startOnCreate {
                self.boot(machine, in: world, now: now)
            } else {
                self.powerOff(machine, in: world, now: now)
            }
        case .starting:
            guard elapsed >= self.options.startingDelay else { return }
            self.boot(machine, in: world, now: now)
        case .stopping, .upgrading:
            guard elapsed >= self.options.stoppingDelay else { return }
            self.powerOff(machine, in: world, now: now)
        case .restarting:
            guard elapsed >= self.options.stoppingDelay + self.options.startingDelay else { return }
            self.signalGuest(machine, SIGKILL)
            machine.processGroup = nil
            self.boot(machine, in: world, now: now)
        case .ready, .serviceready:
            guard machine.autoShutdownEnabled, let hours = machine.autoShutdownTimeout,
                let readyAt = machine.readyAt,
                now.timeIntervalSince(readyAt) >= hours * self.options.secondsPerHour
            else { return }
            self.newEvent("stop", for: machine, in: world, now: now)
            self.perform(.stop(.autoShutdown), on: machine, in: world, now: now)
        case .off:
            return
        }
    }

    /// Enters `ready`: the boot is complete, so the startup script starts.
    private func boot(_ machine: MachineRecord, in world: World, now: Date) {
        self.enter(.ready, machine, now: now)
        machine.readyAt = now
        machine.bootCount += 1
        if machine.publicIpType == "dynamic" && machine.publicIp == nil {
            machine.publicIp = MachineRecord.publicAddress(machine.sequence)
        }
        self.finishPendingEvent(machine, in: world, state: "done", now: now)
        self.logger.info("Machine ready", metadata: ["machine.id": machine.id, "boot": "\(machine.bootCount)"])
        self.launchStartupScript(machine, in: world)
    }

    /// Enters `off`: every guest process is killed and billing stops.
    private func powerOff(_ machine: MachineRecord, in world: World, now: Date) {
        self.signalGuest(machine, SIGKILL)
        machine.processGroup = nil
        self.enter(.off, machine, now: now)
        machine.readyAt = nil
        if let poweredOnAt = machine.poweredOnAt {
            machine.accumulatedSecondsOn += max(0, now.timeIntervalSince(poweredOnAt))
            machine.poweredOnAt = nil
        }
        if machine.publicIpType == "dynamic" {
            machine.publicIp = nil
        }
        self.finishPendingEvent(machine, in: world, state: "done", now: now)
        self.logger.info("Machine off", metadata: ["machine.id": machine.id])
    }

    /// Makes `script` the startup script of `machine`, replacing any earlier one.
    func attach(_ script: ScriptRecord, to machine: MachineRecord, in world: World) {
        if let previous = machine.startupScriptId, previous != script.id, let old = world.scripts[previous] {
            old.assignedMachineIds.removeAll { $0 == machine.id }
        }
        machine.startupScriptId = script.id
        if !script.assignedMachineIds.contains(machine.id) {
            script.assignedMachineIds.append(machine.id)
        }
    }
}
