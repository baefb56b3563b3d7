import Demo
import Foundation
import Support
import Testing

@Suite(.serialized)
struct NotifyCommandTests {
    @Test func testMessageReportsTheAnswer() throws {
        let harness = try DaemonProcessHarness()
        let result = try harness.command(["notify", "test", "ops-webhook"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("notifier ops-webhook: delivered (HTTP"))
        #expect(harness.environment.webhook.deliveries.count == 1)
        #expect(harness.environment.webhook.deliveries.first?.signatureValid == true)
        #expect(!result.output.contains(harness.environment.configEnvironment["NIGHTSHIFT_DEMO_WEBHOOK_URL"]!))

        let slack = try harness.command(["notify", "test", "team-slack"])
        #expect(slack.status == 0, "\(slack.output)")
        #expect(!slack.output.contains(harness.environment.configEnvironment["NIGHTSHIFT_DEMO_SLACK_URL"]!))
    }

    @Test func receiverDownIsTemporaryFailure() throws {
        let harness = try DaemonProcessHarness()
        harness.environment.webhook.simulateDown()
        let result = try harness.command(["notify", "test", "ops-webhook"])
        #expect(result.status == 75, "\(result.output)")
        #expect(result.output.contains("ops-webhook"))
    }

    @Test func unknownNotifierListsNames() throws {
        let harness = try DaemonProcessHarness()
        let result = try harness.command(["notify", "test", "pager"])
        #expect(result.status == 64)
        #expect(result.output.contains("team-slack, ops-webhook"))
    }
}
