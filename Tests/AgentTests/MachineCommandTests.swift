import Foundation
import StandIns
import Support
import Testing

/// `nightshift machine ...` against a Paperspace stand-in, with the key from the environment as users pass it.
@Suite(.serialized)
struct MachineCommandTests {
    static let key = "ps-cliTestKey8Qw3Zr5Tn"

    final class Harness {
        let standIn: PaperspaceStandIn
        let scratch = NSTemporaryDirectory() + "nightshift-machine-cli-\(UUID().uuidString.prefix(8))"

        init() throws {
            self.standIn = PaperspaceStandIn(
                options: PaperspaceStandIn.Options(
                    apiKey: MachineCommandTests.key,
                    scratchDirectory: self.scratch,
                    provisioningDelay: 0.05,
                    startingDelay: 0.05,
                    stoppingDelay: 0.05
                )
            )
            try self.standIn.start()
        }

        deinit {
            self.standIn.stop()
            try? FileManager.default.removeItem(atPath: self.scratch)
        }

        func run(_ arguments: [String], key: String? = MachineCommandTests.key) throws -> (
            status: Int32, output: String
        ) {
            var environment = ProcessInfo.processInfo.environment
            environment["PAPERSPACE_API_ENDPOINT"] = self.standIn.baseURL
            environment.removeValue(forKey: "PAPERSPACE_API_KEY")
            if let key { environment["PAPERSPACE_API_KEY"] = key }
            return try Subprocess.run(
                [DaemonProcessHarness.executable, "machine"] + arguments,
                environment: environment
            )
        }

        /// Waits until the stand-in reports the machine in `state`.
        func wait(for id: String, state: String) -> Bool {
            let deadline = Date(timeIntervalSinceNow: 10)
            while Date() < deadline {
                if self.standIn.machines.first(where: { $0.id == id })?.state == state { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }
    }

    @Test func createListStopDelete() throws {
        let harness = try Harness()
        let created = try harness.run([
            "create", "--name", "by-hand-1", "--type", "A4000", "--template", "t0nspur5", "--region", "NYC1",
            "--disk-size", "100",
        ])
        #expect(created.status == 0, "\(created.output)")
        #expect(created.output.contains("no auto-shutdown"))
        let machine = try #require(harness.standIn.machines.first)
        #expect(machine.name == "by-hand-1")
        #expect(machine.region.lowercased().contains("ny2"), "NYC1 maps to NY2, got \(machine.region)")
        #expect(machine.diskSize == 100)
        #expect(created.output.contains(machine.id))

        let listed = try harness.run(["list"])
        #expect(listed.status == 0)
        #expect(listed.output.contains("by-hand-1"))
        #expect(listed.output.contains("A4000"))

        #expect(harness.wait(for: machine.id, state: "ready"))
        let early = try harness.run(["delete", machine.id])
        #expect(early.status == 65, "\(early.output)")
        #expect(early.output.contains("stop"))

        #expect(try harness.run(["stop", machine.id]).status == 0)
        #expect(harness.wait(for: machine.id, state: "off"))
        let deleted = try harness.run(["delete", machine.id])
        #expect(deleted.status == 0, "\(deleted.output)")
        #expect(harness.standIn.machines.isEmpty)
        let again = try harness.run(["delete", machine.id])
        #expect(again.output.contains("already gone"))
    }

    @Test func unknownRegionListsValidNames() throws {
        let harness = try Harness()
        let result = try harness.run([
            "create", "--name", "x", "--type", "C5", "--template", "t0nspur5", "--region", "LON1",
        ])
        #expect(result.status == 64)
        #expect(result.output.contains("NYC1"))
        #expect(harness.standIn.machines.isEmpty)
    }

    @Test func missingAndRejectedKeys() throws {
        let harness = try Harness()
        let missing = try harness.run(["list"], key: nil)
        #expect(missing.status == 64)
        #expect(missing.output.contains("PAPERSPACE_API_KEY"))
        let rejected = try harness.run(["list"], key: "ps-wrongKey12345678")
        #expect(rejected.status == 77, "\(rejected.output)")
        #expect(!rejected.output.contains("ps-wrongKey12345678"))
        let flag = try harness.run(["list", "--api-key", MachineCommandTests.key], key: nil)
        #expect(flag.status == 0, "\(flag.output)")
        #expect(flag.output.contains("--api-key on the command line was visible"))
    }

    @Test func createNeedsEveryField() throws {
        let harness = try Harness()
        let result = try harness.run(["create", "--name", "x"])
        #expect(result.status == 64)
        #expect(result.output.contains("--type, --template, --region"))
    }
}
