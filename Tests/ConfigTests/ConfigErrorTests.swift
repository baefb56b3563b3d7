import Foundation
import Testing

@testable import Config

/// Each kind of config error, with its exact position and key path.
@Suite struct ConfigErrorTests {
    @Test func unknownTopLevelKeySuggestsName() throws {
        let error = try #require(ConfigFixtures.singleError("log_levle: debug\n"))
        #expect(error.line == 1)
        #expect(error.column == 1)
        #expect(error.key == "log_levle")
        #expect(error.message == "unknown key `log_levle`, did you mean `log_level`?")
        #expect(error.fix.contains("rename it to `log_level`"))
        #expect(error.fix.contains("`state_directory`, `time_zone`, `log_level`"))
    }

    @Test func unknownNestedKeySuggestsName() throws {
        let text = ConfigFixtures.minimal(replacing: "    train: python", with: "    trian: python")
        let errors = ConfigFixtures.diagnostics(text)
        // The misspelled key is unknown, and so `train` is also missing.
        #expect(errors.count == 2)
        let unknown = try #require(errors.first { $0.key == "jobs.nightly.trian" })
        #expect(unknown.line == 16)
        #expect(unknown.column == 5)
        #expect(unknown.message.contains("did you mean `train`?"))
        let missing = try #require(errors.first { $0.key == "jobs.nightly.train" })
        #expect(missing.line == 7)
        #expect(missing.column == 5)
    }

    @Test func unknownKeyWithoutCloseMatch() throws {
        let error = try #require(ConfigFixtures.singleError("hub:\n  colour: blue\n"))
        #expect(error.line == 2)
        #expect(error.column == 3)
        #expect(error.key == "hub.colour")
        #expect(error.message == "unknown key `colour`")
        #expect(error.fix.contains("`endpoint`, `token`, `token_file`"))
    }

    @Test func extensionKeysAreSkippedOnlyAtTopLevel() throws {
        let error = try #require(ConfigFixtures.singleError("x-anchors: {a: 1}\nhub:\n  x-note: hello\n"))
        #expect(error.key == "hub.x-note")
        #expect(error.line == 3)
    }

    @Test func listWhereMapExpected() throws {
        let text = ConfigFixtures.minimal(replacing: "    machine:\n", with: "    machine: [A4000, ny2]\n    unused:\n")
            .replacingOccurrences(
                of: "    unused:\n      type: A4000\n      template: t0nspur5\n      region: ny2\n",
                with: ""
            )
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.machine")
        #expect(error.line == 8)
        #expect(error.column == 14)
        #expect(error.message == "expected a map of keys, got a list")
    }

    @Test func mapWhereStringExpected() throws {
        let text = ConfigFixtures.minimal(replacing: "    train: python train.py", with: "    train: {command: python}")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.train")
        #expect(error.line == 16)
        #expect(error.column == 12)
        #expect(error.message == "expected a string, got a map")
    }

    @Test func stringWhereListExpected() throws {
        let text = ConfigFixtures.minimal(replacing: "outputs: [model.safetensors]", with: "outputs: model.safetensors")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.model.outputs")
        #expect(error.line == 19)
        #expect(error.column == 16)
        #expect(error.message == "expected a list, got a single value")
    }

    @Test func emptyValueWhereStringExpected() throws {
        let text = ConfigFixtures.minimal(replacing: "    train: python train.py", with: "    train:")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.train")
        #expect(error.line == 16)
        #expect(error.column == 11)
        #expect(error.message == "expected a string, got an empty value")
    }

    @Test func missingRequiredKeyPointsAtParentMap() throws {
        let text = ConfigFixtures.minimal(replacing: "      region: ny2\n", with: "")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.machine.region")
        #expect(error.line == 9)
        #expect(error.column == 7)
        #expect(error.message == "missing required key `region`: expected a string")
        #expect(error.fix == "add `region: ny2` under `jobs.nightly.machine`")
    }

    @Test func missingRequiredSection() throws {
        let text = ConfigFixtures.minimal(replacing: "    dataset:\n      repo: org/dataset\n", with: "")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.dataset")
        #expect(error.line == 7)
        #expect(error.column == 5)
    }

    @Test func duplicateKey() throws {
        let text = ConfigFixtures.minimal(
            replacing: "      region: ny2\n",
            with: "      region: ny2\n      type: P4000\n"
        )
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.machine.type")
        #expect(error.line == 12)
        #expect(error.column == 7)
        #expect(error.message.contains("duplicate key `type`"))
        #expect(error.message.contains("after line 9"))
    }

