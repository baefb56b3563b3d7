import Demo
import Foundation
import Support
import Testing

/// Runs the built `nightshift` binary with `arguments` and returns its exit status and output.
private func nightshift(_ arguments: [String], environment: [String: String] = [:]) throws -> (
    status: Int32, output: String
) {
    let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    return try Subprocess.run([DaemonProcessHarness.executable] + arguments, environment: merged)
}

private func writeTemporary(_ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "nightshift-cli-\(UUID().uuidString).yaml"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o600)
    return path
}

private let validConfig = """
    paperspace:
      api_key: ${TEST_PAPERSPACE_KEY}
    hub:
      token: ${TEST_HF_TOKEN}
    jobs:
      weekly:
        schedule: "0 3 * * SUN"
        time_zone: America/New_York
        machine: {type: A4000, template: t0nspur5, region: ny2}
        repository: {url: "https://example.invalid/repo.git"}
        dataset: {repo: me/ticks}
        train: python train.py
        model: {repo: me/model, outputs: [model.pt]}

    """

private let secrets = ["TEST_PAPERSPACE_KEY": "ps-key-abcdef123456", "TEST_HF_TOKEN": "hf_token_abcdef123456"]

@Suite(.serialized)
struct CommandLineTests {
    @Test func unknownCommandIsUsageError() throws {
        let result = try nightshift(["frobnicate"])
        #expect(result.status == 64)
        #expect(result.output.contains("unknown command frobnicate"))
    }

    @Test func missingJobForStartIsUsageError() throws {
        #expect(try nightshift(["start"]).status == 64)
        #expect(try nightshift(["next", "--count", "zero"]).status == 64)
        #expect(try nightshift(["run", "--bogus"]).status == 64)
    }

    @Test func helpAndVersionExitZero() throws {
        let help = try nightshift(["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("nightshift start JOB"))
        let version = try nightshift(["--version"])
        #expect(version.status == 0)
        #expect(version.output.hasPrefix("nightshift \(NightshiftVersion.current)"))
    }

    @Test func validateAcceptsValidConfig() throws {
        let path = try writeTemporary(validConfig)
        let result = try nightshift(["validate", "--config", path], environment: secrets)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("valid, 1 job(s)"))
    }

    @Test func validateListsEveryErrorWithPosition() throws {
        let broken =
            validConfig
            .replacingOccurrences(of: "schedule: \"0 3 * * SUN\"", with: "schedule: \"0 25 * * *\"")
            .replacingOccurrences(of: "    train: python train.py", with: "    trian: python train.py")
        let path = try writeTemporary(broken)
        let result = try nightshift(["validate", "--config", path], environment: secrets)
        #expect(result.status == 65)
        // The bad hour is on line 7, the misspelled key on line 12.
        #expect(result.output.contains("\(path):7:"))
        #expect(result.output.contains("\(path):12:5"))
        #expect(result.output.contains("did you mean"))
        #expect(!result.output.contains("hf_token_abcdef123456"))
    }

    @Test func nextPrintsLocalAndUTCTimes() throws {
        let path = try writeTemporary(validConfig)
        let result = try nightshift(["next", "weekly", "--count", "3", "--config", path], environment: secrets)
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.first == "weekly: \"0 3 * * SUN\" (cron) in America/New_York")
        #expect(lines.count == 4)
        for line in lines.dropFirst() {
            // For example "2027-01-03 03:00:00 EST (-05:00)  2027-01-03T08:00:00Z".
            #expect(line.contains(" 03:00:00 "))
            #expect(line.hasSuffix("Z"))
            #expect(line.contains("(-05:00)") || line.contains("(-04:00)"))
        }
    }

    @Test func nextRejectsUnknownJob() throws {
        let path = try writeTemporary(validConfig)
        let result = try nightshift(["next", "daily", "--config", path], environment: secrets)
        #expect(result.status == 64)
        #expect(result.output.contains("no job named daily"))
    }
}
