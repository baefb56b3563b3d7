import Foundation
import StandIns
import Support
import Testing

/// Machine ids from the command line that would change the request path once libcurl removes dot segments.
@Suite(.serialized)
struct MachineIDTests {
    @Test(arguments: [["delete", ".."], ["delete", "."], ["stop", "."], ["stop", ".."], ["delete", "ps1/../ps2"]])
    func dotSegmentIDIsRejected(arguments: [String]) throws {
        let harness = try MachineCommandTests.Harness()
        let result = try harness.run(arguments)

        #expect(result.status == 64, "\(result.output)")
        #expect(result.output.contains("invalid machine id"))
        #expect(!result.output.contains("already gone"))
        let sent = harness.standIn.requests.filter { $0.method == "DELETE" || $0.method == "PATCH" }
        #expect(sent.isEmpty)
    }
}
