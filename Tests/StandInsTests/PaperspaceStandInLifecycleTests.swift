import Foundation
import StandIns
import Testing

@Suite struct PaperspaceStandInLifecycleTests {
    /// Polls the API and returns each distinct state of machine `id` seen until it reaches `final`.
    static func observeStates(_ fixture: PaperspaceStandInFixture, _ id: String, until final: String) throws -> [String]
    {
        var states: [String] = []
        let deadline = Date(timeIntervalSinceNow: 5)
        while Date() < deadline {
            let state = try #require(try fixture.client.get("/machines/\(id)").json?["state"] as? String)
            if states.last != state {
                states.append(state)
            }
            if state == final { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return states
    }

    @Test func createProvisionsThenReady() throws {
        let fixture = try PaperspaceStandInFixture { $0.provisioningDelay = 0.4 }
        let started = Date()
        let id = try fixture.createMachineID()
        let states = try PaperspaceStandInLifecycleTests.observeStates(fixture, id, until: "ready")
        #expect(states == ["provisioning", "ready"])
        #expect(Date().timeIntervalSince(started) >= 0.4)
        let machine = try #require(try fixture.client.get("/machines/\(id)").json)
        #expect(machine["publicIp"] is String)
    }

    @Test func startOnCreateFalseEndsOff() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID(extra: ["startOnCreate": false])
        let states = try PaperspaceStandInLifecycleTests.observeStates(fixture, id, until: "off")
        #expect(states == ["provisioning", "off"])
        #expect(fixture.machine(id)?.bootCount == 0)
    }

    @Test func stopThenStartCycles() throws {
        let fixture = try PaperspaceStandInFixture {
            $0.stoppingDelay = 0.3; $0.startingDelay = 0.3
        }
        let id = try fixture.createMachineID()
        #expect(try fixture.waitForState(id, "ready"))

        let stop = try fixture.client.send("PATCH", "/machines/\(id)/stop")
        #expect(stop.status == 200)
        #expect((stop.json?["data"] as? [String: Any])?["state"] as? String == "stopping")
        #expect((stop.json?["event"] as? [String: Any])?["name"] as? String == "stop")
        #expect(try PaperspaceStandInLifecycleTests.observeStates(fixture, id, until: "off") == ["stopping", "off"])
        #expect(fixture.machine(id)?.lastStopCause == .api)
        #expect(try fixture.client.get("/machines/\(id)").json?["publicIp"] is NSNull)

        let start = try fixture.client.send("PATCH", "/machines/\(id)/start", body: "{}")
        #expect(start.status == 200)
        #expect(
            try PaperspaceStandInLifecycleTests.observeStates(fixture, id, until: "ready") == ["starting", "ready"]
        )
        #expect(fixture.machine(id)?.bootCount == 2)
    }

