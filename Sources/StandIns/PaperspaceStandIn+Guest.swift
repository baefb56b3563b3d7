import Foundation
import Support

#if canImport(Glibc)
    import Glibc
#endif

/// The guest side of a stand-in machine: its scratch directory, power shims and startup script process.
///
/// Each machine directory, `<scratchDirectory>/<machine id>`, contains `bin/` with the shims and `startup-script.sh`,
/// the text of the last run. Its stdout and stderr go to `startup-script-output.log`, which is truncated at each
/// boot as the platform's per-boot hook does. `poweroff-calls` gets one line per shim call: the command and its
/// arguments.
extension PaperspaceStandIn {
    /// The commands replaced by shims. `systemctl` handles only its power verbs and fails for anything else.
    static let shimNames = ["poweroff", "shutdown", "halt", "reboot", "systemctl"]
    static let fallbackPath = "/usr/local/bin:/usr/bin:/bin"

    /// Creates the machine directory and its `bin/` shims, raising 500 INTERNAL_SERVER_ERROR on failure.
    func prepareMachineDirectory(_ directory: String) throws {
        let bin = (directory as NSString).appendingPathComponent("bin")
        let callsPath = (directory as NSString).appendingPathComponent("poweroff-calls")
        do {
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            let shim = PaperspaceStandIn.shimScript(callsPath: callsPath)
            for name in PaperspaceStandIn.shimNames {
                let path = (bin as NSString).appendingPathComponent(name)
                try Data(shim.utf8).write(to: URL(fileURLWithPath: path))
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            }
        } catch {
            self.logger.error("Machine directory setup failed", metadata: ["path": directory, "error": "\(error)"])
            throw PaperspaceAPIError.internalError("Cannot prepare the machine directory \(directory): \(error)")
        }
    }

    /// Returns the shim text. It appends the call to `callsPath`, then ends its own process group (the
    /// machine's), first with SIGTERM and 0.2 s later with SIGKILL, as a real shutdown does.
    private static func shimScript(callsPath: String) -> String {
        """
        #!/bin/bash
        # Stand-in for a power command of a Paperspace machine: it records the call and ends this machine's
        # process group instead of touching the host.
        name=$(basename "$0")
        case "$name $1" in
            "shutdown -c"|"shutdown --cancel") exit 0 ;;
            "systemctl poweroff"|"systemctl halt"|"systemctl reboot"|"systemctl kexec") ;;
            systemctl*) echo "systemctl $*: not available on a stand-in machine" >&2; exit 1 ;;
        esac
        printf '%s\\n' "$name $*" >> \(shellQuote(callsPath))
        trap '' TERM
        kill -TERM 0 2>/dev/null
        sleep 0.2
        kill -KILL 0 2>/dev/null
        exit 0

        """
    }

    /// Returns the recorded shim calls of the machine in `directory`, oldest first.
    static func readPowerCalls(_ directory: String) -> [String] {
        let path = (directory as NSString).appendingPathComponent("poweroff-calls")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    /// Returns whether a recorded shim call requests a reboot rather than a poweroff.
    static func isRebootCall(_ call: String) -> Bool {
        let words = call.split(separator: " ").map(String.init)
        switch words.first {
        case "reboot": return true
        case "shutdown": return words.contains("-r") || words.contains("--reboot")
        case "systemctl": return words.dropFirst().first == "reboot" || words.dropFirst().first == "kexec"
        default: return false
        }
    }

    func signalGuest(_ machine: MachineRecord, _ signal: Int32) {
        guard let group = machine.processGroup else { return }
        kill(-group, signal)
    }

    /// Starts the machine's startup script if it has an enabled one that may run at this boot.
    func launchStartupScript(_ machine: MachineRecord, in world: World) {
        guard let scriptId = machine.startupScriptId, let script = world.scripts[scriptId],
            script.dtDeleted == nil, script.isEnabled
        else { return }
        if script.isRunOnce {
            guard !machine.runOnceScriptsDone.contains(scriptId) else { return }
            machine.runOnceScriptsDone.insert(scriptId)
        }
        machine.powerOffCallCount = PaperspaceStandIn.readPowerCalls(machine.directory).count
        do {
            let pid = try self.spawnScript(script.script, for: machine)
            machine.scriptPID = pid
            machine.processGroup = pid
            machine.scriptRunCount += 1
            machine.scriptExitStatus = nil
            self.logger.info("Startup script started", metadata: ["machine.id": machine.id, "pid": "\(pid)"])
        } catch {
            self.logger.error(
                "Startup script failed to start",
                metadata: ["machine.id": machine.id, "error": "\(error)"]
            )
        }
    }

    private func spawnScript(_ text: String, for machine: MachineRecord) throws -> pid_t {
        let directory = machine.directory
        let scriptPath = (directory as NSString).appendingPathComponent("startup-script.sh")
        let logPath = (directory as NSString).appendingPathComponent("startup-script-output.log")
        let bin = (directory as NSString).appendingPathComponent("bin")
        try Data(text.utf8).write(to: URL(fileURLWithPath: scriptPath))

        var environment = self.options.scriptEnvironment
        environment["PATH"] = bin + ":" + (self.options.scriptEnvironment["PATH"] ?? PaperspaceStandIn.fallbackPath)
        environment["HOME"] = directory
        environment["NIGHTSHIFT_POWEROFF"] = (bin as NSString).appendingPathComponent("poweroff")

        let machineId = machine.id
        return try PaperspaceGuestProcess.spawn(
            scriptPath: scriptPath,
            directory: directory,
            logPath: logPath,
            environment: environment
        ) { [weak self] pid, status in
            self?.scriptEnded(machineId: machineId, pid: pid, status: status)
        }
    }

    /// Records the end of a startup script and turns a shim call into a guest poweroff or reboot.
    private func scriptEnded(machineId: String, pid: pid_t, status: Int32) {
        self.locked { world in
            guard let machine = world.machines[machineId], machine.scriptPID == pid else { return }
            machine.scriptPID = nil
            machine.scriptExitStatus = status
            self.logger.info("Startup script ended", metadata: ["machine.id": machineId, "status": "\(status)"])
            self.collectGuestPowerCalls(machine, in: world, now: Date())
        }
    }

    /// Acts on shim calls recorded since the last check: the last one decides between poweroff and reboot.
    func collectGuestPowerCalls(_ machine: MachineRecord, in world: World, now: Date) {
        let calls = PaperspaceStandIn.readPowerCalls(machine.directory)
        guard calls.count > machine.powerOffCallCount, let last = calls.last else { return }
        machine.powerOffCallCount = calls.count
        guard machine.dtDeleted == nil, machine.state == .ready || machine.state == .serviceready else { return }
        if PaperspaceStandIn.isRebootCall(last) {
            self.perform(.reboot, on: machine, in: world, now: now)
        } else {
            self.perform(.stop(.guestPowerOff), on: machine, in: world, now: now)
        }
    }
}
