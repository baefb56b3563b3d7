import Foundation
import Support
import Testing

@testable import Config

@Suite struct ConfigSecretTests {
    @Test func environmentSecretResolves() throws {
        let configuration = try ConfigFixtures.load(ConfigFixtures.minimal)
        let key = try #require(configuration.paperspace.apiKey)
        #expect(key.value == "ps-key-0123456789")
        #expect(key.source == .environment("PAPERSPACE_API_KEY"))
        #expect(key.description == "[secret from $PAPERSPACE_API_KEY]")
    }

    @Test func secretsAreRegisteredForRedaction() throws {
        let environment = ["PAPERSPACE_API_KEY": "ps-redact-me-\(UUID().uuidString)", "HF_TOKEN": "hf_abcdef123456"]
        _ = try ConfigFixtures.load(ConfigFixtures.minimal, environment: environment)
        let line = "request failed with key \(environment["PAPERSPACE_API_KEY"]!)"
        #expect(SecretRedactor.shared.redact(line) == "request failed with key [REDACTED]")
    }

    @Test func variableDefaultCountsAsInline() throws {
        let text = "hub:\n  token: ${HUB_TOKEN:-hf_default_token_123}\n"
        let fromDefault = try ConfigFixtures.load(text, environment: [:], fileMode: 0o600)
        #expect(fromDefault.hub.token?.value == "hf_default_token_123")
        #expect(fromDefault.hub.token?.source == .inline)

        let fromEnvironment = try ConfigFixtures.load(text, environment: ["HUB_TOKEN": "hf_env_token_456"])
        #expect(fromEnvironment.hub.token?.value == "hf_env_token_456")
        #expect(fromEnvironment.hub.token?.source == .environment("HUB_TOKEN"))
    }

