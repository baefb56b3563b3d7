import Foundation
import Schedules
import Support

extension ConfigReader {
    static let jobKeys =
        [
            "schedule", "time_zone", "machine", "repository", "setup", "dataset", "train", "model", "env",
            "max_duration", "max_cost", "poll", "timeouts", "notify", "kind", "upload_training_data",
        ] + ConfigReader.timingKeys
    static let machineKeys = ["type", "template", "region", "disk_size", "hourly_rate"]
    static let repositoryKeys = ["url", "ref"]
    static let datasetKeys = ["repo", "revision", "directory"]
    static let modelKeys = ["repo", "outputs"]
    static let pollKeys = ["startup", "running", "teardown"]
    static let timeoutKeys = ["ready", "stop", "delete", "teardown"]

    /// The longest allowed `max_duration`: one week, in seconds.
    static let maxJobDuration: Double = 168 * 3600

    /// Reads the `jobs:` map: training jobs and `hub_upload` jobs. Jobs with errors are left out of the result.
    func jobs(_ root: MappingView, defaultTimeZone: String, notifierNames: [String]) -> (
        training: [TrainingJob], uploads: [UploadJob]
    ) {
        guard let node = root.value("jobs"), let view = self.mapping(node, path: "jobs", allowedKeys: nil) else {
            return ([], [])
        }
        // Names as written, including notifiers with errors, so `notify` does not report them a second time.
        let declaredNotifiers =
            notifierNames
            + ConfigReader.keyNames(root.value("notifiers")).filter { name in
                !notifierNames.contains(name)
            }
        var jobs: [TrainingJob] = []
        var uploads: [UploadJob] = []
        for entry in view.entries {
            let path = view.path(of: entry.name)
            let nameIsValid = self.checkName(entry, path: path, kind: "job")
            guard let kind = self.jobKind(entry) else { continue }
            if kind == "hub_upload" {
                let upload = self.uploadJob(
                    entry,
                    path: path,
                    defaultTimeZone: defaultTimeZone,
                    declaredNotifiers: declaredNotifiers,
                    defaultNotify: notifierNames
                )
                if let upload, nameIsValid { uploads.append(upload) }
                continue
            }
            let job = self.job(
                entry,
                path: path,
                defaultTimeZone: defaultTimeZone,
                declaredNotifiers: declaredNotifiers,
                defaultNotify: notifierNames
            )
            if let job, nameIsValid {
                jobs.append(job)
            }
        }
        return (jobs, uploads)
    }

    private static func keyNames(_ node: YAMLNode?) -> [String] {
        guard let node, case .mapping(let pairs) = node.content else { return [] }
        return pairs.compactMap { $0.key.scalarValue }
    }

    private func job(
        _ entry: MappingView.Entry,
        path: String,
        defaultTimeZone: String,
        declaredNotifiers: [String],
        defaultNotify: [String]
    ) -> TrainingJob? {
        guard let view = self.mapping(entry.value, path: path, allowedKeys: ConfigReader.jobKeys) else { return nil }

        let schedule = self.schedule(view)
        let timeZone = self.timeZone(view, "time_zone")
        let machine = self.section(view, "machine", example: "{ type: A4000, template: t0nspur5, region: ny2 }")
            .flatMap(self.machine)
        let repository = self.section(view, "repository", example: "{ url: https://github.com/org/repo.git }")
            .flatMap(self.repository)
        let setup = self.string(view, "setup")
        let dataset = self.section(view, "dataset", example: "{ repo: org/dataset }").flatMap(self.dataset)
        let train = self.requiredString(view, "train", example: "python train.py")
        let model = self.section(view, "model", example: "{ repo: org/model, outputs: [model.safetensors] }")
            .flatMap(self.model)
        let environment = self.environmentVariables(view)
        let maxDuration = self.duration(view, "max_duration", range: 1...ConfigReader.maxJobDuration, example: "6h")
        let poll = self.pollIntervals(view)
        let timeouts = self.stateTimeouts(view)
        let notify = self.notify(view, declaredNotifiers: declaredNotifiers)
        let trainingUpload = self.trainingDataUpload(view, datasetRepo: dataset?.repo)
        let timing = self.timing(view)
        let maxCost = self.maxCost(view, machine: machine)

        guard let schedule, let machine, let repository, let dataset, let train, let model else { return nil }
        var job = TrainingJob(
            name: entry.name,
            schedule: schedule,
            timeZone: timeZone ?? defaultTimeZone,
            machine: machine,
            repositoryURL: repository.url,
            repositoryRef: repository.ref,
            setupCommand: setup ?? TrainingJob.defaultSetupCommand,
            datasetRepo: dataset.repo,
            datasetRevision: dataset.revision,
            datasetDirectory: dataset.directory,
            trainCommand: train,
            modelRepo: model.repo,
            outputs: model.outputs,
            environment: environment,
            maxDuration: maxDuration ?? 21600,
            poll: poll,
            timeouts: timeouts,
            notify: notify ?? defaultNotify,
            trainingDataUpload: trainingUpload,
            firePolicy: timing
        )
        job.maxCost = maxCost
        return job
    }

