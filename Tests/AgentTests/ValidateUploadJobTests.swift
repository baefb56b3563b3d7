import Foundation
import Support
import Testing

/// `nightshift validate` on a config whose only job is a `hub_upload` job.
@Suite struct ValidateUploadJobTests {
    @Test func validateCountsUploadJobs() throws {
        let directory = NSTemporaryDirectory() + "nightshift-validate-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/ticks", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = """
            state_directory: \(directory)/state
            hub:
              token: hf_validateTestToken3Kd9
            jobs:
              ticks:
                kind: hub_upload
                schedule: "30 1 * * *"
                time_zone: Europe/London
                local_dir: \(directory)/ticks
                repo: trader/gold-ticks
            """
        try config.write(toFile: directory + "/nightshift.yaml", atomically: true, encoding: .utf8)

        let result = try Subprocess.run(
            [DaemonProcessHarness.executable, "validate", "--config", directory + "/nightshift.yaml"]
        )

        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("valid, 1 job(s)"), "\(result.output)")
        #expect(!result.output.contains("0 job(s)"))
    }
}