    @Test func invalidDuration() throws {
        let text = ConfigFixtures.minimal + "    max_duration: 1h30\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.max_duration")
        #expect(error.line == 20)
        #expect(error.column == 19)
        #expect(error.message.hasPrefix("invalid duration `1h30`: expected a number with a unit"))
    }

    @Test(arguments: ["169h", "0", "8d"])
    func maxDurationOutOfRange(value: String) throws {
        let text = ConfigFixtures.minimal + "    max_duration: \(value)\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.max_duration")
        #expect(error.line == 20)
        #expect(error.message.contains("out of range"))
        #expect(error.message.contains("at most 7d"))
    }

    @Test func unknownNotifierInNotify() throws {
        let text =
            ConfigFixtures.minimal + """
                    notify: [team-slak]
                notifiers:
                  team-slack:
                    type: slack
                    url: https://hooks.slack.com/services/abc123456

                """
        let errors = ConfigFixtures.diagnostics(text).filter { $0.severity == .error }
        #expect(errors.count == 1)
        let error = try #require(errors.first)
        #expect(error.key == "jobs.nightly.notify[0]")
        #expect(error.line == 20)
        #expect(error.column == 14)
        #expect(
            error.message
                == "unknown notifier `team-slak`: defined notifiers are `team-slack`, did you mean `team-slack`?"
        )
    }

    @Test(arguments: [
        ("Europe/Berln", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("america/new york", "America/New_York"),
    ])
    func invalidTimeZoneSuggestsName(zone: String, suggestion: String) throws {
        let error = try #require(ConfigFixtures.singleError("log_level: info\ntime_zone: \(zone)\n"))
        #expect(error.key == "time_zone")
        #expect(error.line == 2)
        #expect(error.column == 12)
        #expect(
            error.message
                == "unknown time zone `\(zone)`: expected an IANA time zone name, did you mean `\(suggestion)`?"
        )
    }

    @Test func invalidJobTimeZone() throws {
        let text = ConfigFixtures.minimal + "    time_zone: Mars/Olympus\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.time_zone")
        #expect(error.line == 20)
        #expect(error.column == 16)
        #expect(error.fix.contains("`UTC`"))
    }

    @Test func unsetVariable() throws {
        var environment = ConfigFixtures.environment
        environment["HF_TOKEN"] = nil
        let error = try #require(ConfigFixtures.singleError(ConfigFixtures.minimal, environment: environment))
        #expect(error.key == "hub.token")
        #expect(error.line == 4)
        #expect(error.column == 10)
        #expect(
            error.message == "environment variable `HF_TOKEN` is not set: expected it in the environment of nightshift"
        )
    }

    @Test func unsetVariableInPlainValue() throws {
        let error = try #require(ConfigFixtures.singleError("state_directory: ${STATE_DIR}\n"))
        #expect(error.key == "state_directory")
        #expect(error.line == 1)
        #expect(error.column == 18)
        #expect(error.message.contains("`STATE_DIR` is not set"))
    }

    @Test func invalidVariableReference() throws {
        let error = try #require(ConfigFixtures.singleError("state_directory: ${9LIVES}\n"))
        #expect(error.key == "state_directory")
        #expect(error.message.contains("got `9LIVES`"))
    }

    @Test func yamlSyntaxError() throws {
        let text = "jobs:\n  nightly:\n    train: python train.py: --x\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.line == 3)
        #expect(error.column == 27)
        #expect(error.key == "")
        #expect(error.message == "invalid YAML: mapping values are not allowed in this context")
        #expect(error.fix.contains("quotes"))
    }

    @Test func yamlSyntaxErrorWithContext() throws {
        let error = try #require(ConfigFixtures.singleError("hub:\n  token: \"abc\n"))
        #expect(error.line == 3)
        #expect(error.column == 1)
        #expect(
            error.message
                == "invalid YAML: found unexpected end of stream (while scanning a quoted scalar at line 2, column 10)"
        )
        #expect(error.fix == "close the quote that opens at line 2, column 10")
    }

    @Test func tabIndentationError() throws {
        let error = try #require(ConfigFixtures.singleError("hub:\n\ttoken: abc\n"))
        #expect(error.line == 2)
        #expect(error.fix.contains("tabs"))
    }

    @Test func secondDocumentIsRejected() throws {
        let error = try #require(ConfigFixtures.singleError("log_level: info\n---\nlog_level: debug\n"))
        #expect(error.line == 2)
        #expect(error.column == 1)
        #expect(error.message.contains("second YAML document"))
    }

    @Test func undefinedAlias() throws {
        let error = try #require(ConfigFixtures.singleError("hub: *defaults\n"))
        #expect(error.line == 1)
        #expect(error.column == 6)
        #expect(error.message.contains("`*defaults`"))
    }

    @Test(arguments: ["", "\n\n", "# nothing here yet\n", "---\n", "~\n"])
    func emptyFile(text: String) throws {
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.line == 0)
        #expect(error.column == 0)
        #expect(error.message.hasPrefix("the config file is empty"))
    }

    @Test func topLevelListIsRejected() throws {
        let error = try #require(ConfigFixtures.singleError("- a\n- b\n"))
        #expect(error.line == 1)
        #expect(error.column == 1)
        #expect(error.message == "expected a map of settings at the top level, got a list")
    }

    @Test(arguments: [
        "justname", "org/name/extra", "/name", "org/", "org/na me", "org/-name", "org--x/name", "org/a..b",
        "org/repo.git", "org/café", "org/" + String(repeating: "n", count: 97),
    ])
    func invalidRepoID(repo: String) throws {
        let text = ConfigFixtures.minimal(replacing: "repo: org/dataset", with: "repo: \"\(repo)\"")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.dataset.repo")
        #expect(error.line == 15)
        #expect(error.column == 13)
        #expect(error.message.hasPrefix("invalid repo id `\(repo)`: expected `namespace/name`"))
    }

    @Test func validRepoIDs() {
        for repo in ["org/model", "Org-1/model_v2.1", "a/b", "user/x.y-z_w"] {
            #expect(ConfigReader.isValidRepoID(repo), "\(repo)")
        }
    }

    @Test(arguments: [
        ("/abs/model.bin", "absolute path"),
        ("../model.bin", "contains `..`"),
        ("out/../../model.bin", "contains `..`"),
        ("~/model.bin", "starts with `~`"),
    ])
    func invalidOutputPath(path: String, problem: String) throws {
        let text = ConfigFixtures.minimal(
            replacing: "outputs: [model.safetensors]",
            with: "outputs:\n        - ok.bin\n        - \(path)"
        )
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.model.outputs[1]")
        #expect(error.line == 21)
        #expect(error.column == 11)
        #expect(error.message.contains(problem))
    }

    @Test func emptyOutputList() throws {
        let text = ConfigFixtures.minimal(replacing: "outputs: [model.safetensors]", with: "outputs: []")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.model.outputs")
        #expect(error.line == 19)
        #expect(error.column == 16)
    }

    @Test func datasetDirectoryMustBeRelative() throws {
        let text = ConfigFixtures.minimal(
            replacing: "repo: org/dataset",
            with: "repo: org/dataset\n      directory: ../data"
        )
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.dataset.directory")
        #expect(error.line == 16)
        #expect(error.column == 18)
    }

    @Test func jobsRequirePaperspaceKeyAndHubToken() {
        let text = ConfigFixtures.minimal(
            replacing: "paperspace:\n  api_key: ${PAPERSPACE_API_KEY}\nhub:\n",
            with: "hub:\n"
        )
        .replacingOccurrences(of: "  token: ${HF_TOKEN}\n", with: "  endpoint: https://huggingface.co\n")
        let errors = ConfigFixtures.diagnostics(text)
        #expect(errors.count == 2)
        #expect(errors.map(\.key) == ["paperspace.api_key", "hub.token"])
        // Without a `paperspace:` section the error points at the top-level map, and at the section otherwise.
        #expect(errors.map(\.line) == [1, 2])
        #expect(errors.map(\.column) == [1, 3])
        #expect(errors.first?.message.contains("training jobs need it to create and delete machines") == true)
        #expect(errors.last?.message.contains("jobs need it to download datasets") == true)
    }

    @Test func invalidJobName() throws {
        let text = ConfigFixtures.minimal(replacing: "  nightly:", with: "  Nightly_Train:")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.Nightly_Train")
        #expect(error.line == 6)
        #expect(error.column == 3)
        #expect(error.fix == "rename it, for example to `nightly-train`")
    }

    @Test func jobNameTooLong() throws {
        let name = "a" + String(repeating: "b", count: 40)
        let text = ConfigFixtures.minimal(replacing: "  nightly:", with: "  \(name):")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.message.contains("at most 40 characters, and it has 41"))
    }

    @Test(arguments: ["nightly", "a", "job-2", String(repeating: "a", count: 40)])
    func validNames(name: String) {
        #expect(ConfigReader.isValidName(name))
    }

    @Test(arguments: ["", "2nightly", "-job", "Job", "job_1", "jöb", String(repeating: "a", count: 41)])
    func invalidNames(name: String) {
        #expect(!ConfigReader.isValidName(name))
    }

    @Test func scheduleValidatorMessage() throws {
        let error = try #require(
            ConfigFixtures.singleError(ConfigFixtures.minimal) { schedule in
                schedule == "0 3 * * *" ? "hour field 3 is fine but this test rejects it" : nil
            }
        )
        #expect(error.key == "jobs.nightly.schedule")
        #expect(error.line == 7)
        #expect(error.column == 15)
        #expect(error.message == "invalid schedule `0 3 * * *`: hour field 3 is fine but this test rejects it")
    }

    @Test func webhookRequiresSecret() throws {
        let text = "notifiers:\n  hook:\n    type: webhook\n    url: ${HOOK_URL}\n"
        let error = try #require(
            ConfigFixtures.singleError(text, environment: ["HOOK_URL": "https://hooks.example.com/x"])
        )
        #expect(error.key == "notifiers.hook.secret")
        #expect(error.line == 3)
        #expect(error.column == 5)
    }

    @Test func slackRejectsSecret() throws {
        let text = "notifiers:\n  chat:\n    type: slack\n    url: ${HOOK_URL}\n    secret_file: /run/x\n"
        let errors = ConfigFixtures.diagnostics(text, environment: ["HOOK_URL": "https://hooks.slack.com/x123456"])
        let error = try #require(
            errors.first { $0.key == "notifiers.chat.secret_file" && $0.message.contains("applies only") }
        )
        #expect(error.line == 5)
        #expect(error.column == 5)
    }

    @Test func unknownNotifierType() throws {
        let text = "notifiers:\n  chat:\n    type: slak\n    url: ${HOOK_URL}\n"
        let error = try #require(
            ConfigFixtures.singleError(text, environment: ["HOOK_URL": "https://hooks.slack.com/x123456"])
        )
        #expect(error.key == "notifiers.chat.type")
        #expect(error.line == 3)
        #expect(error.column == 11)
        #expect(error.message.hasPrefix("unknown notifier type `slak`: expected one of `slack`, `webhook`"))
        #expect(error.message.hasSuffix(", did you mean `slack`?"))
    }

    @Test func unknownEvent() throws {
        let text = "notifiers:\n  chat:\n    type: slack\n    url: ${HOOK_URL}\n    events: [run_started, run_faild]\n"
        let error = try #require(
            ConfigFixtures.singleError(text, environment: ["HOOK_URL": "https://hooks.slack.com/x123456"])
        )
        #expect(error.key == "notifiers.chat.events[1]")
        #expect(error.line == 5)
        #expect(error.column == 27)
        #expect(error.message.hasPrefix("unknown event `run_faild`: expected one of `run_started`"))
        #expect(error.message.hasSuffix(", did you mean `run_failed`?"))
    }

    @Test func bothSecretSourcesAreRejected() throws {
        let text = "paperspace:\n  api_key: ${KEY}\n  api_key_file: /run/key\n"
        let error = try #require(ConfigFixtures.singleError(text, environment: ["KEY": "abcdef123456"]))
        #expect(error.key == "paperspace.api_key_file")
        #expect(error.line == 3)
        #expect(error.column == 3)
    }

    @Test func invalidLogLevel() throws {
        let error = try #require(ConfigFixtures.singleError("log_level: warn\n"))
        #expect(error.key == "log_level")
        #expect(error.line == 1)
        #expect(error.column == 12)
        #expect(error.message.hasSuffix("`critical`, did you mean `warning`?"))
    }

    @Test func diskSizeMustBeWholeNumber() throws {
        let text = ConfigFixtures.minimal(
            replacing: "      region: ny2\n",
            with: "      region: ny2\n      disk_size: 50GB\n"
        )
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.machine.disk_size")
        #expect(error.line == 12)
        #expect(error.column == 18)
        #expect(error.message == "expected a whole number, got `50GB`")
    }

    @Test func invalidEnvironmentName() throws {
        let text = ConfigFixtures.minimal + "    env:\n      hf-home: /data\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.nightly.env.hf-home")
        #expect(error.line == 21)
        #expect(error.column == 7)
        #expect(error.fix.contains("`HF_HOME`"))
    }

    @Test func invalidEndpointURL() throws {
        let error = try #require(ConfigFixtures.singleError("paperspace:\n  endpoint: api.paperspace.com\n"))
        #expect(error.key == "paperspace.endpoint")
        #expect(error.line == 2)
        #expect(error.column == 13)
    }

    @Test func relativeStateDirectory() throws {
        let error = try #require(ConfigFixtures.singleError("state_directory: var/lib/nightshift\n"))
        #expect(error.key == "state_directory")
        #expect(error.line == 1)
        #expect(error.column == 18)
    }

    @Test func allErrorsAreReportedInOrder() {
        let text = """
            log_level: loud
            time_zone: Nowhere/City
            paperspace:
              api_key: ${PAPERSPACE_API_KEY}
              name_prefx: ns
            hub:
              token: ${HF_TOKEN}
            jobs:
              nightly:
                schedule: "0 3 * * *"
                machine: { type: A4000, template: t0nspur5, region: ny2, disk_size: -1 }
                repository: { url: https://github.com/org/repo.git }
                dataset: { repo: dataset-without-namespace }
                train: python train.py
                model: { repo: org/model, outputs: [/abs/out.bin] }
                poll: { running: soon }
                notify: [nobody]

            """
        let errors = ConfigFixtures.diagnostics(text)
        #expect(
            errors.map(\.key) == [
                "log_level",
                "time_zone",
                "paperspace.name_prefx",
                "jobs.nightly.machine.disk_size",
                "jobs.nightly.dataset.repo",
                "jobs.nightly.model.outputs[0]",
                "jobs.nightly.poll.running",
                "jobs.nightly.notify[0]",
            ]
        )
        #expect(errors.map(\.line) == [1, 2, 5, 11, 13, 15, 16, 17])
        #expect(errors.allSatisfy { $0.severity == .error })
        #expect(errors.allSatisfy { !$0.fix.isEmpty })
    }

    @Test func errorDescriptionListsEveryDiagnostic() {
        do {
            _ = try ConfigFixtures.load("log_level: loud\ntime_zone: Nowhere/City\n")
            Issue.record("expected an error")
        } catch {
            let lines = error.description.split(separator: "\n").map(String.init)
            #expect(lines.first == "2 errors in the configuration")
            #expect(
                lines.contains {
                    $0.hasPrefix("/etc/nightshift/nightshift.yaml:1:12: error: log_level: unknown log level")
                }
            )
            #expect(
                lines.contains {
                    $0.hasPrefix("/etc/nightshift/nightshift.yaml:2:12: error: time_zone: unknown time zone")
                }
            )
        }
    }
}