    /// The keys of both job kinds that say when a fire starts: catch-up, deadline, overlap and jitter.
    static let timingKeys = ["catch_up", "starting_deadline", "overlap", "jitter", "jitter_mode"]

    /// Reads `catch_up`, `starting_deadline`, `overlap`, `jitter` and `jitter_mode`, with their defaults.
    func timing(_ view: MappingView) -> FirePolicy {
        let catchUp = self.choice(view, "catch_up", CatchUpPolicy.self)
        let deadline = self.duration(view, "starting_deadline", range: 1...ConfigReader.maxJobDuration, example: "1h")
        let overlap = self.choice(view, "overlap", OverlapPolicy.self)
        let jitterLimit = self.duration(view, "jitter", range: 0...86_400, example: "10m")
        let jitterMode = self.choice(view, "jitter_mode", Jitter.Mode.self)
        return FirePolicy(
            catchUp: catchUp ?? .latest,
            startingDeadline: deadline ?? CatchUpPlanner.defaultStartingDeadline,
            overlap: overlap ?? .skip,
            jitter: Jitter(limit: jitterLimit ?? 0, mode: jitterMode ?? .stable)
        )
    }

    /// Reads one of the raw values of `Choice`, recording an error that lists them otherwise.
    func choice<Choice: RawRepresentable & CaseIterable>(_ view: MappingView, _ name: String, _: Choice.Type)
        -> Choice? where Choice.RawValue == String
    {
        guard let text = self.string(view, name) else { return nil }
        if let value = Choice(rawValue: text) {
            return value
        }
        let names = Choice.allCases.map(\.rawValue)
        let suggestion = Suggestions.closest(to: text, in: names)
        self.error(
            view.value(name)!.position,
            view.path(of: name),
            "invalid value `\(text)`: expected one of \(Suggestions.list(names))\(ConfigReader.didYouMean(suggestion))",
            fix: suggestion.map { "write `\($0)`" } ?? "write one of \(Suggestions.list(names))"
        )
        return nil
    }

    /// Returns the view of a required sub-map, recording an error when it is missing.
    private func section(_ view: MappingView, _ name: String, example: String) -> MappingView? {
        guard let node = view.value(name) else {
            self.missing(view, name, expected: "a map", example: example)
            return nil
        }
        guard !node.isNull else {
            self.error(
                node.position,
                view.path(of: name),
                "expected a map of keys, got an empty value",
                fix: "write the keys indented under `\(name):`, or on one line as `\(name): \(example)`"
            )
            return nil
        }
        let keys: [String] =
            switch name {
            case "machine": ConfigReader.machineKeys
            case "repository": ConfigReader.repositoryKeys
            case "dataset": ConfigReader.datasetKeys
            default: ConfigReader.modelKeys
            }
        return self.mapping(node, path: view.path(of: name), allowedKeys: keys)
    }

    func schedule(_ view: MappingView) -> String? {
        guard let schedule = self.requiredString(view, "schedule", example: "\"0 3 * * 1\"") else { return nil }
        guard let problem = self.scheduleValidator(schedule) else { return schedule }
        self.error(
            view.value("schedule")!.position,
            view.path(of: "schedule"),
            "invalid schedule `\(schedule)`: \(problem)",
            fix: "write five cron fields (minute hour day-of-month month day-of-week) such as `0 3 * * 1`, "
                + "a macro such as `@weekly`, or a systemd calendar expression such as `Mon *-*-* 03:00`"
        )
        return nil
    }

    private func machine(_ view: MappingView) -> MachineSpec? {
        let type = self.requiredString(view, "type", example: "A4000")
        let template = self.requiredString(view, "template", example: "t0nspur5")
        let region = self.requiredString(view, "region", example: "ny2")
        var diskSize = self.integer(view, "disk_size", example: "50")
        if let size = diskSize, size <= 0 {
            self.error(
                view.value("disk_size")!.position,
                view.path(of: "disk_size"),
                "disk size \(size) is out of range: expected a positive number of GB",
                fix: "write a size in GB such as `50`, or remove the key for the default of 50"
            )
            diskSize = nil
        }
        var hourlyRate = self.decimal(view, "hourly_rate", example: "0.76")
        if let rate = hourlyRate, rate < 0 {
            self.error(
                view.value("hourly_rate")!.position,
                view.path(of: "hourly_rate"),
                "hourly rate \(rate) is out of range: expected US dollars per hour, 0 or more",
                fix: "write the machine's price per hour, such as `0.76`"
            )
            hourlyRate = nil
        }
        guard let type, let template, let region else { return nil }
        return MachineSpec(
            type: type,
            template: template,
            region: region,
            diskSize: diskSize ?? 50,
            hourlyRate: hourlyRate
        )
    }