    @Test func fileSecretTrimsOneNewline() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases = [
            ("unix", "hf_file_token_1\n", "hf_file_token_1"), ("windows", "hf_file_token_2\r\n", "hf_file_token_2"),
            ("two", "hf_file_token_3\n\n", "hf_file_token_3\n"), ("none", "hf_file_token_4", "hf_file_token_4"),
        ]
        for (name, contents, expected) in cases {
            let file = directory.appendingPathComponent(name)
            try contents.write(to: file, atomically: true, encoding: .utf8)
            let configuration = try ConfigFixtures.load("hub:\n  token_file: \(file.path)\n", environment: [:])
            #expect(configuration.hub.token?.value == expected, "\(name)")
            #expect(configuration.hub.token?.source == .file(file.path))
        }
    }

    @Test func credentialsDirectoryExpandsInFilePath() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "ps-credential-value-1\n".write(
            to: directory.appendingPathComponent("paperspace-api-key"),
            atomically: true,
            encoding: .utf8
        )
        let text = "paperspace:\n  api_key_file: ${CREDENTIALS_DIRECTORY}/paperspace-api-key\n"
        let configuration = try ConfigFixtures.load(text, environment: ["CREDENTIALS_DIRECTORY": directory.path])
        #expect(configuration.paperspace.apiKey?.value == "ps-credential-value-1")
        #expect(configuration.paperspace.apiKey?.source == .file(directory.path + "/paperspace-api-key"))
    }

    @Test func relativeFilePathUsesConfigDirectory() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "hf_relative_token_1\n".write(
            to: directory.appendingPathComponent("hub-token"),
            atomically: true,
            encoding: .utf8
        )
        let configPath = directory.appendingPathComponent("nightshift.yaml").path
        try "hub:\n  token_file: hub-token\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        let configuration = try ConfigLoader.load(path: configPath, environment: [:])
        #expect(configuration.hub.token?.value == "hf_relative_token_1")
    }

    @Test func missingSecretFileNamesFile() throws {
        let path = "/nonexistent/credentials/\(UUID().uuidString)"
        let error = try #require(ConfigFixtures.singleError("hub:\n  token_file: \(path)\n", environment: [:]))
        #expect(error.key == "hub.token_file")
        #expect(error.line == 2)
        #expect(error.column == 15)
        #expect(error.message == "failed to read secret file `\(path)`: No such file or directory")
        #expect(error.fix.contains("LoadCredential="))
    }

    @Test func unsetCredentialsDirectoryNamesVariable() throws {
        let text = "hub:\n  token_file: ${CREDENTIALS_DIRECTORY}/hub-token\n"
        let error = try #require(ConfigFixtures.singleError(text, environment: [:]))
        #expect(error.key == "hub.token_file")
        #expect(error.line == 2)
        #expect(error.column == 15)
        #expect(error.message.contains("`CREDENTIALS_DIRECTORY` is not set"))
    }

    @Test func emptySecretFileIsRejected() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("empty")
        try "\n".write(to: file, atomically: true, encoding: .utf8)
        let error = try #require(ConfigFixtures.singleError("hub:\n  token_file: \(file.path)\n", environment: [:]))
        #expect(error.message == "secret file `\(file.path)` is empty: expected the secret in it")
    }

    @Test func directoryAsSecretFileIsRejected() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = try #require(
            ConfigFixtures.singleError("hub:\n  token_file: \(directory.path)\n", environment: [:])
        )
        #expect(error.message.contains("it is not a regular file"))
    }

    /// Skipped as root, because root reads files regardless of their mode.
    @Test(.enabled(if: getuid() != 0)) func unreadableSecretFileIsRejected() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("locked")
        try "hf_locked_token_1".write(to: file, atomically: true, encoding: .utf8)
        chmod(file.path, 0o000)
        let error = try #require(ConfigFixtures.singleError("hub:\n  token_file: \(file.path)\n", environment: [:]))
        #expect(error.message == "failed to read secret file `\(file.path)`: Permission denied")
    }

    @Test func oversizedSecretFileIsRejected() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("large")
        try Data(repeating: UInt8(ascii: "a"), count: 64 * 1024 + 1).write(to: file)
        let error = try #require(ConfigFixtures.singleError("hub:\n  token_file: \(file.path)\n", environment: [:]))
        #expect(error.message == "failed to read secret file `\(file.path)`: it is larger than the 65536 bytes allowed")
    }

    @Test func nonUTF8SecretFileIsRejected() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("binary")
        try Data([0x68, 0x66, 0xff, 0xfe, 0x00]).write(to: file)
        let error = try #require(ConfigFixtures.singleError("hub:\n  token_file: \(file.path)\n", environment: [:]))
        #expect(error.message == "failed to read secret file `\(file.path)`: it is not valid UTF-8 text")
    }

    @Test func fileAsDirectoryInPathIsRejected() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plain")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        let path = file.path + "/token"
        let error = try #require(ConfigFixtures.singleError("hub:\n  token_file: \(path)\n", environment: [:]))
        #expect(error.message == "failed to read secret file `\(path)`: Not a directory")
    }

    @Test func emptyEnvironmentSecretIsRejected() throws {
        let error = try #require(
            ConfigFixtures.singleError("hub:\n  token: ${HF_TOKEN}\n", environment: ["HF_TOKEN": ""])
        )
        #expect(error.key == "hub.token")
        #expect(error.message == "expected a non-empty secret, but environment variable `HF_TOKEN` is empty")
    }

    @Test func missingVariableErrorOmitsSecrets() {
        let secrets = ["ps-live-key-abcdef123", "hf_live_token_abcdef"]
        let text =
            "paperspace:\n  api_key: \(secrets[0])\nhub:\n  token: \(secrets[1])\nnotifiers:\n"
            + "  chat:\n    type: slack\n    url: ${SLACK_URL}\n"
        do {
            _ = try ConfigFixtures.load(text, environment: ["UNRELATED": secrets[1]], fileMode: 0o644)
            Issue.record("expected an error")
        } catch {
            let unset = error.diagnostics.first { $0.key == "notifiers.chat.url" }
            #expect(unset?.message.contains("`SLACK_URL` is not set") == true)
            for secret in secrets {
                #expect(!error.description.contains(secret))
            }
        }
    }

    @Test func inlineSecretWarnsWhenFileIsReadable() throws {
        let text = "paperspace:\n  api_key: ps-inline-key-123456\n"
        let configuration = try ConfigFixtures.load(text, environment: [:], fileMode: 0o100644)
        #expect(configuration.warnings.count == 1)
        let warning = try #require(configuration.warnings.first)
        #expect(warning.severity == .warning)
        #expect(warning.key == "paperspace.api_key")
        #expect(warning.line == 2)
        #expect(warning.column == 12)
        #expect(warning.message.contains("mode 0644"))
        #expect(warning.fix.contains("chmod 600"))
        #expect(warning.fix.contains("${ENV_VAR}"))
        #expect(!warning.description.contains("ps-inline-key-123456"))
    }

    @Test func inlineSecretQuietWhenFileIsPrivate() throws {
        let text = "paperspace:\n  api_key: ps-inline-key-123456\n"
        let configuration = try ConfigFixtures.load(text, environment: [:], fileMode: 0o100600)
        #expect(configuration.warnings.isEmpty)
    }

    @Test func referencedSecretNeverWarns() throws {
        let configuration = try ConfigFixtures.load(ConfigFixtures.minimal, fileMode: 0o100644)
        #expect(configuration.warnings.isEmpty)
    }

    @Test func fileModeIsReadFromDisk() throws {
        let directory = try ConfigFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("nightshift.yaml").path
        let text =
            "hub:\n  token: hf_inline_token_123\nnotifiers:\n  chat:\n    type: slack\n"
            + "    url: https://hooks.slack.com/services/inline123456\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        chmod(path, 0o640)
        let readable = try ConfigLoader.load(path: path, environment: [:])
        #expect(readable.warnings.map(\.key) == ["hub.token", "notifiers.chat.url"])
        #expect(readable.warnings.allSatisfy { $0.message.contains("mode 0640") })

        chmod(path, 0o600)
        let private_ = try ConfigLoader.load(path: path, environment: [:])
        #expect(private_.warnings.isEmpty)
    }

    /// A file full of inline secrets and errors next to them: no secret may reach any message.
    @Test func secretsNeverInErrorDescription() {
        let secrets = [
            "ps-secret-key-9f8e7d6c", "hf_secret_token_5b4a3c2d", "not-a-url-secret-1a2b3c",
            "whsec-signing-0a9b8c7d", "sk-list-secret-112233", "hook-default-445566",
        ]
        let text = """
            paperspace:
              api_key: \(secrets[0])
              endpoint: ftp://example.com
            hub:
              token: "\(secrets[1])"
              token_file: /run/token
            notifiers:
              bad-url:
                type: webhook
                url: \(secrets[2])
                secret: \(secrets[3])
              list-secret:
                type: slack
                url: [\(secrets[4])]
              broken-reference:
                type: webhook
                url: ${1BAD:-\(secrets[5])}
                secret: ${9WRONG}
            jobs:
              nightly:
                schedule: "@daily"

            """
        do {
            _ = try ConfigFixtures.load(text, environment: [:], fileMode: 0o644)
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.count >= 8)
            let description = error.description
            let formatted = ConfigLoader.format(error.diagnostics)
            for secret in secrets {
                #expect(!description.contains(secret), "\(secret) in \(description)")
                #expect(!formatted.contains(secret))
            }
            let urlError = error.diagnostics.first { $0.key == "notifiers.bad-url.url" && $0.severity == .error }
            #expect(
                urlError?.message
                    == "invalid notifier URL [inline secret]: expected an `http://` or `https://` URL with a host name"
            )
            #expect(urlError?.line == 10)
        }
    }

    @Test func repositoryPasswordWarnsAndIsRedacted() throws {
        let password = "ghp-password-\(UUID().uuidString)"
        let text = ConfigFixtures.minimal(
            replacing: "url: https://github.com/org/repo.git",
            with: "url: https://user:\(password)@github.com/org/repo.git"
        )
        let configuration = try ConfigFixtures.load(text)
        let warning = try #require(configuration.warnings.first)
        #expect(warning.key == "jobs.nightly.repository.url")
        #expect(warning.line == 13)
        #expect(!warning.description.contains(password))
        #expect(SecretRedactor.shared.redact("clone \(password)") == "clone [REDACTED]")
    }
}
