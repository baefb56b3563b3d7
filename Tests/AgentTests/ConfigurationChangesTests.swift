import Config
import Testing

@testable import Agent

struct ConfigurationChangesTests {
    func job(_ name: String, schedule: String = "0 3 * * *", train: String = "python3 train.py") -> TrainingJob {
        TrainingJob(
            name: name,
            schedule: schedule,
            machine: MachineSpec(type: "C5", template: "t0nspur5", region: "ny2"),
            repositoryURL: "https://example.invalid/repo.git",
            datasetRepo: "team/data",
            trainCommand: train,
            modelRepo: "team/model",
            outputs: ["model"]
        )
    }

    func notifier(_ name: String, url: String) -> NotifierSettings {
        NotifierSettings(name: name, kind: .slack, url: Secret(value: url, source: .inline))
    }

    @Test func changesListAddedRemovedChanged() {
        let old = Configuration(
            sourcePath: "a.yaml",
            notifiers: [
                self.notifier("slack", url: "http://127.0.0.1:1/a"), self.notifier("old", url: "http://127.0.0.1:1/b"),
            ],
            jobs: [self.job("kept"), self.job("edited"), self.job("dropped")]
        )
        let new = Configuration(
            sourcePath: "a.yaml",
            logLevel: .debug,
            notifiers: [
                self.notifier("slack", url: "http://127.0.0.1:1/a"),
                self.notifier("fresh", url: "http://127.0.0.1:1/c"),
            ],
            jobs: [
                self.job("kept"), self.job("edited", train: "python3 train.py --epochs 5"), self.job("added"),
            ]
        )
        let changes = ConfigurationChanges(from: old, to: new)
        #expect(changes.jobsAdded == ["added"])
        #expect(changes.jobsRemoved == ["dropped"])
        #expect(changes.jobsChanged == ["edited"])
        #expect(changes.notifiersAdded == ["fresh"])
        #expect(changes.notifiersRemoved == ["old"])
        #expect(changes.notifiersChanged.isEmpty)
        #expect(changes.needsRestart == ["log_level"])
        #expect(!changes.isEmpty)
    }

    @Test func identicalConfigsHaveNoChanges() {
        let config = Configuration(sourcePath: "a.yaml", jobs: [self.job("nightly")])
        #expect(ConfigurationChanges(from: config, to: config).isEmpty)
    }

    @Test func timingKeyFollowsScheduleOnly() {
        let before = Configuration(
            sourcePath: "a.yaml",
            jobs: [self.job("nightly"), self.job("hourly", schedule: "0 * * * *")]
        )
        let after = Configuration(
            sourcePath: "a.yaml",
            jobs: [self.job("nightly", train: "python3 other.py"), self.job("hourly", schedule: "30 * * * *")]
        )
        let old = ConfigurationChanges.timingKeys(before)
        let new = ConfigurationChanges.timingKeys(after)
        // A changed command keeps the tracker, but a changed schedule gets a new one.
        #expect(old["nightly"] == new["nightly"])
        #expect(old["hourly"] != new["hourly"])
    }
}

struct ConfigurationFingerprintTests {
    @Test func secretChangeCountsAsChanged() {
        let first = NotifierSettings(
            name: "a",
            kind: .slack,
            url: Secret(value: "http://127.0.0.1:1/x", source: .inline)
        )
        let second = NotifierSettings(
            name: "a",
            kind: .slack,
            url: Secret(value: "http://127.0.0.1:1/y", source: .inline)
        )
        #expect(ConfigurationChanges.fingerprint(first) != ConfigurationChanges.fingerprint(second))
    }

    @Test func setOrderDoesNotMatter() {
        var first = NotifierSettings(name: "a", kind: .slack, url: nil)
        var second = first
        first.events = [.started, .failed, .succeeded, .missed]
        second.events = [.missed, .succeeded, .failed, .started]
        #expect(ConfigurationChanges.fingerprint(first) == ConfigurationChanges.fingerprint(second))
    }
}
