import Foundation
import Support

extension ConfigReader {
    static let topLevelKeys = [
        "state_directory", "time_zone", "log_level", "paperspace", "hub", "notifiers", "jobs", "budget",
    ]
    static let paperspaceKeys = ["endpoint", "api_key", "api_key_file", "name_prefix", "sweep_interval"]
    static let hubKeys = ["endpoint", "token", "token_file"]

    /// Reads the whole document. Returns nil when any error was recorded.
    func readConfiguration(_ root: YAMLNode) -> Configuration? {
        guard case .mapping = root.content else {
            self.error(
                root.position,
                "",
                "expected a map of settings at the top level, got \(root.kindDescription)",
                fix: "start the file with top-level keys such as `paperspace:` and `jobs:`, see etc/nightshift.yaml"
            )
            return nil
        }
        guard let view = self.mapping(root, path: "", allowedKeys: ConfigReader.topLevelKeys, skipsExtensionKeys: true)
        else {
            return nil
        }

        var configuration = Configuration(sourcePath: self.file)
        if let directory = self.absolutePath(view, "state_directory") {
            configuration.stateDirectory = directory
        }
        if let zone = self.timeZone(view, "time_zone") {
            configuration.timeZone = zone
        }
        if let level = self.logLevel(view, "log_level") {
            configuration.logLevel = level
        }

        let paperspace = self.paperspace(view)
        configuration.paperspace = paperspace.settings
        let hub = self.hub(view)
        configuration.hub = hub.settings
        configuration.notifiers = self.notifiers(view)
        let jobs = self.jobs(
            view,
            defaultTimeZone: configuration.timeZone,
            notifierNames: configuration.notifiers.map(\.name)
        )
        configuration.jobs = jobs.training
        configuration.uploads = jobs.uploads
        configuration.budget = self.budget(view)

        if view.value("jobs").map(ConfigReader.declaresTrainingJob) == true {
            self.requireCredential(
                present: paperspace.keyPresent,
                key: "api_key",
                section: "paperspace",
                in: view,
                purpose: "training jobs need it to create and delete machines"
            )
        }
        if !jobs.training.isEmpty || !jobs.uploads.isEmpty
            || view.value("jobs").map(ConfigReader.isNonEmptyMapping) == true
        {
            self.requireCredential(
                present: hub.tokenPresent,
                key: "token",
                section: "hub",
                in: view,
                purpose: "jobs need it to download datasets and to upload models and data"
            )
        }
        return self.hasErrors ? nil : configuration
    }

    /// Returns whether a `jobs:` map has an entry without `kind`, or with `kind: training`, even one with errors.
    private static func declaresTrainingJob(_ node: YAMLNode) -> Bool {
        guard case .mapping(let pairs) = node.content else { return false }
        return pairs.contains { pair in
            guard case .mapping(let keys) = pair.value.content else { return true }
            let kind = keys.first { $0.key.scalarValue == "kind" }?.value.scalarValue
            return kind == nil || kind == "training"
        }
    }

    private static func isNonEmptyMapping(_ node: YAMLNode) -> Bool {
        if case .mapping(let pairs) = node.content {
            return !pairs.isEmpty
        }
        return false
    }

    private func requireCredential(present: Bool, key: String, section: String, in root: MappingView, purpose: String) {
        guard !present else { return }
        let position = root.value(section).map { $0.isNull ? root.entry(section)!.key.position : $0.position }
        let credential = "\(section)-\(key)".replacingOccurrences(of: "_", with: "-")
        self.error(
            position ?? root.position,
            "\(section).\(key)",
            "missing `\(section).\(key)`: \(purpose)",
            fix: "add `\(key): ${ENV_VAR}` or `\(key)_file: ${CREDENTIALS_DIRECTORY}/\(credential)` under `\(section):`"
        )
    }

    private func paperspace(_ root: MappingView) -> (settings: PaperspaceSettings, keyPresent: Bool) {
        var settings = PaperspaceSettings()
        guard let node = root.value("paperspace"),
            let view = self.mapping(node, path: "paperspace", allowedKeys: ConfigReader.paperspaceKeys)
        else {
            return (settings, root.value("paperspace") != nil)
        }
        if let endpoint = self.endpoint(view, "endpoint") {
            settings.endpoint = endpoint
        }
        let key = self.secret(view, "api_key")
        settings.apiKey = key.secret
        if let prefix = self.string(view, "name_prefix") {
            if ConfigReader.isValidNamePrefix(prefix) {
                settings.namePrefix = prefix
            } else {
                self.error(
                    view.value("name_prefix")!.position,
                    "paperspace.name_prefix",
                    "invalid name prefix `\(prefix)`: expected lowercase letters, digits and single dashes, "
                        + "starting with a letter and not ending with a dash, "
                        + "at most \(ConfigReader.maxNameLength) characters",
                    fix: "use a prefix such as `\(ConfigReader.suggestedName(for: prefix))`"
                )
            }
        }
        if let interval = self.duration(view, "sweep_interval", range: 10...86_400, example: "10m") {
            settings.sweepInterval = interval
        }
        return (settings, key.present)
    }

    private func hub(_ root: MappingView) -> (settings: HubSettings, tokenPresent: Bool) {
        var settings = HubSettings()
        guard let node = root.value("hub"),
            let view = self.mapping(node, path: "hub", allowedKeys: ConfigReader.hubKeys)
        else {
            return (settings, root.value("hub") != nil)
        }
        if let endpoint = self.endpoint(view, "endpoint") {
            settings.endpoint = endpoint
        }
        let token = self.secret(view, "token")
        settings.token = token.secret
        return (settings, token.present)
    }

    // MARK: Shared value checks

