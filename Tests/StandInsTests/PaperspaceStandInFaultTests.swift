import Foundation
import StandIns
import Testing

@Suite struct PaperspaceStandInFaultTests {
    @Test func statusFaultWithRetryAfter() throws {
        let fixture = try PaperspaceStandInFixture()
        fixture.standIn.inject(.status(code: 429, retryAfter: 7, count: 2, method: "GET", pathContains: "/machines"))
        for _ in 0..<2 {
            let limited = try fixture.client.get("/machines")
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") == "7")
            #expect(limited.json?["code"] as? String == "TOO_MANY_REQUESTS")
        }
        #expect(try fixture.createMachine().status == 200)
        #expect(try fixture.client.get("/machines").status == 200)
        #expect(fixture.standIn.requests.map(\.status) == [429, 429, 200, 200])
    }

    @Test func proxyStatusHasTextBody() throws {
        let fixture = try PaperspaceStandInFixture()
        fixture.standIn.inject(.status(code: 503, retryAfter: nil, count: 1, method: nil, pathContains: nil))
        let unavailable = try fixture.client.get("/machines")
        #expect(unavailable.status == 503)
        #expect(unavailable.json == nil)
        #expect(unavailable.header("Retry-After") == nil)
        fixture.standIn.inject(.status(code: 500, retryAfter: nil, count: 1, method: nil, pathContains: nil))
        #expect(try fixture.client.get("/machines").json?["code"] as? String == "INTERNAL_SERVER_ERROR")
        #expect(try fixture.client.get("/machines").status == 200)
    }

    @Test func delayFaultSlowsResponse() throws {
        let fixture = try PaperspaceStandInFixture()
        fixture.standIn.inject(.delay(seconds: 0.5, count: 1, method: "GET", pathContains: nil))
        let slowStart = Date()
        #expect(try fixture.client.get("/machines").status == 200)
        #expect(Date().timeIntervalSince(slowStart) >= 0.5)
        let fastStart = Date()
        #expect(try fixture.client.get("/machines").status == 200)
        #expect(Date().timeIntervalSince(fastStart) < 0.5)
    }

    @Test func resetConnectionSkipsRequest() throws {
        let fixture = try PaperspaceStandInFixture()
        fixture.standIn.inject(.resetConnection(count: 1, method: "POST", pathContains: "/machines"))
        let reset = try fixture.createMachine()
        #expect(reset.status == 0)
        #expect(reset.curlExitCode != 0)
        #expect(fixture.standIn.machines.isEmpty)
        #expect(fixture.standIn.requests.last?.status == nil)
        #expect(try fixture.createMachine().status == 200)
        #expect(fixture.standIn.machines.count == 1)
    }

    @Test func dropResponseStillCreates() throws {
        let fixture = try PaperspaceStandInFixture()
        fixture.standIn.inject(.dropResponse(count: 1, method: "POST", pathContains: "/machines"))
        let lost = try fixture.createMachine("lost-answer")
        #expect(lost.status == 0)
        #expect(lost.curlExitCode != 0)
        #expect(fixture.standIn.machines.map(\.name) == ["lost-answer"])
        let listed = try fixture.client.get("/machines?name=lost-answer")
        #expect((listed.json?["items"] as? [Any])?.count == 1)
    }

    @Test func stuckProvisioningHoldsStop() throws {
        let fixture = try PaperspaceStandInFixture()
        fixture.standIn.inject(.stuck(state: "provisioning", machineNamePrefix: "slow-"))
        let stuck = try fixture.createMachineID("slow-1")
        let free = try fixture.createMachineID("fast-1")
        #expect(try fixture.waitForState(free, "ready"))
        Thread.sleep(forTimeInterval: 0.4)
        #expect(fixture.machine(stuck)?.state == "provisioning")

        let stop = try fixture.client.send("PATCH", "/machines/\(stuck)/stop")
        #expect(stop.status == 200)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(fixture.machine(stuck)?.state == "provisioning")
        #expect(try fixture.client.send("DELETE", "/machines/\(stuck)").status == 400)

        fixture.standIn.inject(.clear)
        #expect(try fixture.waitForState(stuck, "off"))
        #expect(fixture.machine(stuck)?.bootCount == 0)
        #expect(try fixture.client.send("DELETE", "/machines/\(stuck)").status == 200)
    }

    @Test func stuckStoppingUntilCleared() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID()
        #expect(try fixture.waitForState(id, "ready"))
        fixture.standIn.inject(.stuck(state: "stopping", machineNamePrefix: nil))
        #expect(try fixture.client.send("PATCH", "/machines/\(id)/stop").status == 200)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(fixture.machine(id)?.state == "stopping")
        fixture.standIn.inject(.clear)
        #expect(try fixture.waitForState(id, "off"))
    }

    @Test func deleteFailsThenSucceeds() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID(extra: ["startOnCreate": false])
        #expect(try fixture.waitForState(id, "off"))
        fixture.standIn.inject(.deleteFails(count: 2))
        for _ in 0..<2 {
            let failed = try fixture.client.send("DELETE", "/machines/\(id)")
            #expect(failed.status == 500)
            #expect(failed.json?["code"] as? String == "INTERNAL_SERVER_ERROR")
            #expect(fixture.standIn.machines.count == 1)
        }
        #expect(try fixture.client.send("DELETE", "/machines/\(id)").status == 200)
        #expect(fixture.standIn.machines.isEmpty)
    }

    @Test func clearDisarmsCountedFaults() throws {
        let fixture = try PaperspaceStandInFixture()
        fixture.standIn.inject(.status(code: 500, retryAfter: nil, count: 5, method: nil, pathContains: nil))
        fixture.standIn.inject(.deleteFails(count: 5))
        fixture.standIn.inject(.clear)
        #expect(try fixture.client.get("/machines").status == 200)
        let id = try fixture.createMachineID(extra: ["startOnCreate": false])
        #expect(try fixture.waitForState(id, "off"))
        #expect(try fixture.client.send("DELETE", "/machines/\(id)").status == 200)
    }
}
