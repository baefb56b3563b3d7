import Foundation
import Support

/// The outcome of one test message, for `nightshift notify test NAME`.
public struct NotifierTestResult: Sendable, CustomStringConvertible {
    public enum Outcome: String, Sendable {
        case delivered
        /// The receiver or the settings rejected the message; trying again will not help.
        case rejected
        /// The receiver was unreachable, rate limited or failing; a later try may work.
        case retryable
    }

    public var notifier: String
    public var outcome: Outcome
    /// The HTTP status of the receiver's response, or nil when none arrived.
    public var status: Int?
    /// The start of the receiver's response body, or the error, with no URL path or secret in it.
    public var answer: String
    /// The receiver's `Retry-After` in seconds, when it sent one.
    public var retryAfter: Double?
    /// The fix for a failure, or nil when the message was delivered.
    public var fix: String?

    /// The sysexits(3) code: 0 delivered, 65 when the settings are invalid, 69 when the receiver rejected the
    /// message, and 75 when a later try may work.
    public var exitCode: ExitCode {
        switch self.outcome {
        case .delivered: .success
        case .retryable: .temporaryFailure
        case .rejected: self.status == nil ? .dataError : .unavailable
        }
    }

    public var description: String {
        let status = self.status.map { "HTTP \($0)" } ?? "no response"
        var text = "notifier \(self.notifier): \(self.outcome.rawValue) (\(status))"
        if !self.answer.isEmpty {
            text += ": \(self.answer)"
        }
        if let fix = self.fix {
            text += "\n\(fix)"
        }
        return text
    }
}

/// Sends one test message through a notifier at once, without the outbox and without retries, and returns
/// the receiver's response.
public enum NotifierTester {
    /// Returns the test notification: a `run_succeeded` event of job `nightshift-test` marked as a test, with
    /// an event id unique to `now`, so a receiver that drops duplicates still shows it.
    public static func testNotification(now: Date = Date()) -> RunNotification {
        let runId = "test-\(Int(now.timeIntervalSince1970))"
        return RunNotification(
            kind: .succeeded,
            job: "nightshift-test",
            runId: runId,
            occurredAt: now,
            machineType: "A4000",
            durationSeconds: 62,
            estimatedCostUSD: 0.01,
            reason: nil,
            isTest: true
        )
    }

    /// Sends `notification` (by default `testNotification()`) through `notifier` once and returns the result.
    public static func run(_ notifier: any Notifier, notification: RunNotification = NotifierTester.testNotification())
        -> NotifierTestResult
    {
        do {
            let receipt = try notifier.deliver(notification)
            return NotifierTestResult(
                notifier: notifier.name,
                outcome: .delivered,
                status: receipt.status,
                answer: SecretRedactor.shared.redact(receipt.responseSnippet)
            )
        } catch let error as NotifierError {
            var result = NotifierTestResult(
                notifier: notifier.name,
                outcome: error.isRetryable ? .retryable : .rejected,
                status: error.status,
                answer: "",
                retryAfter: error.retryAfter
            )
            switch error {
            case .rejected(_, _, _, let response, let fix):
                result.answer = response
                result.fix = fix
            case .retryableStatus(_, _, _, let response, _):
                result.answer = response
                result.fix = "The receiver is rate limiting or failing. Try again later."
            case .transport(_, let url, let message):
                result.answer = "could not reach \(url): \(message)"
                result.fix = "Check that the receiver is up and reachable from this machine."
            case .invalidSettings(_, let problem, let fix):
                result.answer = problem
                result.fix = fix
            case .encodingFailed(_, let message):
                result.answer = message
            }
            result.answer = SecretRedactor.shared.redact(result.answer)
            return result
        } catch {
            return NotifierTestResult(
                notifier: notifier.name,
                outcome: .rejected,
                status: nil,
                answer: SecretRedactor.shared.redact("\(error)")
            )
        }
    }
}