    private func repository(_ view: MappingView) -> (url: String, ref: String)? {
        let url = self.requiredString(view, "url", example: "https://github.com/org/repo.git")
        if let url {
            self.checkRepositoryURL(url, position: view.value("url")!.position, path: view.path(of: "url"))
        }
        let ref = self.string(view, "ref").flatMap { ref in
            self.checkNoWhitespace(ref, view: view, name: "ref", expected: "a branch, tag or commit", example: "main")
        }
        guard let url else { return nil }
        return (url, ref ?? "main")
    }

    /// Checks a git URL. The message never shows the URL, because it may carry a password.
    private func checkRepositoryURL(_ url: String, position: SourcePosition, path: String) {
        if url.contains(where: { $0.isWhitespace }) {
            self.error(
                position,
                path,
                "invalid repository URL: expected a git URL without spaces, got one with whitespace",
                fix: "write a URL that `git clone` accepts, such as `https://github.com/org/repo.git`"
            )
        }
        guard let components = URLComponents(string: url), let password = components.password, !password.isEmpty else {
            return
        }
        // The URL is not a `Secret`, so at least keep its password out of the logs.
        SecretRedactor.shared.register(password)
        self.warning(
            position,
            path,
            "repository URL contains a password, but this key is not treated as a secret",
            fix: "use a deploy key or a credential helper on the template, or a public repository"
        )
    }

    func checkNoWhitespace(
        _ value: String,
        view: MappingView,
        name: String,
        expected: String,
        example: String
    ) -> String? {
        guard value.isEmpty || value.contains(where: { $0.isWhitespace }) else { return value }
        self.error(
            view.value(name)!.position,
            view.path(of: name),
            "invalid value `\(value)`: expected \(expected) without spaces",
            fix: "write a value such as `\(example)`"
        )
        return nil
    }

    private func dataset(_ view: MappingView) -> (repo: String, revision: String, directory: String)? {
        let repo = self.repoID(view, "repo", example: "org/dataset")
        let revision = self.string(view, "revision").flatMap { revision in
            self.checkNoWhitespace(
                revision,
                view: view,
                name: "revision",
                expected: "a branch, tag or commit",
                example: "main"
            )
        }
        var directory: String?
        if let text = self.string(view, "directory") {
            directory = self.relativePath(
                text,
                position: view.value("directory")!.position,
                path: view.path(of: "directory")
            )
        }
        guard let repo else { return nil }
        return (repo, revision ?? "main", directory ?? "data")
    }

    private func model(_ view: MappingView) -> (repo: String, outputs: [String])? {
        let repo = self.repoID(view, "repo", example: "org/model")
        var outputs: [String]?
        if view.entry("outputs") == nil {
            self.missing(
                view,
                "outputs",
                expected: "a list of paths relative to the clone",
                example: "[model.safetensors]"
            )
        } else if let items = self.stringList(view, "outputs") {
            outputs = items.compactMap { item in self.relativePath(item.value, position: item.position, path: item.path)
            }
            if case .sequence(let written) = view.value("outputs")!.content, written.isEmpty {
                self.error(
                    view.value("outputs")!.position,
                    view.path(of: "outputs"),
                    "expected at least one output path, got an empty list",
                    fix: "list the files the training writes, such as `[model.safetensors, config.json]`"
                )
                outputs = nil
            }
        }
        guard let repo, let outputs else { return nil }
        return (repo, outputs)
    }

    /// Reads a Hugging Face repo id in `namespace/name` form. The character rules follow `validate_repo_id` in
    /// huggingface_hub 1.x: ASCII letters, digits, `-`, `_` and `.`, no `--` or `..`, no `-` or `.` at either end
    /// of a part, a name of at most 96 characters, and no `.git` at the end.
    func repoID(_ view: MappingView, _ name: String, example: String) -> String? {
        guard let repo = self.requiredString(view, name, example: example) else { return nil }
        guard ConfigReader.isValidRepoID(repo) else {
            self.error(
                view.value(name)!.position,
                view.path(of: name),
                "invalid repo id `\(repo)`: expected `namespace/name` of letters, digits, `-`, `_` and `.`",
                fix: "write the repo id as shown on the Hub, such as `\(example)`"
            )
            return nil
        }
        return repo
    }

