import Foundation
import HTTP
import Paperspace
import StandIns
import Support
import Testing

/// A Paperspace stand-in on 127.0.0.1 with a client that talks to it and records its logs.
private final class StandInHarness {
    let standIn: PaperspaceStandIn
    let client: PaperspaceClient
    let capture = LogCapture()
    let scratch: String

    init(pageLimitDefault: Int = 20) throws {
        self.scratch = NSTemporaryDirectory() + "nightshift-machines-\(UUID().uuidString.prefix(8))"
        var options = PaperspaceStandIn.Options(
            apiKey: testAPIKey,
            scratchDirectory: self.scratch,
            provisioningDelay: 0.05,
            startingDelay: 0.05,
            stoppingDelay: 0.05
        )
        options.pageLimitDefault = pageLimitDefault
        self.standIn = PaperspaceStandIn(options: options)
        try self.standIn.start()
        let logger = Logger(label: "machines-test", logLevel: .trace, sink: self.capture.sink)
        self.client = PaperspaceClient(
            endpoint: self.standIn.baseURL,
            apiKey: testAPIKey,
            http: HTTPClient(connectTimeout: 2, totalTimeout: 5, logger: logger, sleep: { _, _ in true }),
            logger: logger,
            retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.01)
        )
    }

    deinit {
        self.standIn.stop()
        try? FileManager.default.removeItem(atPath: self.scratch)
    }

    /// Waits up to five seconds for the machine to reach `state`.
    func wait(for id: String, state: String) throws {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if self.standIn.machines.first(where: { $0.id == id })?.state == state { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        Issue.record("machine \(id) did not reach \(state)")
    }
}

private func request(_ name: String, region: String = "NYC1", hours: Int? = nil) -> ManualMachineRequest {
    ManualMachineRequest(
        name: name,
        machineType: "A4000",
        templateId: "t0nspur5",
        region: region,
        diskSizeGB: 100,
        autoShutdownHours: hours
    )
}

@Test func manualCreateSendsRequestedFields() throws {
    let harness = try StandInHarness()

    let machine = try MachineCommands.create(harness.client, request("by-hand-1", region: "ams1"))

    let stored = try #require(harness.standIn.machines.first { $0.id == machine.id })
    #expect(stored.name == "by-hand-1")
    #expect(stored.machineType == "A4000")
    #expect(stored.templateId == "t0nspur5")
    #expect(stored.region == "ams1")
    #expect(stored.diskSize == 100)
    #expect(!stored.autoShutdownEnabled)
    let post = try #require(harness.standIn.requests.first { $0.method == "POST" && $0.path == "/machines" })
    let body = try #require(try JSONSerialization.jsonObject(with: post.body) as? [String: Any])
    #expect(body["region"] as? String == "Europe (AMS1)")
    #expect(body["autoShutdownEnabled"] == nil)
}

@Test func manualCreateSetsAutoShutdown() throws {
    let harness = try StandInHarness()

    let machine = try MachineCommands.create(harness.client, request("by-hand-2", hours: 6))

    let stored = try #require(harness.standIn.machines.first { $0.id == machine.id })
    #expect(stored.autoShutdownEnabled)
    #expect(stored.autoShutdownTimeout == 6)
    #expect(stored.region == "ny2")
}

@Test func manualCreateRejectsTakenName() throws {
    let harness = try StandInHarness()
    let first = try MachineCommands.create(harness.client, request("twin"))

    let error = try #require(throws: MachineCommandError.self) {
        try MachineCommands.create(harness.client, request("twin"))
    }

    #expect(error == .nameTaken(name: "twin", id: first.id))
    #expect(harness.standIn.machines.count == 1)
}

@Test func manualCreateRejectsUnknownRegion() throws {
    let harness = try StandInHarness()

    let error = try #require(throws: PaperspaceError.self) {
        try MachineCommands.create(harness.client, request("far-away", region: "LON1"))
    }

    #expect(error.description.contains("valid names are NYC1, AMS1, CA1"))
    #expect(harness.standIn.requests.isEmpty)
}

