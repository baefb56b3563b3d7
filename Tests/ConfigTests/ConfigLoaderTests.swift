import Foundation
import Support
import Testing

@testable import Config

@Suite struct ConfigLoaderTests {
    /// The path of etc/nightshift.yaml in this checkout.
    static let examplePath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("etc/nightshift.yaml")
        .path

    @Test func exampleConfigLoads() throws {
        let credentials = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: credentials) }
        try "ps-example-key-123456\n".write(
            to: credentials.appendingPathComponent("paperspace-api-key"),
            atomically: true,
            encoding: .utf8
        )
        let credentialFiles = [
            "oncall-webhook-secret": "whsec-example-secret-123456",
            "hf-token": "hf_example_token_123456",
            "slack-webhook-url": "https://hooks.slack.com/services/T000/B000/example123456",
            "oncall-webhook-url": "https://alerts.example.com/hooks/nightshift",
        ]
        for (name, value) in credentialFiles {
            try (value + "\n").write(to: credentials.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let environment = ["CREDENTIALS_DIRECTORY": credentials.path]
        var validated: [String] = []
        let configuration = try ConfigLoader.load(
            path: ConfigLoaderTests.examplePath,
            environment: environment,
            scheduleValidator: { schedule in
                validated.append(schedule)
                return schedule.split(separator: " ").count == 5 ? nil : "expected five fields"
            }
        )

        #expect(configuration.warnings.isEmpty, "\(configuration.warnings)")
        #expect(validated == ["30 2 * * 0", "15 1 * * *"])
        #expect(configuration.timeZone == "Europe/Berlin")
        #expect(configuration.logLevel == .info)
        #expect(configuration.paperspace.apiKey?.value == "ps-example-key-123456")
        #expect(
            configuration.paperspace.apiKey?.source
                == .file(credentials.appendingPathComponent("paperspace-api-key").path)
        )
        #expect(configuration.hub.token?.source == .file(credentials.appendingPathComponent("hf-token").path))
        #expect(configuration.hub.token?.value == "hf_example_token_123456")

        #expect(configuration.notifiers.map(\.name) == ["team-slack", "oncall"])
        let oncall = try #require(configuration.notifier(named: "oncall"))
        #expect(oncall.kind == .webhook)
        #expect(oncall.signingSecret?.value == "whsec-example-secret-123456")
        #expect(oncall.events == [.failed, .teardownFailed])
        #expect(oncall.timeout == 15)
        #expect(
            configuration.notifier(named: "team-slack")?.events == [.started, .succeeded, .failed, .teardownFailed]
        )

        #expect(configuration.jobs.count == 1)
        let upload = try #require(configuration.uploadJob(named: "nightly-ticks"))
        #expect(upload.localDirectory == "/srv/market/workspace/raw_data/ticks")
        #expect(upload.include == ["*.csv"])
        #expect(upload.notify == ["oncall"])
        let job = try #require(configuration.job(named: "weekly-classifier"))
        #expect(job.machine.diskSize == 100)
        #expect(job.machine.hourlyRate == 0.76)
        #expect(job.outputs.count == 3)
        #expect(job.maxDuration == 4 * 3600)
        #expect(job.poll.running == 60)
        #expect(job.notify == ["team-slack", "oncall"])
        #expect(job.environment.map(\.name) == ["TOKENIZERS_PARALLELISM", "PYTHONUNBUFFERED"])
    }

    /// The error example in docs/configuration.md must be what the loader prints for the file shown there.
    @Test func documentedErrorExampleMatches() throws {
        let docsPath = URL(fileURLWithPath: ConfigLoaderTests.examplePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("docs/configuration.md")
        let docs = try String(contentsOf: docsPath, encoding: .utf8)
        let example = try #require(docs.components(separatedBy: "For this file:\n\n```yaml\n").last)
        let yaml = try #require(example.components(separatedBy: "```").first)
        let output = try #require(example.components(separatedBy: "```text\n").dropFirst().first)
        let printed = try #require(output.components(separatedBy: "\n```").first)

        let diagnostics = ConfigFixtures.diagnostics(yaml, environment: [:])
        #expect(ConfigLoader.format(diagnostics) == printed)
    }

    @Test func minimalConfigGetsDefaults() throws {
        let configuration = try ConfigFixtures.load(ConfigFixtures.minimal)

        #expect(configuration.sourcePath == ConfigFixtures.path)
        #expect(configuration.stateDirectory == "/var/lib/nightshift")
        #expect(configuration.timeZone == "UTC")
        #expect(configuration.logLevel == .info)
        #expect(configuration.paperspace.endpoint == "https://api.paperspace.com/v1")
        #expect(configuration.paperspace.namePrefix == "nightshift")
        #expect(configuration.paperspace.apiKey?.value == "ps-key-0123456789")
        #expect(configuration.paperspace.apiKey?.source == .environment("PAPERSPACE_API_KEY"))
        #expect(configuration.hub.endpoint == "https://huggingface.co")
        #expect(configuration.hub.token?.value == "hf_token_0123456789")
        #expect(configuration.notifiers.isEmpty)
        #expect(configuration.warnings.isEmpty)

        let job = try #require(configuration.jobs.first)
        #expect(job.name == "nightly")
        #expect(job.schedule == "0 3 * * *")
        #expect(job.timeZone == "UTC")
        #expect(job.machine.type == "A4000")
        #expect(job.machine.template == "t0nspur5")
        #expect(job.machine.region == "ny2")
        #expect(job.machine.diskSize == 50)
        #expect(job.machine.hourlyRate == nil)
        #expect(job.repositoryURL == "https://github.com/org/repo.git")
        #expect(job.repositoryRef == "main")
        #expect(job.setupCommand == "pip install -r requirements_linux.txt")
        #expect(job.datasetRepo == "org/dataset")
        #expect(job.datasetRevision == "main")
        #expect(job.datasetDirectory == "data")
        #expect(job.trainCommand == "python train.py")
        #expect(job.modelRepo == "org/model")
        #expect(job.outputs == ["model.safetensors"])
        #expect(job.environment.isEmpty)
        #expect(job.maxDuration == 21600)
        #expect(job.poll.startup == 10)
        #expect(job.poll.running == 30)
        #expect(job.poll.teardown == 5)
        #expect(job.timeouts.ready == 1200)
        #expect(job.timeouts.stop == 600)
        #expect(job.timeouts.delete == 600)
        #expect(job.notify.isEmpty)
    }

    @Test func configWithoutJobsNeedsNoCredentials() throws {
        let configuration = try ConfigFixtures.load("log_level: debug\n", environment: [:])
        #expect(configuration.logLevel == .debug)
        #expect(configuration.jobs.isEmpty)
        #expect(configuration.paperspace.apiKey == nil)
    }

    @Test func globalSettingsAreRead() throws {
        let text = """
            state_directory: /srv/nightshift
            time_zone: America/New_York
            log_level: WARNING
            paperspace:
              endpoint: http://127.0.0.1:8080/v1/
              name_prefix: ns-test
            hub:
              endpoint: http://127.0.0.1:8081

            """
        let configuration = try ConfigFixtures.load(text)
        #expect(configuration.stateDirectory == "/srv/nightshift")
        #expect(configuration.timeZone == "America/New_York")
        #expect(configuration.logLevel == .warning)
        #expect(configuration.paperspace.endpoint == "http://127.0.0.1:8080/v1")
        #expect(configuration.paperspace.namePrefix == "ns-test")
        #expect(configuration.hub.endpoint == "http://127.0.0.1:8081")
    }

    @Test func jobSettingsOverrideDefaults() throws {
        let text =
            ConfigFixtures.minimal + """
                    time_zone: Asia/Tokyo
                    setup: ""
                    env:
                      SEED: 42
                      MODE: fast
                    max_duration: 1d
                    poll: { startup: 1s, running: 2m, teardown: 3 }
                    timeouts:
                      ready: 1h
                    notify: [chat]
                notifiers:
                  chat:
                    type: slack
                    url: ${SLACK_URL}
                  audit:
                    type: webhook
                    url: ${AUDIT_URL}
                    secret: ${AUDIT_SECRET}

                """
        var environment = ConfigFixtures.environment
        environment["SLACK_URL"] = "https://hooks.slack.com/services/abc123456"
        environment["AUDIT_URL"] = "https://audit.example.com/hook"
        environment["AUDIT_SECRET"] = "audit-secret-123456"
        let configuration = try ConfigFixtures.load(text, environment: environment)
        let job = try #require(configuration.jobs.first)
        #expect(job.timeZone == "Asia/Tokyo")
        #expect(job.setupCommand == "")
        #expect(job.environment.map(\.name) == ["SEED", "MODE"])
        #expect(job.environment.map(\.value) == ["42", "fast"])
        #expect(job.maxDuration == 86400)
        #expect(job.poll.startup == 1)
        #expect(job.poll.running == 120)
        #expect(job.poll.teardown == 3)
        #expect(job.timeouts.ready == 3600)
        #expect(job.timeouts.stop == 600)
        #expect(job.notify == ["chat"])
        #expect(configuration.notifiers.map(\.kind) == [.slack, .webhook])
    }

    @Test func notifyDefaultsToAllNotifiers() throws {
        let text =
            ConfigFixtures.minimal + """
                notifiers:
                  first:
                    type: slack
                    url: https://hooks.slack.com/services/first123456
                  second:
                    type: slack
                    url: https://hooks.slack.com/services/second123456

                """
        let configuration = try ConfigFixtures.load(text)
        #expect(configuration.jobs.first?.notify == ["first", "second"])
    }

    @Test func jobTimeZoneDefaultsToGlobal() throws {
        let configuration = try ConfigFixtures.load("time_zone: Europe/Paris\n" + ConfigFixtures.minimal)
        #expect(configuration.jobs.first?.timeZone == "Europe/Paris")
    }

    @Test func mergeKeysShareSettings() throws {
        let text = """
            x-machine: &gpu
              type: A4000
              template: t0nspur5
              region: ny2
            paperspace:
              api_key: ${PAPERSPACE_API_KEY}
            hub:
              token: ${HF_TOKEN}
            jobs:
              first:
                schedule: "@daily"
                machine:
                  <<: *gpu
                  disk_size: 200
                repository: { url: https://github.com/org/repo.git }
                dataset: { repo: org/dataset }
                train: python train.py
                model: { repo: org/model, outputs: [a.bin] }
              second:
                schedule: "@weekly"
                machine:
                  <<: *gpu
                  type: P4000
                repository: { url: https://github.com/org/repo.git }
                dataset: { repo: org/dataset }
                train: python train.py
                model: { repo: org/model, outputs: [b.bin] }

            """
        let configuration = try ConfigFixtures.load(text)
        let first = try #require(configuration.job(named: "first"))
        let second = try #require(configuration.job(named: "second"))
        #expect(first.machine.type == "A4000")
        #expect(first.machine.diskSize == 200)
        #expect(second.machine.type == "P4000")
        #expect(second.machine.region == "ny2")
    }

    @Test func mergeListEarlierMapWins() throws {
        let text = """
            x-a: &a { type: A4000, region: ny2 }
            x-b: &b { type: P4000, template: t0nspur5, region: ca1 }
            paperspace: { api_key: "${PAPERSPACE_API_KEY}" }
            hub: { token: "${HF_TOKEN}" }
            jobs:
              merged:
                schedule: "@daily"
                machine:
                  <<: [*a, *b]
                  region: ams1
                repository: { url: https://github.com/org/repo.git }
                dataset: { repo: org/dataset }
                train: python train.py
                model: { repo: org/model, outputs: [a.bin] }

            """
        let machine = try #require(try ConfigFixtures.load(text).jobs.first?.machine)
        #expect(machine.type == "A4000")
        #expect(machine.template == "t0nspur5")
        #expect(machine.region == "ams1")
    }

    @Test func literalDollarBraceEscape() throws {
        let text = ConfigFixtures.minimal.replacingOccurrences(
            of: "train: python train.py",
            with: "train: $${TRAIN_COMMAND}"
        )
        let configuration = try ConfigFixtures.load(text)
        #expect(configuration.jobs.first?.trainCommand == "${TRAIN_COMMAND}")
    }

    @Test func partialReferenceStaysLiteral() throws {
        let text = ConfigFixtures.minimal.replacingOccurrences(
            of: "train: python train.py",
            with: "train: python train.py --seed ${SEED}"
        )
        let configuration = try ConfigFixtures.load(text)
        #expect(configuration.jobs.first?.trainCommand == "python train.py --seed ${SEED}")
    }

    @Test func wholeReferenceExpandsPlainValues() throws {
        let text = "state_directory: ${STATE_DIRECTORY}\nlog_level: ${LOG_LEVEL:-notice}\n"
        let configuration = try ConfigFixtures.load(text, environment: ["STATE_DIRECTORY": "/srv/state"])
        #expect(configuration.stateDirectory == "/srv/state")
        #expect(configuration.logLevel == .notice)
    }

    @Test func missingFileIsReported() {
        let path = "/nonexistent/nightshift-\(UUID().uuidString).yaml"
        do {
            _ = try ConfigLoader.load(path: path, environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(error.diagnostics.first?.file == path)
            #expect(error.diagnostics.first?.message.contains("No such file or directory") == true)
        }
    }

    @Test func directoryAsConfigPathIsReported() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try ConfigLoader.load(path: directory.path, environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.map(\.message) == ["failed to read the config file: it is not a regular file"])
        }
    }

    @Test func formatCountsErrorsAndWarnings() {
        let diagnostics = [
            ConfigDiagnostic(file: "a.yaml", line: 2, column: 3, key: "jobs", message: "bad", fix: "fix it"),
            ConfigDiagnostic(
                severity: .warning,
                file: "a.yaml",
                line: 4,
                column: 1,
                key: "hub",
                message: "meh",
                fix: "x"
            ),
        ]
        let text = ConfigLoader.format(diagnostics)
        #expect(text.hasPrefix("a.yaml:2:3: error: jobs: bad\n    fix: fix it\na.yaml:4:1: warning: hub: meh"))
        #expect(text.hasSuffix("\n1 error, 1 warning"))
    }
}
