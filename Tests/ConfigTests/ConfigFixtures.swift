import Foundation
import Testing

@testable import Config

/// Shared config texts and helpers for loading them in tests.
enum ConfigFixtures {
    static let path = "/etc/nightshift/nightshift.yaml"

    /// The smallest valid file with one job: every optional key is left out.
    static let minimal = """
        paperspace:
          api_key: ${PAPERSPACE_API_KEY}
        hub:
          token: ${HF_TOKEN}
        jobs:
          nightly:
            schedule: "0 3 * * *"
            machine:
              type: A4000
              template: t0nspur5
              region: ny2
            repository:
              url: https://github.com/org/repo.git
            dataset:
              repo: org/dataset
            train: python train.py
            model:
              repo: org/model
              outputs: [model.safetensors]

        """

    static let environment = [
        "PAPERSPACE_API_KEY": "ps-key-0123456789",
        "HF_TOKEN": "hf_token_0123456789",
    ]

    static func load(
        _ text: String,
        environment: [String: String] = ConfigFixtures.environment,
        scheduleValidator: (String) -> String? = { _ in nil },
        fileMode: mode_t? = nil
    ) throws(ConfigError) -> Configuration {
        try ConfigLoader.load(
            text: text,
            path: ConfigFixtures.path,
            environment: environment,
            scheduleValidator: scheduleValidator,
            fileMode: fileMode
        )
    }

    /// Loads `text`, which must fail, and returns all diagnostics of the error.
    static func diagnostics(
        _ text: String,
        environment: [String: String] = ConfigFixtures.environment,
        scheduleValidator: (String) -> String? = { _ in nil },
        fileMode: mode_t? = nil
    ) -> [ConfigDiagnostic] {
        do {
            let configuration = try ConfigFixtures.load(
                text,
                environment: environment,
                scheduleValidator: scheduleValidator,
                fileMode: fileMode
            )
            Issue.record("expected the config to fail, but it loaded \(configuration.jobs.count) jobs")
            return []
        } catch {
            return error.diagnostics
        }
    }

    /// Loads `text`, which must fail with exactly one error, and returns that error.
    static func singleError(
        _ text: String,
        environment: [String: String] = ConfigFixtures.environment,
        scheduleValidator: (String) -> String? = { _ in nil },
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ConfigDiagnostic? {
        let errors = ConfigFixtures.diagnostics(text, environment: environment, scheduleValidator: scheduleValidator)
            .filter { $0.severity == .error }
        #expect(errors.count == 1, "errors: \(errors)", sourceLocation: sourceLocation)
        return errors.first
    }

    /// Creates a fresh directory under the temporary directory. The caller removes it.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("nightshift-config-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension ConfigFixtures {
    /// Returns the minimal config with one line replaced. Line numbers of `minimal`: `jobs:` is line 5, `nightly:` 6,
    /// `schedule` 7, `machine` 8 to 11, `repository` 12 and 13, `dataset` 14 and 15, `train` 16, `model` 17 to 19.
    static func minimal(replacing line: String, with replacement: String) -> String {
        precondition(ConfigFixtures.minimal.contains(line), "the minimal config has no line `\(line)`")
        return ConfigFixtures.minimal.replacingOccurrences(of: line, with: replacement)
    }
}
