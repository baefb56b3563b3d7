import Foundation
import StandIns
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A directory of fake host `poweroff`, `shutdown`, `halt`, `reboot` and `systemctl` commands that only write a
/// marker file. It goes on the script PATH after the machine's shims, so the marker appears only if a script
/// got past the shims to the "host" commands.
struct HostCommandTrap {
    let directory: String
    var marker: String { (self.directory as NSString).appendingPathComponent("host-command-called") }

    init() throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("trap-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        for name in ["poweroff", "shutdown", "halt", "reboot", "systemctl"] {
            let path = (self.directory as NSString).appendingPathComponent(name)
            let text = "#!/bin/sh\necho \"\(name) $*\" >> '\(self.marker)'\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
    }

    var path: String { self.directory + ":/usr/local/bin:/usr/bin:/bin" }

    var wasCalled: Bool { FileManager.default.fileExists(atPath: self.marker) }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}

/// Returns whether process `pid` exists and is not a zombie.
func isProcessAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

@Suite struct PaperspaceStandInScriptTests {
    static func read(_ directory: String, _ name: String) -> String? {
        try? String(contentsOfFile: (directory as NSString).appendingPathComponent(name), encoding: .utf8)
    }

    static func readPID(_ directory: String, _ name: String) -> Int32? {
        Self.read(directory, name).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @Test func scriptPowerOffStopsMachine() throws {
        let trap = try HostCommandTrap()
        defer { trap.remove() }
        let fixture = try PaperspaceStandInFixture { $0.scriptEnvironment = ["PATH": trap.path, "JOB_TOKEN": "abc"] }
        let script = try fixture.createScript(
            """
            echo "job running token=$JOB_TOKEN"
            echo "$PATH" > path-seen
            env > env-seen
            "${NIGHTSHIFT_POWEROFF:-poweroff}"
            echo "after poweroff"
            """
        )
        let id = try fixture.createMachineID(extra: ["startupScriptId": script])
        #expect(try fixture.waitForState(id, "off"))

        let machine = try #require(fixture.machine(id))
        let directory = try #require(fixture.standIn.machineDirectory(id: id))
        #expect(machine.poweredOffByScript)
        #expect(machine.lastStopCause == .guestPowerOff)
        #expect(machine.scriptRunCount == 1)
        #expect(machine.powerOffCallCount == 1)
        #expect(Self.read(directory, "poweroff-calls") == "poweroff \n")
        #expect(!trap.wasCalled)
        let log = try #require(Self.read(directory, "startup-script-output.log"))
        #expect(log.contains("job running token=abc"))
        #expect(!log.contains("after poweroff"))
        #expect(Self.read(directory, "path-seen") == directory + "/bin:" + trap.path + "\n")

        let environment = try #require(Self.read(directory, "env-seen"))
        let names = Set(
            environment.split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) }
        )
        let allowed: Set<String> = ["PATH", "HOME", "NIGHTSHIFT_POWEROFF", "JOB_TOKEN", "PWD", "SHLVL", "_", "OLDPWD"]
        #expect(names.isSubset(of: allowed), "unexpected variables: \(names.subtracting(allowed))")
        #expect(environment.contains("HOME=\(directory)\n"))
        #expect(environment.contains("NIGHTSHIFT_POWEROFF=\(directory)/bin/poweroff\n"))
    }

    @Test func plainShutdownReachesShim() throws {
        let trap = try HostCommandTrap()
        defer { trap.remove() }
        let fixture = try PaperspaceStandInFixture { $0.scriptEnvironment = ["PATH": trap.path] }
        let script = try fixture.createScript(
            """
            systemctl start docker || echo "systemctl refused"
            shutdown -h now
            """
        )
        let id = try fixture.createMachineID(extra: ["startupScriptId": script])
        #expect(try fixture.waitForState(id, "off"))
        let directory = try #require(fixture.standIn.machineDirectory(id: id))
        #expect(Self.read(directory, "poweroff-calls") == "shutdown -h now\n")
        #expect(Self.read(directory, "startup-script-output.log")?.contains("systemctl refused") == true)
        #expect(fixture.machine(id)?.poweredOffByScript == true)
        #expect(!trap.wasCalled)
    }

    @Test func scriptWithoutPowerOffStaysReady() throws {
        let fixture = try PaperspaceStandInFixture()
        let script = try fixture.createScript("echo finished\nexit 3\n")
        let id = try fixture.createMachineID(extra: ["startupScriptId": script])
        #expect(try fixture.waitForState(id, "ready"))
        #expect(PaperspaceStandInFixture.waitUntil { fixture.machine(id)?.scriptExitStatus == 3 })
        Thread.sleep(forTimeInterval: 0.5)
        let machine = try #require(fixture.machine(id))
        #expect(machine.state == "ready")
        #expect(!machine.poweredOffByScript)
        #expect(machine.powerOffCallCount == 0)
        #expect(machine.lastStopCause == nil)
    }

    @Test func backgroundPowerOffAfterScriptEnds() throws {
        let fixture = try PaperspaceStandInFixture()
        let script = try fixture.createScript("( sleep 1; poweroff ) &\nexit 0\n")
        let id = try fixture.createMachineID(extra: ["startupScriptId": script])
        #expect(PaperspaceStandInFixture.waitUntil { fixture.machine(id)?.scriptExitStatus == 0 })
        #expect(fixture.machine(id)?.state == "ready")
        #expect(try fixture.waitForState(id, "off"))
        #expect(fixture.machine(id)?.lastStopCause == .guestPowerOff)
    }

    @Test func stopKillsScriptProcesses() throws {
        let fixture = try PaperspaceStandInFixture()
        let script = try fixture.createScript("echo $$ > script.pid\nsleep 30 &\necho $! > child.pid\nwait\n")
        let id = try fixture.createMachineID(extra: ["startupScriptId": script])
        let directory = try #require(fixture.standIn.machineDirectory(id: id))
        #expect(PaperspaceStandInFixture.waitUntil { Self.readPID(directory, "child.pid") != nil })
        let scriptPID = try #require(Self.readPID(directory, "script.pid"))
        let childPID = try #require(Self.readPID(directory, "child.pid"))
        #expect(isProcessAlive(scriptPID))
        #expect(isProcessAlive(childPID))

        #expect(try fixture.client.send("PATCH", "/machines/\(id)/stop").status == 200)
        #expect(try fixture.waitForState(id, "off"))
        #expect(PaperspaceStandInFixture.waitUntil { !isProcessAlive(scriptPID) })
        #expect(PaperspaceStandInFixture.waitUntil { !isProcessAlive(childPID) })
        #expect(PaperspaceStandInFixture.waitUntil { fixture.machine(id)?.scriptExitStatus != nil })
        #expect(fixture.machine(id)?.scriptExitStatus == 128 + SIGTERM)
        #expect(fixture.machine(id)?.lastStopCause == .api)
        #expect(fixture.machine(id)?.poweredOffByScript == false)
    }

    @Test func standInStopKillsScripts() throws {
        let fixture = try PaperspaceStandInFixture()
        let script = try fixture.createScript("echo $$ > script.pid\nexec sleep 30\n")
        let id = try fixture.createMachineID(extra: ["startupScriptId": script])
        let directory = try #require(fixture.standIn.machineDirectory(id: id))
        #expect(PaperspaceStandInFixture.waitUntil { Self.readPID(directory, "script.pid") != nil })
        let pid = try #require(Self.readPID(directory, "script.pid"))
        fixture.standIn.stop()
        #expect(PaperspaceStandInFixture.waitUntil { !isProcessAlive(pid) })
    }

    @Test func runOnceScriptRunsOnFirstBootOnly() throws {
        let fixture = try PaperspaceStandInFixture()
        let runOnce = try fixture.createScript("echo boot >> \"$HOME/boots\"\n", runOnce: true)
        let everyBoot = try fixture.createScript("echo boot >> \"$HOME/boots\"\n", name: "every-boot")
        let onceID = try fixture.createMachineID("once", extra: ["startupScriptId": runOnce])
        let everyID = try fixture.createMachineID("every", extra: ["startupScriptId": everyBoot])
        let onceDirectory = try #require(fixture.standIn.machineDirectory(id: onceID))
        let everyDirectory = try #require(fixture.standIn.machineDirectory(id: everyID))
        #expect(PaperspaceStandInFixture.waitUntil { Self.read(onceDirectory, "boots") == "boot\n" })
        #expect(PaperspaceStandInFixture.waitUntil { Self.read(everyDirectory, "boots") == "boot\n" })

        for id in [onceID, everyID] {
            #expect(try fixture.client.send("PATCH", "/machines/\(id)/stop").status == 200)
            #expect(try fixture.waitForState(id, "off"))
            #expect(try fixture.client.send("PATCH", "/machines/\(id)/start").status == 200)
            #expect(try fixture.waitForState(id, "ready"))
        }
        #expect(PaperspaceStandInFixture.waitUntil { Self.read(everyDirectory, "boots") == "boot\nboot\n" })
        Thread.sleep(forTimeInterval: 0.3)
        #expect(Self.read(onceDirectory, "boots") == "boot\n")
        #expect(fixture.machine(onceID)?.bootCount == 2)
        #expect(fixture.machine(onceID)?.scriptRunCount == 1)
        #expect(fixture.machine(everyID)?.scriptRunCount == 2)
    }

    @Test func rebootShimBootsAgain() throws {
        let fixture = try PaperspaceStandInFixture()
        let script = try fixture.createScript(
            "if [ ! -e \"$HOME/rebooted\" ]; then touch \"$HOME/rebooted\"; reboot; fi\necho second boot\n"
        )
        let id = try fixture.createMachineID(extra: ["startupScriptId": script])
        #expect(PaperspaceStandInFixture.waitUntil { fixture.machine(id)?.bootCount == 2 })
        #expect(PaperspaceStandInFixture.waitUntil { fixture.machine(id)?.scriptExitStatus == 0 })
        let machine = try #require(fixture.machine(id))
        #expect(machine.state == "ready")
        #expect(machine.scriptRunCount == 2)
        #expect(Self.read(machine.directory, "poweroff-calls") == "reboot \n")
        #expect(Self.read(machine.directory, "startup-script-output.log") == "second boot\n")
    }

    @Test func assignedScriptRunsAtNextBoot() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID()
        #expect(try fixture.waitForState(id, "ready"))
        let script = try fixture.createScript("echo assigned > assigned-ran\n")
        let assign = try fixture.client.send("POST", "/startup-scripts/\(script)/assign", json: ["machineId": id])
        #expect(assign.status == 200)
        #expect(assign.json?["assignedMachineIds"] as? [String] == [id])
        #expect(fixture.machine(id)?.scriptRunCount == 0)

        #expect(try fixture.client.send("PATCH", "/machines/\(id)/restart").status == 200)
        #expect(PaperspaceStandInFixture.waitUntil { fixture.machine(id)?.scriptRunCount == 1 })
        let directory = try #require(fixture.standIn.machineDirectory(id: id))
        #expect(PaperspaceStandInFixture.waitUntil { Self.read(directory, "assigned-ran") == "assigned\n" })
    }

    @Test func scriptTextLimitIs16KiB() throws {
        let fixture = try PaperspaceStandInFixture()
        let atLimit = "#" + String(repeating: "x", count: 16 * 1024 - 2) + "\n"
        #expect(atLimit.utf8.count == 16 * 1024)
        let accepted = try fixture.client.send("POST", "/startup-scripts", json: ["name": "big", "script": atLimit])
        #expect(accepted.status == 200)
        let tooLarge = try fixture.client.send(
            "POST",
            "/startup-scripts",
            json: ["name": "big", "script": atLimit + "x"]
        )
        #expect(tooLarge.status == 400)
        #expect(tooLarge.json?["code"] as? String == "BAD_REQUEST")
        let id = try #require(accepted.json?["id"] as? String)
        let update = try fixture.client.send("PUT", "/startup-scripts/\(id)", json: ["script": atLimit + "x"])
        #expect(update.status == 400)
        #expect(fixture.standIn.startupScripts.map(\.script) == [atLimit])
    }

    @Test func scriptEndpointsHideText() throws {
        let fixture = try PaperspaceStandInFixture()
        let create = try fixture.client.send(
            "POST",
            "/startup-scripts",
            json: ["name": "setup", "script": "echo secret-step", "isRunOnce": true]
        )
        #expect(create.status == 200)
        let created = try #require(create.json)
        let id = try #require(created["id"] as? String)
        #expect(created["script"] == nil)
        #expect(!create.text.contains("secret-step"))
        for field in [
            "id", "name", "description", "isEnabled", "isRunOnce", "assignedMachineIds", "dtCreated", "dtDeleted",
        ] {
            #expect(created.keys.contains(field), "Script lacks \(field)")
        }
        #expect(created["isRunOnce"] as? Bool == true)
        #expect(created["isEnabled"] as? Bool == true)

        let fetched = try fixture.client.get("/startup-scripts/\(id)")
        #expect(fetched.status == 200)
        #expect(!fetched.text.contains("secret-step"))
        let update = try fixture.client.send(
            "PUT",
            "/startup-scripts/\(id)",
            json: ["name": "renamed", "isEnabled": false]
        )
        #expect(update.json?["name"] as? String == "renamed")
        #expect(update.json?["isEnabled"] as? Bool == false)
        let listed = try fixture.client.get("/startup-scripts?name=renamed")
        #expect((listed.json?["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
        #expect(try fixture.client.send("POST", "/startup-scripts", json: ["name": "no-text"]).status == 400)

        let delete = try fixture.client.send("DELETE", "/startup-scripts/\(id)")
        #expect(delete.status == 200)
        #expect(delete.json?["dtDeleted"] is String)
        #expect(try fixture.client.get("/startup-scripts/\(id)").status == 404)
        #expect((try fixture.client.get("/startup-scripts").json?["items"] as? [Any])?.isEmpty == true)
        #expect(fixture.standIn.startupScripts.isEmpty)
    }

    @Test func unassignAndMissingMachine() throws {
        let fixture = try PaperspaceStandInFixture()
        let script = try fixture.createScript("echo hi\n")
        let id = try fixture.createMachineID(extra: ["startupScriptId": script])
        #expect(try fixture.client.get("/startup-scripts/\(script)").json?["assignedMachineIds"] as? [String] == [id])
        let unassign = try fixture.client.send("POST", "/startup-scripts/\(script)/unassign", json: ["machineId": id])
        #expect(unassign.status == 200)
        #expect(unassign.json?["assignedMachineIds"] as? [String] == [])
        #expect(fixture.machine(id)?.startupScriptId == nil)
        let missing = try fixture.client.send(
            "POST",
            "/startup-scripts/\(script)/assign",
            json: ["machineId": "psnone"]
        )
        #expect(missing.status == 404)
        let unknownScript = try fixture.createMachine(extra: ["startupScriptId": "scrmissing"])
        #expect(unknownScript.status == 404)
    }
}
