import Foundation

/// The repo types a `hub_upload` job can write to.
private enum UploadRepoType: String, CaseIterable {
    case dataset
    case model
}

extension ConfigReader {
    /// The job kinds a `kind:` key accepts. A job without `kind` is a training job.
    static let jobKinds = ["training", "hub_upload"]
    static let uploadJobKeys =
        [
            "kind", "schedule", "time_zone", "local_dir", "repo", "repo_type", "revision", "path_in_repo", "include",
            "commit_message", "if_empty", "max_duration", "notify",
        ] + ConfigReader.timingKeys
    static let trainingUploadKeys = ["root", "repo", "include_scalers", "include_cache", "commit_message"]

    /// Returns the job's `kind`, or nil after recording an error for an unknown one.
    func jobKind(_ entry: MappingView.Entry) -> String? {
        guard case .mapping(let pairs) = entry.value.content,
            let pair = pairs.first(where: { $0.key.scalarValue == "kind" })
        else {
            return "training"
        }
        let path = entry.name.isEmpty ? "kind" : "jobs.\(entry.name).kind"
        guard let kind = self.scalar(pair.value, path: path, expected: "a job kind")?.value else { return nil }
        guard ConfigReader.jobKinds.contains(kind) else {
            let suggestion = Suggestions.closest(to: kind, in: ConfigReader.jobKinds)
            self.error(
                pair.value.position,
                path,
                "unknown job kind `\(kind)`: expected \(Suggestions.list(ConfigReader.jobKinds))"
                    + ConfigReader.didYouMean(suggestion),
                fix: "write `kind: hub_upload` for a scheduled Hub upload, or leave `kind` out for a training job"
            )
            return nil
        }
        return kind
    }

    /// Reads a `hub_upload` job. Returns nil when it has errors.
    func uploadJob(
        _ entry: MappingView.Entry,
        path: String,
        defaultTimeZone: String,
        declaredNotifiers: [String],
        defaultNotify: [String]
    ) -> UploadJob? {
        guard let view = self.mapping(entry.value, path: path, allowedKeys: ConfigReader.uploadJobKeys) else {
            return nil
        }
        let schedule = self.schedule(view)
        let timeZone = self.timeZone(view, "time_zone")
        let localDirectory = self.localDirectory(view, "local_dir", example: "/srv/market/ticks", required: true)
        let repo = self.repoID(view, "repo", example: "org/ticks")
        let repoType = self.choice(view, "repo_type", UploadRepoType.self)
        let revision = self.string(view, "revision").flatMap { revision in
            self.checkNoWhitespace(revision, view: view, name: "revision", expected: "a branch", example: "main")
        }
        var pathInRepo: String?
        if let text = self.string(view, "path_in_repo") {
            let position = view.value("path_in_repo")!.position
            pathInRepo = self.repoPath(text, position: position, path: view.path(of: "path_in_repo"))
        }
        let include = self.stringList(view, "include")?.map(\.value)
        let message = self.nonEmptyString(view, "commit_message", example: UploadJob.defaultCommitMessage)
        let ifEmpty = self.choice(view, "if_empty", UploadJob.EmptyOutcome.self)
        let maxDuration = self.duration(view, "max_duration", range: 1...ConfigReader.maxJobDuration, example: "2h")
        let notify = self.notify(view, declaredNotifiers: declaredNotifiers)
        let timing = self.timing(view)

        guard let schedule, let localDirectory, let repo else { return nil }
        return UploadJob(
            name: entry.name,
            schedule: schedule,
            timeZone: timeZone ?? defaultTimeZone,
            localDirectory: localDirectory,
            repo: repo,
            repoType: repoType?.rawValue ?? "dataset",
            revision: revision ?? "main",
            pathInRepo: pathInRepo ?? UploadJob.defaultPathInRepo,
            include: include ?? [],
            commitMessage: message ?? UploadJob.defaultCommitMessage,
            ifEmpty: ifEmpty ?? .fail,
            maxDuration: maxDuration ?? 7200,
            notify: notify ?? defaultNotify,
            firePolicy: timing
        )
    }

    /// Reads a training job's optional `upload_training_data:` section.
    func trainingDataUpload(_ view: MappingView, datasetRepo: String?) -> TrainingDataUpload? {
        guard let node = view.value("upload_training_data") else { return nil }
        let path = view.path(of: "upload_training_data")
        guard let section = self.mapping(node, path: path, allowedKeys: ConfigReader.trainingUploadKeys) else {
            return nil
        }
        let root = self.localDirectory(section, "root", example: "/srv/ml", required: true)
        let repo = section.value("repo") == nil ? datasetRepo : self.repoID(section, "repo", example: "org/dataset")
        let scalers = self.bool(section, "include_scalers")
        let cache = self.bool(section, "include_cache")
        let message = self.nonEmptyString(section, "commit_message", example: TrainingDataUpload.defaultCommitMessage)
        guard let root, let repo else { return nil }
        return TrainingDataUpload(
            root: root,
            repo: repo,
            includeScalers: scalers ?? true,
            includeCache: cache ?? false,
            commitMessage: message ?? TrainingDataUpload.defaultCommitMessage
        )
    }

    /// Reads `true` or `false`, in any letter case.
    func bool(_ view: MappingView, _ name: String) -> Bool? {
        guard let node = view.value(name) else { return nil }
        let path = view.path(of: name)
        guard let expanded = self.scalar(node, path: path, expected: "true or false") else { return nil }
        switch expanded.value.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true": return true
        case "false": return false
        default:
            self.error(
                node.position,
                path,
                "expected true or false, got `\(expanded.value)`\(ConfigReader.origin(expanded))",
                fix: "write `\(name): true` or `\(name): false`"
            )
            return nil
        }
    }

    /// Reads an optional string that must not be blank when present.
    func nonEmptyString(_ view: MappingView, _ name: String, example: String) -> String? {
        guard view.entry(name) != nil else { return nil }
        return self.requiredString(view, name, example: example)
    }

    /// Reads an absolute directory path. The directory need not exist yet: a run checks it when it starts.
    func localDirectory(_ view: MappingView, _ name: String, example: String, required: Bool) -> String? {
        guard view.entry(name) != nil else {
            if required { self.missing(view, name, expected: "an absolute directory path", example: example) }
            return nil
        }
        guard let text = self.requiredString(view, name, example: example) else { return nil }
        guard text.hasPrefix("/") else {
            self.error(
                view.value(name)!.position,
                view.path(of: name),
                "invalid path `\(text)`: expected an absolute path, because the daemon's working directory is `/`",
                fix: "write the full path, such as `\(example)`"
            )
            return nil
        }
        return text
    }

    /// Checks a folder path inside a Hub repo: relative, no `..`, `.git` or `.cache` part.
    func repoPath(_ text: String, position: SourcePosition, path: String) -> String? {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let parts = trimmed.split(separator: "/")
        guard !trimmed.isEmpty, !parts.contains(where: { [".", "..", ".git", ".cache"].contains($0) }) else {
            self.error(
                position,
                path,
                "invalid folder `\(text)`: expected a folder inside the repo without `.`, `..`, `.git` "
                    + "or `.cache` parts",
                fix: "write a folder such as `ticks` or `data/ticks`"
            )
            return nil
        }
        return trimmed
    }
}