    /// Reads an `http` or `https` URL with a host, without trailing slashes so that clients can append paths.
    func endpoint(_ view: MappingView, _ name: String) -> String? {
        guard let text = self.string(view, name) else { return nil }
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        while trimmed.hasSuffix("/") {
            trimmed.removeLast()
        }
        guard ConfigReader.isHTTPURL(trimmed) else {
            self.error(
                view.value(name)!.position,
                view.path(of: name),
                "invalid URL `\(text)`: expected an `http://` or `https://` URL with a host name",
                fix: "write the full URL, such as `https://api.example.com/v1`"
            )
            return nil
        }
        return trimmed
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let host = components.host,
            !host.isEmpty
        else {
            return false
        }
        return true
    }

    private func absolutePath(_ view: MappingView, _ name: String) -> String? {
        guard let path = self.string(view, name) else { return nil }
        guard path.hasPrefix("/") else {
            self.error(
                view.value(name)!.position,
                view.path(of: name),
                "invalid path `\(path)`: expected an absolute path",
                fix: "write a path that starts with `/`, such as `\(Configuration.defaultStateDirectory)`"
            )
            return nil
        }
        return path
    }

    /// Reads a time zone name that `TimeZone(identifier:)` accepts, suggesting close names for a typo.
    func timeZone(_ view: MappingView, _ name: String) -> String? {
        guard let zone = self.string(view, name) else { return nil }
        guard TimeZone(identifier: zone) == nil else { return zone }
        let suggestion = ConfigReader.closestTimeZone(to: zone)
        self.error(
            view.value(name)!.position,
            view.path(of: name),
            "unknown time zone `\(zone)`: expected an IANA time zone name\(ConfigReader.didYouMean(suggestion))",
            fix: suggestion.map { "write `\($0)`" }
                ?? "write a name such as `UTC`, `Europe/Berlin` or `America/New_York`"
        )
        return nil
    }

    /// Finds a known zone that differs from `input` only in case, has `input` as its city, or is a close typo.
    static func closestTimeZone(to input: String) -> String? {
        let known = TimeZone.knownTimeZoneIdentifiers
        let lowered = input.lowercased().replacingOccurrences(of: " ", with: "_")
        if let match = known.first(where: { $0.lowercased() == lowered }) {
            return match
        }
        if let match = known.first(where: { $0.lowercased().hasSuffix("/\(lowered)") }) {
            return match
        }
        return Suggestions.closest(to: input, in: known, matchesPrefix: false)
    }

    private func logLevel(_ view: MappingView, _ name: String) -> Logger.Level? {
        guard let text = self.string(view, name) else { return nil }
        if let level = Logger.Level(name: text) {
            return level
        }
        let names = Logger.Level.allCases.map(\.description)
        let suggestion = Suggestions.closest(to: text, in: names)
        self.error(
            view.value(name)!.position,
            view.path(of: name),
            "unknown log level `\(text)`: expected one of \(Suggestions.list(names))"
                + ConfigReader.didYouMean(suggestion),
            fix: "write one of \(Suggestions.list(names))"
        )
        return nil
    }

    /// Returns `, did you mean `name`?` for the end of a message, or an empty string without a suggestion.
    static func didYouMean(_ suggestion: String?) -> String {
        suggestion.map { ", did you mean `\($0)`?" } ?? ""
    }

    // MARK: Names

    /// The maximum length of a job or notifier name, because names become part of Paperspace machine names.
    static let maxNameLength = 40

    /// True for names of lowercase ASCII letters, digits and dashes that start with a letter.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLowercase, name.count <= ConfigReader.maxNameLength else {
            return false
        }
        return name.allSatisfy { ($0.isASCII && $0.isLowercase) || $0.isASCIIDigit || $0 == "-" }
    }

    /// True for prefixes that start with a letter, use lowercase letters, digits and single dashes, and do not end
    /// with a dash. The orphan sweep splits machine names at the dash after the prefix, so `ns-` or `ns--x`
    /// would make names of different agents harder to tell apart.
    static func isValidNamePrefix(_ prefix: String) -> Bool {
        guard let first = prefix.first, first.isASCII, first.isLowercase, prefix.count <= ConfigReader.maxNameLength
        else {
            return false
        }
        return !prefix.hasSuffix("-") && !prefix.contains("--")
            && prefix.allSatisfy { ($0.isASCII && $0.isLowercase) || $0.isASCIIDigit || $0 == "-" }
    }

    /// Turns an invalid name into a valid one for the fix text: `Nightly_Train` becomes `nightly-train`.
    static func suggestedName(for name: String, kind: String = "nightshift") -> String {
        var result = ""
        for character in name.lowercased() {
            let valid = (character.isASCII && character.isLetter) || character.isASCIIDigit
            if valid {
                result.append(character)
            } else if !result.isEmpty && result.last != "-" {
                result.append("-")
            }
        }
        while result.hasSuffix("-") {
            result.removeLast()
        }
        if result.first.map({ !$0.isLetter }) ?? true {
            result = result.isEmpty ? kind : "\(kind)-\(result)"
        }
        return String(result.prefix(ConfigReader.maxNameLength))
    }

    /// Checks a job or notifier name written as a map key.
    func checkName(_ entry: MappingView.Entry, path: String, kind: String) -> Bool {
        guard !ConfigReader.isValidName(entry.name) else { return true }
        let tooLong = entry.name.count > ConfigReader.maxNameLength ? ", and it has \(entry.name.count)" : ""
        self.error(
            entry.key.position,
            path,
            "invalid \(kind) name `\(entry.name)`: expected lowercase letters, digits and dashes, starting with a "
                + "letter, at most \(ConfigReader.maxNameLength) characters\(tooLong)",
            fix: "rename it, for example to `\(ConfigReader.suggestedName(for: entry.name, kind: kind))`"
        )
        return false
    }
}
