@testable import Agent
import Foundation
import Testing

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "nightshift-journal-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Test func journalRoundTripsRecords() throws {
    let directory = try temporaryDirectory()
    let journal = try Journal(path: directory + "/journal.sqlite")
    var record = RunRecord(runId: "r1", job: "nightly", machineName: "n-r1", machineType: "C5", startedAt: Date(timeIntervalSince1970: 100), maxDuration: 60)
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
        var record = RunRecord(runId: "r2", job: "nightly", machineName: "n-r2", machineType: "C5", startedAt: Date(), maxDuration: 60)
        record.state = .succeeded
        try journal.save(record)
    }
    let reopened = try Journal(path: path)
    #expect(try reopened.activeRuns().isEmpty)
    #expect(try reopened.runs(job: "nightly").count == 1)
    #expect(FileManager.default.fileExists(atPath: path + "-wal"))
}
