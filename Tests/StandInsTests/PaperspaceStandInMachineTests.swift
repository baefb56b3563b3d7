import Foundation
import StandIns
import Testing

@Suite struct PaperspaceStandInMachineTests {
    /// Every field of the v1 Machine object.
    static let machineFields = [
        "id", "name", "os", "machineType", "agentType", "state", "cpus", "ram", "storageTotal", "storageUsed",
        "accelerators", "region", "privateIp", "publicIp", "networkId", "publicIpType", "autoShutdownEnabled",
        "autoShutdownTimeout", "autoShutdownForce", "autoSnapshotEnabled", "autoSnapshotFrequency",
        "autoSnapshotSaveCount", "restorePointEnabled", "restorePointFrequency", "restorePointSnapshotId",
        "updatesPending", "usageRate", "storageRate", "dtCreated", "dtModified", "dtDeleted", "reservation",
    ]

    @Test func createReturnsDataAndEvent() throws {
        let fixture = try PaperspaceStandInFixture()
        let response = try fixture.createMachine("train-a", extra: ["startOnCreate": true])
        #expect(response.status == 200)
        let data = try #require(response.json?["data"] as? [String: Any])
        for field in PaperspaceStandInMachineTests.machineFields {
            #expect(data.keys.contains(field), "Machine lacks \(field)")
        }
        #expect(data["name"] as? String == "train-a")
        #expect(data["state"] as? String == "provisioning")
        #expect(data["region"] as? String == "East Coast (NY2)")
        #expect(data["storageTotal"] as? Int == 50 * (1 << 30))
        let event = try #require(response.json?["event"] as? [String: Any])
        #expect(event["name"] as? String == "create")
        #expect(event["state"] as? String == "in progress")
        #expect(event["machineId"] as? String == data["id"] as? String)
    }

