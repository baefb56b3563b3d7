import Config
import Demo
import Foundation
import HTTP
import Paperspace
import StandIns
import Support
import Testing

@testable import Agent

extension EndToEndHarness {
    func waitFor(_ runId: String, timeout: Double = 60, _ predicate: (RunRecord) -> Bool) throws -> Bool {
        let end = Date(timeIntervalSinceNow: timeout)
        while Date() < end {
            if let r = try self.runtime.journal.run(id: runId), predicate(r) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Every secret must be absent from the logs, journal, and notifications.
    func expectNoSecrets(_ runId: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        _ = self.runtime.dispatcher.flush(timeout: 15)
        let env = self.environment.configEnvironment
        let secrets = [
            DemoEnvironment.apiKey, DemoEnvironment.hubToken, DemoEnvironment.webhookSecret,
            env["NIGHTSHIFT_DEMO_SLACK_URL"]!, "XXXXXXXXXXXXXXXXXXXXXXXX", env["NIGHTSHIFT_DEMO_WEBHOOK_URL"]!,
        ]
        var corpus = self.capture.text
        let rec = try self.runtime.journal.run(id: runId)
        corpus += "\(String(describing: rec))"
        for t in try self.runtime.journal.transitions(runId: runId) { corpus += t.reason + "\n" }
        let db = try String(contentsOfFile: self.root + "/state/journal.sqlite", encoding: .isoLatin1)
        corpus += db
        if let wal = try? String(contentsOfFile: self.root + "/state/journal.sqlite-wal", encoding: .isoLatin1) {
            corpus += wal
        }
        for d in self.environment.webhook.deliveries + self.environment.slack.deliveries { corpus += d.bodyText }
        for s in secrets {
            #expect(!corpus.contains(s), "secret leaked: \(s)", sourceLocation: sourceLocation)
        }
    }

    func dumpTransitions(_ runId: String) -> String {
        ((try? self.runtime.journal.transitions(runId: runId)) ?? []).map { "\($0.from)->\($0.to): \($0.reason)" }
            .joined(separator: "\n")
    }
}

@Suite(.serialized)
struct FaultInjectionTests {
    @Test func transientNotFoundWhileRunning() throws {
        let harness = try EndToEndHarness(trainCommand: "sleep 15")
        let started = try #require(harness.daemon.startRun(of: harness.job))
        #expect(try harness.waitFor(started.runId) { $0.state == .running })
        harness.environment.paperspace.inject(
            .status(code: 404, retryAfter: nil, count: 1, method: "GET", pathContains: "/machines/ps")
        )
        #expect(harness.daemon.waitForRuns(timeout: 90))
        let record = try #require(try harness.runtime.journal.run(id: started.runId))
        #expect(record.state == .failed)
        harness.expectNothingLeft()
        try harness.expectNoSecrets(started.runId)
    }

    @Test func transientNotFoundWhileWaitingForOff() throws {
        let harness = try EndToEndHarness(trainCommand: "sleep 600", maxDuration: "6s")
        let started = try #require(harness.daemon.startRun(of: harness.job))
        #expect(try harness.waitFor(started.runId) { $0.state == .running })
        harness.environment.paperspace.inject(.stuck(state: "stopping", machineNamePrefix: nil))
        #expect(try harness.waitFor(started.runId) { $0.state == .waitingForOff })
        Thread.sleep(forTimeInterval: 1.5)
        harness.environment.paperspace.inject(
            .status(code: 404, retryAfter: nil, count: 1, method: "GET", pathContains: "/machines/ps")
        )
        Thread.sleep(forTimeInterval: 3)
        harness.environment.paperspace.inject(.clear)
        #expect(harness.daemon.waitForRuns(timeout: 90))
        let record = try #require(try harness.runtime.journal.run(id: started.runId))
        #expect(record.state == .failed)
        harness.expectNothingLeft()
    }

    @Test func stopErrorsAreRetried() throws {
        let harness = try EndToEndHarness(trainCommand: "sleep 600", maxDuration: "5s")
        harness.environment.paperspace.inject(
            .status(code: 500, retryAfter: nil, count: 12, method: "PATCH", pathContains: "/stop")
        )
        let record = try harness.runOnce()
        #expect(record.state == .failed)
        harness.expectNothingLeft()
        try harness.expectNoSecrets(record.runId)
    }

    @Test func stopResetsAreRetried() throws {
        let harness = try EndToEndHarness(trainCommand: "sleep 600", maxDuration: "5s")
        harness.environment.paperspace.inject(.resetConnection(count: 8, method: "PATCH", pathContains: "/stop"))
        harness.environment.paperspace.inject(.dropResponse(count: 3, method: "DELETE", pathContains: "/machines/"))
        let record = try harness.runOnce()
        #expect(record.state == .failed)
        harness.expectNothingLeft()
    }

    @Test func scriptDeleteErrorsAreRetried() throws {
        let harness = try EndToEndHarness()
        harness.environment.paperspace.inject(
            .status(code: 500, retryAfter: nil, count: 10, method: "DELETE", pathContains: "/startup-scripts")
        )
        let record = try harness.runOnce()
        #expect(record.state == .succeeded)
        harness.expectNothingLeft()
    }

    @Test func createResponseDropped() throws {
        let harness = try EndToEndHarness()
        harness.environment.paperspace.inject(.dropResponse(count: 1, method: "POST", pathContains: "/machines"))
        harness.environment.paperspace.inject(.dropResponse(count: 1, method: "POST", pathContains: "/startup-scripts"))
        let record = try harness.runOnce()
        #expect(record.state == .succeeded)
        #expect(harness.environment.paperspace.allMachinesEverCreated.count == 1)
        harness.expectNothingLeft()
    }

    @Test func createKeepsFailing() throws {
        let harness = try EndToEndHarness()
        harness.environment.paperspace.inject(
            .status(code: 500, retryAfter: nil, count: 40, method: "POST", pathContains: "/machines")
        )
        harness.environment.paperspace.inject(
            .status(code: 500, retryAfter: nil, count: 6, method: "GET", pathContains: "/machines")
        )
        let record = try harness.runOnce(timeout: 200)
        #expect(record.state == .failed)
        harness.expectNothingLeft()
        try harness.expectNoSecrets(record.runId)
    }

    @Test func createRejectedWith400() throws {
        let harness = try EndToEndHarness()
        harness.environment.paperspace.inject(
            .status(code: 400, retryAfter: nil, count: 1, method: "POST", pathContains: "/machines")
        )
        let record = try harness.runOnce()
        #expect(record.state == .failed)
        harness.expectNothingLeft()
        try harness.expectNoSecrets(record.runId)
    }

    @Test func hubDownDuringResultCheck() throws {
        let harness = try EndToEndHarness()
        harness.environment.hub.inject(.status(500, count: 200, pathContains: "status.json"))
        let record = try harness.runOnce(timeout: 200)
        #expect(record.state == .failed)
        harness.expectNothingLeft()
        try harness.expectNoSecrets(record.runId)
    }

    @Test func hubUnauthorizedDuringResultCheck() throws {
        let harness = try EndToEndHarness()
        harness.environment.hub.inject(.status(401, count: 200, pathContains: "status.json"))
        let record = try harness.runOnce(timeout: 200)
        #expect(record.state == .failed)
        harness.expectNothingLeft()
        try harness.expectNoSecrets(record.runId)
    }

    @Test func cancelWhileProvisioning() throws {
        let harness = try EndToEndHarness(machineDelay: 3)
        let started = try #require(harness.daemon.startRun(of: harness.job))
        #expect(try harness.waitFor(started.runId) { $0.state == .waitingForReady })
        harness.stop.raise()
        #expect(harness.daemon.waitForRuns(timeout: 90))
        let record = try #require(try harness.runtime.journal.run(id: started.runId))
        #expect(record.state == .failed)
        #expect(record.outcome?.failedState == .waitingForReady)
        harness.expectNothingLeft()
    }

    @Test func metacharactersStayLiteral() throws {
        let weird =
            "a'b\"c $(touch /tmp/nightshift-pwned1) `touch /tmp/nightshift-pwned2` ; touch /tmp/nightshift-pwned3 "
            + "\n touch /tmp/nightshift-pwned4 \\ ${HOME} !x"
        try? FileManager.default.removeItem(atPath: "/tmp/nightshift-pwned1")
        let harness = try EndToEndHarness(
            trainCommand: "python3 train.py && printf '%s' \"$WEIRD\" > weird.txt && mkdir -p model",
            outputs: ["model", "metrics.json", "weird.txt"],
            environmentVariables: ["WEIRD": weird]
        )
        let record = try harness.runOnce()
        #expect(record.state == .succeeded, "\(record.outcome?.reason ?? "")")
        let files = try #require(harness.environment.hub.files(repo: DemoEnvironment.modelRepo, type: .model))
        #expect(files["weird.txt"].map { String(decoding: $0, as: UTF8.self) } == weird)
        for n in 1...4 { #expect(!FileManager.default.fileExists(atPath: "/tmp/nightshift-pwned\(n)")) }
        harness.expectNothingLeft()
    }
}

/// Error bodies are redacted before they are shortened, so a secret across the cut never shows in part.
@Suite struct ErrorRedactionTests {
    @Test func detailsCutBeforeRedaction() throws {
        let token = "hf_faultSecretToken0123456789abcdef"
        SecretRedactor.shared.register(token)
        // details JSON is cut to 400 bytes before redact(): put the token across the cut.
        let pad = String(repeating: "x", count: 400 - 12 - 10)
        let server = LoopbackHTTPServer { _ in
            HTTPResponse.json(400, ["code": "BAD_REQUEST", "message": "invalid script", "details": ["s": pad + token]])
        }
        try server.start()
        defer { server.stop() }
        let client = PaperspaceClient(
            endpoint: server.baseURL,
            apiKey: "apikey-fault-0123456789",
            http: HTTPClient(logger: Logger(label: "t", logLevel: .critical)),
            logger: Logger(label: "t", logLevel: .critical)
        )
        var text = ""
        do { _ = try client.createStartupScript(name: "n", script: "x", runOnce: true) } catch { text = "\(error)" }
        #expect(!text.contains(String(token.prefix(12))), "partial token leaked")
    }

    @Test func snippetCutBeforeRedaction() throws {
        let key = "apikey-fault-0123456789"
        let token = "hf_faultSecretToken9876543210zyx"
        SecretRedactor.shared.register(token)
        let body = String(repeating: "y", count: 8192 - 10) + token
        let server = LoopbackHTTPServer { _ in HTTPResponse(status: 400, body: Data(body.utf8)) }
        try server.start()
        defer { server.stop() }
        let client = PaperspaceClient(
            endpoint: server.baseURL,
            apiKey: key,
            http: HTTPClient(logger: Logger(label: "t", logLevel: .critical)),
            logger: Logger(label: "t", logLevel: .critical)
        )
        var text = ""
        do { try client.deleteMachine(id: "ps1") } catch { text = "\(error)" }
        #expect(text.contains("400"))
        #expect(!text.contains(String(token.prefix(12))))
        #expect(!text.contains(key))
    }
}

@Suite struct DuplicateMachineTests {
    @Test func duplicateNamedMachinesAllDeleted() throws {
        let harness = try EndToEndHarness(maxDuration: "8s")
        let runId = "20990101-000000-d0pe"
        let daemon = Daemon(
            runtime: harness.runtime,
            logger: Logger(label: "d", logLevel: .debug, sink: harness.capture.sink),
            stop: harness.stop,
            makeRunId: { _ in runId }
        )
        let client = PaperspaceClient(
            endpoint: harness.environment.paperspace.baseURL,
            apiKey: DemoEnvironment.apiKey,
            http: HTTPClient(logger: Logger(label: "t", logLevel: .critical)),
            logger: Logger(label: "t", logLevel: .critical)
        )
        let name = "nightshift-gold-demo-\(runId)"
        for _ in 0..<2 {
            _ = try client.createMachine(
                MachineCreateRequest(name: name, machineType: "C5", templateId: "t0nspur5", diskSize: 50, region: "ny2")
            )
        }
        let record = try #require(daemon.startRun(of: harness.job))
        #expect(daemon.waitForRuns(timeout: 90))
        let final = try #require(try harness.runtime.journal.run(id: record.runId))
        // The adopted machine has no startup script, so it never powers off and the maximum duration ends the run.
        #expect(final.state == .failed)
        harness.expectNothingLeft()
    }
}
