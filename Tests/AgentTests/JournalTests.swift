import Foundation
import Support
import Testing

@testable import Agent

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "nightshift-journal-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Test func journalRoundTripsRecords() throws {
    let directory = try temporaryDirectory()
    let journal = try Journal(path: directory + "/journal.sqlite")
    var record = RunRecord(
        runId: "r1",
        job: "nightly",
        machineName: "n-r1",
        machineType: "C5",
        startedAt: Date(timeIntervalSince1970: 100),
        maxDuration: 60
    )
    try journal.save(record, transitions: [(.pending, .creatingScript, "run started")])
    record.state = .running
    record.machineId = "m1"
    try journal.save(record, transitions: [(.creatingScript, .running, "x")])
    let loaded = try #require(try journal.run(id: "r1"))
    #expect(loaded == record)
    #expect(try journal.transitions(runId: "r1").map(\.to) == ["creatingScript", "running"])
    #expect(try journal.activeRuns().map(\.runId) == ["r1"])
}

@Test func journalSurvivesReopenAndUsesWAL() throws {
    let directory = try temporaryDirectory()
    let path = directory + "/journal.sqlite"
    do {
        let journal = try Journal(path: path)
        var record = RunRecord(
            runId: "r2",
            job: "nightly",
            machineName: "n-r2",
            machineType: "C5",
            startedAt: Date(),
            maxDuration: 60
        )
        record.state = .succeeded
        try journal.save(record)
    }
    let reopened = try Journal(path: path)
    #expect(try reopened.activeRuns().isEmpty)
    #expect(try reopened.runs(job: "nightly").count == 1)
    #expect(FileManager.default.fileExists(atPath: path + "-wal"))
}

@Test func unreadableRecordIsRebuiltForTeardown() throws {
    let directory = try temporaryDirectory()
    let path = directory + "/journal.sqlite"
    let journal = try Journal(path: path)
    var good = RunRecord(
        runId: "r-good",
        job: "nightly",
        machineName: "n-good",
        machineType: "C5",
        startedAt: Date(timeIntervalSince1970: 200),
        maxDuration: 60
    )
    good.state = .running
    try journal.save(good)
    var damaged = RunRecord(
        runId: "r-bad",
        job: "nightly",
        machineName: "n-bad",
        machineType: "C5",
        startedAt: Date(timeIntervalSince1970: 100),
        maxDuration: 60
    )
    damaged.state = .running
    damaged.machineId = "ps-bad"
    try journal.save(damaged)
    // Damage the stored JSON the way a crash of another version or a bad disk might.
    let (status, output) = try Subprocess.run([
        "python3", "-c",
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            + "c.execute(\"UPDATE runs SET record = '{\\\"runId\\\": \\\"r-bad\\\"}' "
            + "WHERE run_id = 'r-bad'\"); c.commit()",
        path,
    ])
    #expect(status == 0, "\(output)")
    let active = try journal.activeRuns()
    #expect(active.map(\.runId) == ["r-bad", "r-good"])
    let rebuilt = try #require(active.first)
    #expect(rebuilt.state == .stopping)
    #expect(rebuilt.machineId == "ps-bad")
    #expect(rebuilt.machineName == "n-bad")
    #expect(rebuilt.machineMayExist)
    #expect(rebuilt.outcome?.succeeded == false)
}