@Suite struct ConfigLimitTests {
    @Test func deepNestingIsRejectedNotCrashed() throws {
        let text = "jobs: " + String(repeating: "[", count: 40_000) + String(repeating: "]", count: 40_000) + "\n"
        #expect(throws: ConfigError.self) {
            _ = try ConfigLoader.load(text: text, path: "deep.yaml", environment: [:])
        }
        do {
            _ = try ConfigLoader.load(text: text, path: "deep.yaml", environment: [:])
        } catch {
            #expect(error.description.contains("nested more than 64 levels"))
        }
    }

    @Test func chainedMergesStopAtLimit() throws {
        var text = "x-m0: &m0 {k0: 1}\n"
        for level in 1...24 {
            text += "x-m\(level): &m\(level) {<<: [*m\(level - 1), *m\(level - 1)], k\(level): 1}\n"
        }
        text += "jobs:\n  j:\n    <<: *m24\n"
        let started = Date()
        do {
            _ = try ConfigLoader.load(text: text, path: "merge.yaml", environment: [:])
            Issue.record("a merge chain of 2^24 maps loaded")
        } catch {
            #expect(error.description.contains("merge keys expand to more than"))
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }
}

@Suite struct ConfigMergeLimitTests {
    @Test func wideMergeChainsStopQuickly() throws {
        let keys = (0..<300).map { "K\($0): v" }.joined(separator: ", ")
        var chain = "&e0 {\(keys)}"
        for level in 1...39 {
            chain += ", &e\(level) {<<: [*e\(level - 1), *e\(level - 1)]}"
        }
        let text = "jobs:\n  j:\n    env:\n      <<: [\(chain)]\n"
        let started = Date()
        #expect(throws: ConfigError.self) {
            _ = try ConfigLoader.load(text: text, path: "wide.yaml", environment: [:])
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