    static func isValidRepoID(_ repo: String) -> Bool {
        let parts = repo.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count <= 96, !repo.contains("--"), !repo.contains(".."),
            !repo.hasSuffix(".git")
        else {
            return false
        }
        return parts.allSatisfy { part in
            guard let first = part.first, let last = part.last else { return false }
            let edgesAreValid = first != "-" && first != "." && last != "-" && last != "."
            let charactersAreValid = part.allSatisfy { character in
                (character.isASCII && character.isLetter) || character.isASCIIDigit || "-_.".contains(character)
            }
            return edgesAreValid && charactersAreValid
        }
    }

    /// Checks that `text` is a path inside the clone: not absolute, not starting with `~`, and no `..` part.
    private func relativePath(_ text: String, position: SourcePosition, path: String) -> String? {
        let problem: String? =
            if text.isEmpty {
                "got an empty path"
            } else if text.hasPrefix("/") {
                "got the absolute path `\(text)`"
            } else if text.hasPrefix("~") {
                "got `\(text)`, which starts with `~`"
            } else if text.split(separator: "/").contains("..") {
                "got `\(text)`, which contains `..`"
            } else {
                nil
            }
        guard let problem else { return text }
        self.error(
            position,
            path,
            "invalid path: expected a path relative to the repository clone, \(problem)",
            fix: "write the path from the top of the clone, such as `outputs/model.safetensors`"
        )
        return nil
    }

    private func environmentVariables(_ view: MappingView) -> [(name: String, value: String)] {
        guard let node = view.value("env"), let env = self.mapping(node, path: view.path(of: "env"), allowedKeys: nil)
        else {
            return []
        }
        var variables: [(name: String, value: String)] = []
        for entry in env.entries {
            let path = env.path(of: entry.name)
            guard VariableExpansion.isValidName(entry.name) else {
                self.error(
                    entry.key.position,
                    path,
                    "invalid environment variable name `\(entry.name)`: expected letters, digits and `_`, "
                        + "not starting with a digit",
                    fix: "rename it, for example to `\(ConfigReader.suggestedVariableName(for: entry.name))`"
                )
                continue
            }
            if let value = self.scalar(entry.value, path: path, expected: "a string") {
                variables.append((entry.name, value.value))
            }
        }
        return variables
    }

    /// Turns an invalid variable name into a valid one for the fix text: `hf-home` becomes `HF_HOME`.
    static func suggestedVariableName(for name: String) -> String {
        let replaced = String(name.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        return replaced.first.map({ $0.isNumber }) ?? true ? "_" + replaced : replaced
    }

    private func pollIntervals(_ view: MappingView) -> PollIntervals {
        var poll = PollIntervals()
        guard let node = view.value("poll"),
            let section = self.mapping(node, path: view.path(of: "poll"), allowedKeys: ConfigReader.pollKeys)
        else {
            return poll
        }
        poll.startup = self.duration(section, "startup", range: 1...3600, example: "10s") ?? poll.startup
        poll.running = self.duration(section, "running", range: 1...3600, example: "30s") ?? poll.running
        poll.teardown = self.duration(section, "teardown", range: 1...3600, example: "5s") ?? poll.teardown
        return poll
    }

    private func stateTimeouts(_ view: MappingView) -> StateTimeouts {
        var timeouts = StateTimeouts()
        guard let node = view.value("timeouts"),
            let section = self.mapping(node, path: view.path(of: "timeouts"), allowedKeys: ConfigReader.timeoutKeys)
        else {
            return timeouts
        }
        timeouts.ready = self.duration(section, "ready", range: 1...86400, example: "20m") ?? timeouts.ready
        timeouts.stop = self.duration(section, "stop", range: 1...86400, example: "10m") ?? timeouts.stop
        timeouts.delete = self.duration(section, "delete", range: 1...86400, example: "10m") ?? timeouts.delete
        timeouts.teardown = self.duration(section, "teardown", range: 1...86400, example: "1h") ?? timeouts.teardown
        return timeouts
    }

    func notify(_ view: MappingView, declaredNotifiers: [String]) -> [String]? {
        guard let items = self.stringList(view, "notify") else { return nil }
        var names: [String] = []
        for item in items {
            if names.contains(item.value) {
                self.error(
                    item.position,
                    item.path,
                    "duplicate notifier `\(item.value)`: expected each name once",
                    fix: "remove the second `\(item.value)`"
                )
                continue
            }
            guard declaredNotifiers.contains(item.value) else {
                let suggestion = Suggestions.closest(to: item.value, in: declaredNotifiers)
                let known =
                    declaredNotifiers.isEmpty
                    ? "no notifiers are defined" : "defined notifiers are \(Suggestions.list(declaredNotifiers))"
                self.error(
                    item.position,
                    item.path,
                    "unknown notifier `\(item.value)`: \(known)\(ConfigReader.didYouMean(suggestion))",
                    fix: suggestion.map { "write `\($0)`" } ?? "define it under `notifiers:` or remove it from `notify`"
                )
                continue
            }
            names.append(item.value)
        }
        return names
    }
}
