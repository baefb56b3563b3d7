import Foundation
import HTTP
import Notifiers
import StandIns
import Support

/// A token that stands for the secret part of a Slack webhook URL; it must never reach a log or an error.
let slackToken = "tok3nPathSecretXYZ123"

/// A Standard Webhooks secret: `whsec_` plus the base64 of 24 known bytes.
let webhookKey = Array("nightshift-test-key-24by".utf8)
let webhookSecret = "whsec_" + Data(webhookKey).base64EncodedString()

/// A secret path segment for generic webhook URLs.
let webhookPathToken = "hookPathSecret987"

/// Returns a client with short timeouts that logs to `capture` at trace level.
func makeHTTP(_ capture: LogCapture) -> HTTPClient {
    HTTPClient(connectTimeout: 2, totalTimeout: 5, logger: Logger(label: "http", logLevel: .trace, sink: capture.sink))
}

func makeLogger(_ capture: LogCapture) -> Logger {
    Logger(label: "notifiers", logLevel: .trace, sink: capture.sink)
}

/// Retries quickly so that tests with several attempts stay well under a second.
func fastRetry(attempts: Int) -> NotificationRetryPolicy {
    NotificationRetryPolicy(maxAttempts: attempts, baseDelay: 0.02, maxDelay: 0.05)
}

/// Returns a started receiver, which the caller stops.
func startReceiver(secret: String? = nil) throws -> WebhookReceiver {
    let receiver = WebhookReceiver(secret: secret)
    try receiver.start()
    return receiver
}

/// 2027-12-04T04:02:11Z, on a whole second so that ISO 8601 round trips are exact.
let sampleDate = Date(timeIntervalSince1970: 1_827_892_931)

func succeededNotification(runId: String = "20271204-0300-ab12") -> RunNotification {
    RunNotification(
        kind: .succeeded,
        job: "weekly-train",
        runId: runId,
        occurredAt: sampleDate,
        machineId: "psq2w3e4r",
        machineType: "A4000",
        durationSeconds: 3725,
        estimatedCostUSD: 0.78,
        modelCommitURL: "https://huggingface.co/acme/weekly-model/commit/4f2a9c1"
    )
}

func failedNotification(runId: String = "20271204-0300-ab12") -> RunNotification {
    RunNotification(
        kind: .failed,
        job: "weekly-train",
        runId: runId,
        occurredAt: sampleDate,
        machineId: "psq2w3e4r",
        machineType: "A4000",
        failedState: "waitingForReady",
        reason: "machine stuck in provisioning for 20m"
    )
}

func teardownFailedNotification() -> RunNotification {
    RunNotification(
        kind: .teardownFailed,
        job: "weekly-train",
        runId: "20271204-0300-ab12",
        occurredAt: sampleDate,
        machineId: "psq2w3e4r",
        machineType: "A4000",
        reason: "delete returned 500 five times"
    )
}

/// Returns every string a captured record carries, before redaction, so a leak cannot hide behind
/// `SecretRedactor`.
func rawLogStrings(_ capture: LogCapture) -> [String] {
    capture.records.flatMap { record in [record.message, record.label] + Array(record.metadata.values) }
}

/// Returns the texts of a Slack message's fields section, in order.
func slackFields(_ payload: [String: Any]) -> [String] {
    let blocks = payload["blocks"] as? [[String: Any]] ?? []
    let section = blocks.first { $0["fields"] != nil }
    let fields = section?["fields"] as? [[String: Any]] ?? []
    return fields.compactMap { $0["text"] as? String }
}

/// Returns the text of a Slack message's header block.
func slackHeader(_ payload: [String: Any]) -> String? {
    let blocks = payload["blocks"] as? [[String: Any]] ?? []
    let header = blocks.first { $0["type"] as? String == "header" }
    return (header?["text"] as? [String: Any])?["text"] as? String
}

/// Polls `condition` every 10 ms until it is true or `timeout` seconds have passed. Returns its last value.
func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while !condition() {
        if Date() >= deadline {
            return false
        }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return true
}
