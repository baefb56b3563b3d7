import Foundation
import Testing

@testable import Config

/// A config with one `hub_upload` job and no Paperspace section.
private let uploadOnly = """
    hub:
      token: ${HF_TOKEN}
    jobs:
      ticks:
        kind: hub_upload
        schedule: "30 1 * * *"
        local_dir: /srv/market/ticks
        repo: org/gold-ticks

    """

@Suite struct UploadJobConfigTests {
    @Test func uploadJobUsesDefaults() throws {
        let configuration = try ConfigFixtures.load(uploadOnly)
        #expect(configuration.jobs.isEmpty)
        let job = try #require(configuration.uploadJob(named: "ticks"))
        #expect(job.localDirectory == "/srv/market/ticks")
        #expect(job.repo == "org/gold-ticks")
        #expect(job.repoType == "dataset")
        #expect(job.revision == "main")
        #expect(job.pathInRepo == "ticks")
        #expect(job.commitMessage == "Upload tick data")
        #expect(job.ifEmpty == .fail)
        #expect(job.maxDuration == 7200)
        #expect(job.include.isEmpty)
        #expect(configuration.jobNames == ["ticks"])
    }

    @Test func uploadJobReadsEveryKey() throws {
        let text = uploadOnly.replacingOccurrences(
            of: "    repo: org/gold-ticks\n",
            with: """
                    repo: org/gold-ticks
                    repo_type: model
                    revision: data
                    path_in_repo: /raw/ticks/
                    include: ["*.csv", "2026/**"]
                    commit_message: Nightly ticks
                    if_empty: succeed
                    max_duration: 30m
                    time_zone: Europe/London

                """
        )
        let job = try #require(try ConfigFixtures.load(text).uploadJob(named: "ticks"))
        #expect(job.repoType == "model")
        #expect(job.revision == "data")
        #expect(job.pathInRepo == "raw/ticks")
        #expect(job.include == ["*.csv", "2026/**"])
        #expect(job.commitMessage == "Nightly ticks")
        #expect(job.ifEmpty == .succeed)
        #expect(job.maxDuration == 1800)
        #expect(job.timeZone == "Europe/London")
    }

    @Test func uploadJobNeedsHubTokenOnly() {
        let withoutToken = uploadOnly.replacingOccurrences(of: "  token: ${HF_TOKEN}\n", with: "")
        let errors = ConfigFixtures.diagnostics(withoutToken)
        #expect(errors.map(\.key) == ["hub.token"])
    }

    @Test func relativeLocalDirIsRejected() throws {
        let text = uploadOnly.replacingOccurrences(of: "/srv/market/ticks", with: "workspace/raw_data/ticks")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.ticks.local_dir")
        #expect(error.line == 7)
        #expect(error.column == 16)
        #expect(error.message.contains("expected an absolute path"))
    }

    @Test func unknownKindSuggestsTheClosest() throws {
        let text = uploadOnly.replacingOccurrences(of: "kind: hub_upload", with: "kind: hub_uplaod")
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.ticks.kind")
        #expect(error.message.contains("did you mean `hub_upload`"))
    }

    @Test func trainingKeyInUploadJobIsRejected() throws {
        let text = uploadOnly.replacingOccurrences(
            of: "    repo: org/gold-ticks\n",
            with: "    repo: org/gold-ticks\n    train: python x.py\n"
        )
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "jobs.ticks.train")
    }

    @Test func invalidChoicesAndFolders() {
        let text = uploadOnly.replacingOccurrences(
            of: "    repo: org/gold-ticks\n",
            with: "    repo: org/gold-ticks\n    if_empty: maybe\n    repo_type: space\n    path_in_repo: a/../b\n"
        )
        let errors = ConfigFixtures.diagnostics(text)
        #expect(errors.map(\.key) == ["jobs.ticks.if_empty", "jobs.ticks.repo_type", "jobs.ticks.path_in_repo"])
    }

    @Test func trainingDataUploadDefaultsToDatasetRepo() throws {
        let text = ConfigFixtures.minimal.replacingOccurrences(
            of: "    train: python train.py\n",
            with: "    train: python train.py\n    upload_training_data:\n      root: /srv/ml\n"
        )
        let job = try #require(try ConfigFixtures.load(text).job(named: "nightly"))
        let upload = try #require(job.trainingDataUpload)
        #expect(upload.root == "/srv/ml")
        #expect(upload.repo == "org/dataset")
        #expect(upload.includeScalers)
        #expect(!upload.includeCache)
        #expect(upload.commitMessage == "Upload training data")
    }

    @Test func trainingDataUploadReadsBooleans() throws {
        let text = ConfigFixtures.minimal.replacingOccurrences(
            of: "    train: python train.py\n",
            with: """
                    train: python train.py
                    upload_training_data: {root: /srv/ml, repo: org/other, include_scalers: false, include_cache: TRUE}

                """
        )
        let upload = try #require(try ConfigFixtures.load(text).job(named: "nightly")?.trainingDataUpload)
        #expect(upload.repo == "org/other")
        #expect(!upload.includeScalers)
        #expect(upload.includeCache)
        let broken = text.replacingOccurrences(of: "include_cache: TRUE", with: "include_cache: yes")
        let error = try #require(ConfigFixtures.singleError(broken))
        #expect(error.key == "jobs.nightly.upload_training_data.include_cache")
        #expect(error.message.contains("expected true or false"))
    }
}