    @Test func getReturnsBareMachine() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID()
        let response = try fixture.client.get("/machines/\(id)")
        #expect(response.status == 200)
        let machine = try #require(response.json)
        #expect(machine["id"] as? String == id)
        #expect(machine["data"] == nil)
        for field in PaperspaceStandInMachineTests.machineFields {
            #expect(machine.keys.contains(field), "Machine lacks \(field)")
        }
        #expect(try fixture.client.get("/machines/psnotthere1").status == 404)
    }

    @Test func createRequiresEachField() throws {
        let fixture = try PaperspaceStandInFixture()
        let complete: [String: Any] = [
            "name": "m", "machineType": "C5", "templateId": "t0nspur5", "diskSize": 100, "region": "ny2",
        ]
        for field in complete.keys {
            var body = complete
            body.removeValue(forKey: field)
            let response = try fixture.client.send("POST", "/machines", json: body)
            #expect(response.status == 400, "create without \(field) gave \(response.status)")
            #expect(response.json?["code"] as? String == "BAD_REQUEST")
            #expect((response.json?["message"] as? String)?.contains(field) == true)
        }
        #expect(fixture.standIn.machines.isEmpty)
    }

    @Test func createChecksFieldTypes() throws {
        let fixture = try PaperspaceStandInFixture()
        let cases: [[String: Any]] = [
            ["diskSize": "50"], ["diskSize": 20], ["diskSize": 50.5], ["name": ""], ["autoShutdownEnabled": "true"],
            ["autoShutdownTimeout": "6"], ["autoShutdownTimeout": 0.5], ["publicIpType": "elastic"],
            ["startOnCreate": 1],
        ]
        for extra in cases {
            let response = try fixture.createMachine(extra: extra)
            #expect(response.status == 400, "create with \(extra) gave \(response.status)")
            #expect(response.json?["code"] as? String == "BAD_REQUEST")
        }
        let notJSON = try fixture.client.send("POST", "/machines", body: "{not json")
        #expect(notJSON.status == 400)
        #expect(notJSON.json?["code"] as? String == "PARSE_ERROR")
    }

    @Test func regionAcceptsDocumentedSpellings() throws {
        let fixture = try PaperspaceStandInFixture { $0.regionSpelling = .code }
        let spellings = [
            ("ny2", "ny2"), ("NY2", "ny2"), ("East Coast (NY2)", "ny2"),
            ("ams1", "ams1"), ("AMS1", "ams1"), ("Europe (AMS1)", "ams1"),
            ("ca1", "ca1"), ("CA1", "ca1"), ("West Coast (CA1)", "ca1"),
        ]
        for (spelling, code) in spellings {
            let response = try fixture.createMachine("r", extra: ["region": spelling])
            #expect(response.status == 200, "region \(spelling) gave \(response.status)")
            #expect((response.json?["data"] as? [String: Any])?["region"] as? String == code)
        }
        for rejected in ["Ny2", "east coast (ny2)", "NYC", "ams2"] {
            #expect(try fixture.createMachine("r", extra: ["region": rejected]).status == 400, "\(rejected)")
        }
    }

    @Test func listPagesWithCursor() throws {
        let fixture = try PaperspaceStandInFixture()
        var created: [String] = []
        for index in 0..<7 {
            created.append(try fixture.createMachineID("page-\(index)"))
        }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let after = cursor.map { "&after=\($0)" } ?? ""
            let response = try fixture.client.get("/machines?limit=3&order=asc\(after)")
            #expect(response.status == 200)
            let items = try #require(response.json?["items"] as? [[String: Any]])
            seen += items.compactMap { $0["id"] as? String }
            let hasMore = try #require(response.json?["hasMore"] as? Bool)
            cursor = hasMore ? response.json?["nextPage"] as? String : nil
            if !hasMore {
                #expect(response.json?["nextPage"] is NSNull)
            }
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen == created)

        let newestFirst = try fixture.client.get("/machines?limit=2")
        let newestIDs = (newestFirst.json?["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(newestIDs == [created[6], created[5]])
    }

    @Test func cursorSurvivesDeletion() throws {
        let fixture = try PaperspaceStandInFixture { $0.deleteRequiresOff = false }
        var created: [String] = []
        for index in 0..<4 {
            created.append(try fixture.createMachineID("keep-\(index)"))
        }
        let first = try fixture.client.get("/machines?limit=2&order=asc")
        let cursor = try #require(first.json?["nextPage"] as? String)
        #expect(try fixture.client.send("DELETE", "/machines/\(created[1])").status == 200)
        let second = try fixture.client.get("/machines?limit=2&order=asc&after=\(cursor)")
        let ids = (second.json?["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        #expect(ids == [created[2], created[3]])
    }

    @Test func listRejectsBadParameters() throws {
        let fixture = try PaperspaceStandInFixture()
        for query in ["limit=0", "limit=121", "limit=abc", "orderBy=region", "order=up", "after=bogus", "region=mars"] {
            let response = try fixture.client.get("/machines?\(query)")
            #expect(response.status == 400, "\(query) gave \(response.status)")
            #expect(response.json?["code"] as? String == "BAD_REQUEST")
        }
        #expect(try fixture.client.get("/machines?limit=1").status == 200)
        #expect(try fixture.client.get("/machines?limit=120").status == 200)
    }

    @Test func listDefaultLimitAndFilters() throws {
        let fixture = try PaperspaceStandInFixture { $0.pageLimitDefault = 2 }
        _ = try fixture.createMachineID("alpha")
        _ = try fixture.createMachineID("beta", extra: ["region": "AMS1"])
        _ = try fixture.createMachineID("alpha")
        let all = try fixture.client.get("/machines")
        #expect((all.json?["items"] as? [Any])?.count == 2)
        #expect(all.json?["hasMore"] as? Bool == true)

        let named = try fixture.client.get("/machines?name=alpha&limit=10")
        let names = (named.json?["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["alpha", "alpha"])
        #expect((try fixture.client.get("/machines?name=alp").json?["items"] as? [Any])?.isEmpty == true)

        let european = try fixture.client.get("/machines?region=Europe%20(AMS1)")
        let regionNames = (european.json?["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(regionNames == ["beta"])

        let byName = try fixture.client.get("/machines?orderBy=name&order=asc&limit=3")
        let sorted = (byName.json?["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(sorted == ["alpha", "alpha", "beta"])
    }

    @Test func updateChangesNameOnly() throws {
        let fixture = try PaperspaceStandInFixture()
        let id = try fixture.createMachineID()
        let renamed = try fixture.client.send("PUT", "/machines/\(id)", json: ["name": "renamed"])
        #expect(renamed.status == 200)
        #expect((renamed.json?["data"] as? [String: Any])?["name"] as? String == "renamed")
        let autoShutdown = try fixture.client.send("PUT", "/machines/\(id)", json: ["autoShutdownEnabled": true])
        #expect(autoShutdown.status == 400)
        #expect(try fixture.waitForState(id, "ready"))
        let resize = try fixture.client.send("PUT", "/machines/\(id)", json: ["diskSize": 100])
        #expect(resize.status == 400)
        #expect(fixture.machine(id)?.diskSize == 50)
    }

    @Test func availabilityNeedsTypeAndRegion() throws {
        let fixture = try PaperspaceStandInFixture()
        let available = try fixture.client.get("/machine-availability?machineType=A100-80G&region=ny2")
        #expect(available.status == 200)
        #expect(available.json?["available"] as? Bool == true)
        #expect(try fixture.client.get("/machine-availability?machineType=A100-80G").status == 400)
    }
}