@Test func manualCreateWithLostAnswerSaysSo() throws {
    let harness = try StandInHarness()
    harness.standIn.inject(.dropResponse(count: 1, method: "POST", pathContains: "/machines"))

    let error = try #require(throws: MachineCommandError.self) {
        try MachineCommands.create(harness.client, request("lost-answer"))
    }

    guard case .createOutcomeUnknown(let name, _) = error else {
        Issue.record("unexpected error \(error)")
        return
    }
    #expect(name == "lost-answer")
    #expect(error.description.contains("list the machines before trying again"))
    #expect(harness.standIn.requests.filter { $0.method == "POST" }.count == 1)
}

@Test func manualListFollowsEveryPage() throws {
    let harness = try StandInHarness(pageLimitDefault: 2)
    var ids: [String] = []
    for index in 1...5 {
        ids.append(try MachineCommands.create(harness.client, request("listed-\(index)")).id)
    }

    let rows = try MachineCommands.list(harness.client)

    #expect(Set(rows.map(\.id)) == Set(ids))
    #expect(rows.map(\.name).sorted() == (1...5).map { "listed-\($0)" })
    let row = try #require(rows.first)
    #expect(row.machineType == "A4000")
    #expect(row.region == "East Coast (NY2)")
    #expect(row.created != "-")
    #expect(row.cells.count == MachineRow.headers.count)
}

@Test func machineTableAlignsColumns() throws {
    let harness = try StandInHarness()
    _ = try MachineCommands.create(harness.client, request("a"))
    _ = try MachineCommands.create(harness.client, request("a-much-longer-name"))

    let table = MachineRow.table(try MachineCommands.list(harness.client))

    let lines = table.split(separator: "\n").map(String.init)
    #expect(lines.count == 3)
    #expect(lines[0].hasPrefix("ID "))
    let stateColumn = try #require(lines[0].range(of: "STATE"))
    let offset = lines[0].distance(from: lines[0].startIndex, to: stateColumn.lowerBound)
    for line in lines.dropFirst() {
        let index = line.index(line.startIndex, offsetBy: offset)
        #expect(line[index...].hasPrefix("provisioning") || line[index...].hasPrefix("ready"), "\(line)")
    }
}

@Test func manualStopThenDelete() throws {
    let harness = try StandInHarness()
    let machine = try MachineCommands.create(harness.client, request("stop-me"))
    try harness.wait(for: machine.id, state: "ready")

    try MachineCommands.stop(harness.client, id: machine.id)
    try harness.wait(for: machine.id, state: "off")
    let outcome = try MachineCommands.delete(harness.client, id: machine.id)

    #expect(outcome == .deleted)
    #expect(harness.standIn.machines.isEmpty)
    #expect(try MachineCommands.delete(harness.client, id: machine.id) == .alreadyGone)
}

@Test func manualDeleteOfRunningMachineSaysStop() throws {
    let harness = try StandInHarness()
    let machine = try MachineCommands.create(harness.client, request("still-running"))
    try harness.wait(for: machine.id, state: "ready")

    let error = try #require(throws: MachineCommandError.self) {
        try MachineCommands.delete(harness.client, id: machine.id)
    }

    #expect(error == .notOff(id: machine.id, state: "ready"))
    #expect(error.description.contains("machine stop \(machine.id)"))
    #expect(harness.standIn.machines.count == 1)
}

@Test func manualDeleteOfUnknownIdIsAlreadyGone() throws {
    let harness = try StandInHarness()

    #expect(try MachineCommands.delete(harness.client, id: "psnever1") == .alreadyGone)
}

@Test func manualStopOfUnknownIdThrowsNotFound() throws {
    let harness = try StandInHarness()

    let error = try #require(throws: PaperspaceError.self) { try MachineCommands.stop(harness.client, id: "psnever1") }

    guard case .notFound(_, let id) = error else {
        Issue.record("unexpected error \(error)")
        return
    }
    #expect(id == "psnever1")
}

@Test func manualCommandsNeverLogKey() throws {
    let harness = try StandInHarness()
    let machine = try MachineCommands.create(harness.client, request("quiet"))
    _ = try MachineCommands.list(harness.client)
    _ = try? MachineCommands.delete(harness.client, id: machine.id)

    #expect(!rawText(harness.capture).contains(testAPIKey))
}