    @Test func powerCallsAcceptEmptyAndObjectBodies() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID()
        #expect(try fixture.waitForState(id, "ready"))
        let noBody = try fixture.client.send("PATCH", "/machines/\(id)/stop")
        #expect(noBody.status == 200, "\(noBody.text)")
        let recorded = try #require(fixture.standIn.requests.last)
        #expect(recorded.body.isEmpty)
        #expect(try fixture.waitForState(id, "off"))
        let emptyObject = try fixture.client.send("PATCH", "/machines/\(id)/start", body: "{}")
        #expect(emptyObject.status == 200, "\(emptyObject.text)")
        #expect(try fixture.waitForState(id, "ready"))
        let restart = try fixture.client.send("PATCH", "/machines/\(id)/restart", body: "")
        #expect(restart.status == 200)
        #expect(
            try PaperspaceStandInLifecycleTests.observeStates(fixture, id, until: "ready") == ["restarting", "ready"]
        )
    }

    @Test func redundantPowerCallsAreRejected() throws {
        let fixture = try PaperspaceStandInFixture { $0.startingDelay = 1 }
        let id = try fixture.createMachineID(extra: ["startOnCreate": false])
        #expect(try fixture.waitForState(id, "off"))
        let stopOff = try fixture.client.send("PATCH", "/machines/\(id)/stop")
        #expect(stopOff.status == 400)
        #expect(stopOff.json?["code"] as? String == "BAD_REQUEST")

        #expect(try fixture.client.send("PATCH", "/machines/\(id)/start").status == 200)
        let startStarting = try fixture.client.send("PATCH", "/machines/\(id)/start")
        #expect(startStarting.status == 400)
        #expect((startStarting.json?["message"] as? String)?.contains("This machine is currently starting.") == true)
        #expect(try fixture.client.send("PATCH", "/machines/\(id)/restart").status == 400)
    }

    @Test func redundantPowerCallsCanBeNoOps() throws {
        let fixture = try PaperspaceStandInFixture { $0.rejectRedundantPowerCalls = false }
        let id = try fixture.createMachineID(extra: ["startOnCreate": false])
        #expect(try fixture.waitForState(id, "off"))
        let stopOff = try fixture.client.send("PATCH", "/machines/\(id)/stop")
        #expect(stopOff.status == 200)
        #expect((stopOff.json?["event"] as? [String: Any])?["state"] as? String == "done")
        #expect(fixture.machine(id)?.state == "off")
    }

    @Test func deleteRunningMachineRejected() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID()
        #expect(try fixture.waitForState(id, "ready"))
        let response = try fixture.client.send("DELETE", "/machines/\(id)")
        #expect(response.status == 400)
        #expect(response.json?["code"] as? String == "BAD_REQUEST")
        #expect(fixture.standIn.machines.map(\.id) == [id])
    }

    @Test func deleteOffMachineRemovesIt() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID()
        #expect(try fixture.waitForState(id, "ready"))
        #expect(try fixture.client.send("PATCH", "/machines/\(id)/stop").status == 200)
        #expect(try fixture.waitForState(id, "off"))

        let delete = try fixture.client.send("DELETE", "/machines/\(id)")
        #expect(delete.status == 200)
        #expect((delete.json?["event"] as? [String: Any])?["name"] as? String == "deactivate")
        #expect((delete.json?["data"] as? [String: Any])?["dtDeleted"] is String)

        let after = try fixture.client.get("/machines/\(id)")
        #expect(after.status == 404)
        #expect(after.json?["code"] as? String == "NOT_FOUND")
        #expect((try fixture.client.get("/machines").json?["items"] as? [Any])?.isEmpty == true)
        #expect(try fixture.client.send("DELETE", "/machines/\(id)").status == 404)
        #expect(try fixture.client.send("PATCH", "/machines/\(id)/start").status == 404)
        #expect(fixture.standIn.machines.isEmpty)
        #expect(fixture.standIn.allMachinesEverCreated.first?.isDeleted == true)
    }

    @Test func deleteAnyStateWhenAllowed() throws {
        let fixture = try PaperspaceStandInFixture { $0.deleteRequiresOff = false }
        let id = try fixture.createMachineID()
        #expect(try fixture.client.send("DELETE", "/machines/\(id)").status == 200)
        #expect(fixture.standIn.machines.isEmpty)
    }

    @Test func eventsTrackOperations() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID()
        let other = try fixture.createMachineID("other")
        let createEvent = try #require(
            try fixture.createMachine("third").json?["event"] as? [String: Any]
        )
        #expect(try fixture.waitForState(id, "ready"))
        #expect(try fixture.client.send("PATCH", "/machines/\(id)/stop").status == 200)
        #expect(try fixture.waitForState(id, "off"))

        let events = try fixture.client.get("/machine-events?machineId=\(id)&order=asc")
        #expect(events.status == 200)
        let items = try #require(events.json?["items"] as? [[String: Any]])
        #expect(items.compactMap { $0["name"] as? String } == ["create", "stop"])
        #expect(items.compactMap { $0["state"] as? String } == ["done", "done"])
        #expect(items.allSatisfy { $0["machineId"] as? String == id })
        #expect(items.allSatisfy { $0["dtFinished"] is String })

        let eventID = try #require(createEvent["id"] as? String)
        let single = try fixture.client.get("/machine-events/\(eventID)")
        #expect(single.status == 200)
        #expect(single.json?["name"] as? String == "create")
        #expect(single.json?["machineId"] as? String != other)
        #expect(try fixture.client.get("/machine-events/nope").status == 404)
        #expect(try fixture.client.get("/machine-events?orderBy=name").status == 400)
    }

    @Test func secondsOnStopGrowingWhenOff() throws {
        let fixture = try PaperspaceStandInFixture {
            $0.provisioningDelay = 0.2; $0.stoppingDelay = 0.2
        }
        let id = try fixture.createMachineID()
        #expect(try fixture.waitForState(id, "ready"))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try fixture.client.send("PATCH", "/machines/\(id)/stop").status == 200)
        #expect(try fixture.waitForState(id, "off"))
        let atOff = try #require(fixture.machine(id)?.secondsOn)
        #expect(atOff >= 0.7)
        #expect(atOff < 3)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(fixture.machine(id)?.secondsOn == atOff)
        #expect(fixture.standIn.totalMachineSeconds == atOff)
    }

    @Test func autoShutdownStopsMachine() throws {
        let fixture = try PaperspaceStandInFixture { $0.secondsPerHour = 0.3 }
        let id = try fixture.createMachineID(extra: ["autoShutdownEnabled": true, "autoShutdownTimeout": 1])
        let control = try fixture.createMachineID("control")
        #expect(try fixture.waitForState(id, "ready"))
        let readyAt = Date()
        #expect(try fixture.waitForState(id, "off"))
        #expect(Date().timeIntervalSince(readyAt) >= 0.25)
        #expect(fixture.machine(id)?.lastStopCause == .autoShutdown)
        #expect(fixture.machine(control)?.state == "ready")
        let machine = try #require(try fixture.client.get("/machines/\(id)").json)
        #expect(machine["autoShutdownEnabled"] as? Bool == true)
        #expect(machine["autoShutdownTimeout"] as? Int == 1)
    }
}
