import Foundation

/// The keys of one YAML mapping after duplicate, unknown-key and merge-key handling, with the dotted path
/// of the mapping itself.
struct MappingView {
    struct Entry {
        var name: String
        var key: YAMLNode
        var value: YAMLNode
    }

    let path: String
    /// The start of the mapping, used for "missing required key" errors.
    let position: SourcePosition
    /// Entries in file order. When a merge key (`<<`) supplies a key that is also written explicitly,
    /// only the explicit entry is kept.
    var entries: [Entry]

    func entry(_ name: String) -> Entry? {
        self.entries.first { $0.name == name }
    }

    func value(_ name: String) -> YAMLNode? {
        self.entry(name)?.value
    }

    func path(of name: String) -> String {
        ConfigReader.join(self.path, name)
    }
}

/// Reads one parsed config file into `Configuration` values, collecting every problem as a diagnostic
/// instead of stopping at the first.
///
/// Each read function records its own errors and returns nil for a missing or invalid value, so callers
/// can fall back to a default and keep going. The configuration is only returned when no error was recorded.
final class ConfigReader {
    let file: String
    let environment: [String: String]
    let scheduleValidator: (String) -> String?
    /// The directory relative `_file` paths are resolved against.
    let baseDirectory: String
    private(set) var diagnostics: [ConfigDiagnostic] = []
    /// Maps and keys merged through `<<` so far. Chained merges can double the work at every level, so the
    /// reader stops expanding after `maxMergeExpansions` and reports it once.
    private var mergeExpansions = 0
    private var mergeLimitReported = false
    static let maxMergeExpansions = 10_000
    /// Positions and key paths of secrets written literally in the file, for the file permission warning.
    var inlineSecrets: [(position: SourcePosition, path: String)] = []

    init(file: String, environment: [String: String], scheduleValidator: @escaping (String) -> String?) {
        self.file = file
        self.environment = environment
        self.scheduleValidator = scheduleValidator
        self.baseDirectory = URL(fileURLWithPath: file).deletingLastPathComponent().path
    }

    var hasErrors: Bool {
        self.diagnostics.contains { $0.severity == .error }
    }

    static func join(_ parent: String, _ child: String) -> String {
        parent.isEmpty ? child : "\(parent).\(child)"
    }

    // MARK: Diagnostics

    func error(_ position: SourcePosition, _ path: String, _ message: String, fix: String) {
        self.diagnostics.append(
            ConfigDiagnostic(
                severity: .error,
                file: self.file,
                line: position.line,
                column: position.column,
                key: path,
                message: message,
                fix: fix
            )
        )
    }

    func warning(_ position: SourcePosition, _ path: String, _ message: String, fix: String) {
        self.diagnostics.append(
            ConfigDiagnostic(
                severity: .warning,
                file: self.file,
                line: position.line,
                column: position.column,
                key: path,
                message: message,
                fix: fix
            )
        )
    }

    func missing(_ view: MappingView, _ name: String, expected: String, example: String) {
        self.error(
            view.position,
            view.path(of: name),
            "missing required key `\(name)`: expected \(expected)",
            fix: "add `\(name): \(example)`\(view.path.isEmpty ? "" : " under `\(view.path)`")"
        )
    }

    // MARK: Mappings

    /// Returns a view of `node` as a mapping whose keys must be in `allowedKeys` (any key when nil).
    ///
    /// An empty value reads as an empty mapping, so `poll:` with nothing under it means "all defaults".
    /// At the top level, keys starting with `x-` are skipped so that anchors for merge keys can live there.
    func mapping(
        _ node: YAMLNode,
        path: String,
        allowedKeys: [String]?,
        skipsExtensionKeys: Bool = false
    ) -> MappingView? {
        if node.isNull {
            return MappingView(path: path, position: node.position, entries: [])
        }
        guard case .mapping(let pairs) = node.content else {
            self.error(
                node.position,
                path,
                "expected a map of keys, got \(node.kindDescription)",
                fix:
                    "write the settings as `key: value` lines indented under `\(path.isEmpty ? "the top level" : path)`"
            )
            return nil
        }

        var explicit: [MappingView.Entry] = []
        var mergeSources: [YAMLNode] = []
        for (key, value) in pairs {
            guard case .scalar(let name, let isPlain, _) = key.content, !key.isNull else {
                self.error(
                    key.position,
                    path,
                    "expected a key name, got \(key.kindDescription) as a key",
                    fix: "use a plain word such as `schedule` as the key"
                )
                continue
            }
            if name == "<<" && isPlain {
                mergeSources.append(value)
                continue
            }
            if let first = explicit.first(where: { $0.name == name }) {
                self.error(
                    key.position,
                    ConfigReader.join(path, name),
                    "duplicate key `\(name)`: expected each key once, "
                        + "got it again after line \(first.key.position.line)",
                    fix: "remove one of the two `\(name)` entries"
                )
                continue
            }
            explicit.append(MappingView.Entry(name: name, key: key, value: value))
        }

        var entries = explicit
        var names = Set(explicit.map(\.name))
        for source in mergeSources {
            for merged in self.mergedEntries(from: source, path: path) where !names.contains(merged.name) {
                names.insert(merged.name)
                entries.append(merged)
            }
        }
        if skipsExtensionKeys {
            entries.removeAll { $0.name.hasPrefix("x-") }
        }
        if let allowedKeys {
            entries.removeAll { entry in
                guard !allowedKeys.contains(entry.name) else { return false }
                self.reportUnknownKey(entry, path: path, allowedKeys: allowedKeys)
                return true
            }
        }
        return MappingView(path: path, position: node.position, entries: entries)
    }

    /// Returns the entries a merge key value supplies: one mapping, or a list of mappings where earlier ones win.
    private func mergedEntries(from source: YAMLNode, path: String) -> [MappingView.Entry] {
        let sources: [YAMLNode]
        switch source.content {
        case .mapping: sources = [source]
        case .sequence(let items): sources = items
        case .scalar: sources = [source]
        }
        var entries: [MappingView.Entry] = []
        for item in sources {
            self.mergeExpansions += 1
            if self.mergeExpansions > ConfigReader.maxMergeExpansions {
                if !self.mergeLimitReported {
                    self.mergeLimitReported = true
                    self.error(
                        item.position,
                        ConfigReader.join(path, "<<"),
                        "merge keys expand to more than \(ConfigReader.maxMergeExpansions) maps and keys, "
                            + "which no real config needs",
                        fix: "merge each shared map directly instead of chaining merges of merges"
                    )
                }
                return entries
            }
            guard case .mapping = item.content else {
                self.error(
                    item.position,
                    ConfigReader.join(path, "<<"),
                    "expected an alias of a map after the merge key `<<`, got \(item.kindDescription)",
                    fix: "write `<<: *name` where `&name` marks a map, or remove the `<<` line"
                )
                continue
            }
            guard let view = self.mapping(item, path: path, allowedKeys: nil) else { continue }
            // Every merged key counts toward the limit, so wide maps merged many times stop early too.
            self.mergeExpansions += view.entries.count
            var names = Set(entries.map(\.name))
            for entry in view.entries where !names.contains(entry.name) {
                names.insert(entry.name)
                entries.append(entry)
            }
        }
        return entries
    }

    private func reportUnknownKey(_ entry: MappingView.Entry, path: String, allowedKeys: [String]) {
        let valid =
            "valid keys\(path.isEmpty ? " at the top level" : " in `\(path)`") are \(Suggestions.list(allowedKeys))"
        if let suggestion = Suggestions.closest(to: entry.name, in: allowedKeys) {
            self.error(
                entry.key.position,
                ConfigReader.join(path, entry.name),
                "unknown key `\(entry.name)`, did you mean `\(suggestion)`?",
                fix: "rename it to `\(suggestion)`. The \(valid)"
            )
        } else {
            self.error(
                entry.key.position,
                ConfigReader.join(path, entry.name),
                "unknown key `\(entry.name)`",
                fix: "remove it or rename it. The \(valid)"
            )
        }
    }

    // MARK: Scalars

    /// Returns the text of a scalar value after `${NAME}` expansion, or nil after recording why it is unusable.
    ///
    /// `expected` names the wanted type in messages. With `isSecret`, no message shows the value or reference.
    func scalar(_ node: YAMLNode, path: String, expected: String, isSecret: Bool = false) -> VariableExpansion.Expanded?
    {
        guard case .scalar(let raw, _, _) = node.content, !node.isNull else {
            self.error(
                node.position,
                path,
                "expected \(expected), got \(node.kindDescription)",
                fix: node.isNull ? "write a value after the colon or remove the key" : "replace it with \(expected)"
            )
            return nil
        }
        switch VariableExpansion.expandWholeValue(raw, environment: self.environment) {
        case .success(let expanded):
            return expanded
        case .failure(let failure):
            self.reportExpansionFailure(failure, position: node.position, path: path, isSecret: isSecret)
            return nil
        }
    }

    func reportExpansionFailure(
        _ failure: VariableExpansion.Failure,
        position: SourcePosition,
        path: String,
        isSecret: Bool
    ) {
        switch failure {
        case .unset(let name):
            // systemd sets CREDENTIALS_DIRECTORY itself, so the usual advice does not fit that variable.
            let fix =
                name == "CREDENTIALS_DIRECTORY"
                ? "systemd sets `CREDENTIALS_DIRECTORY` for a unit with `LoadCredential=`; outside systemd, set it "
                    + "to the directory that holds the credential files, for example "
                    + "`CREDENTIALS_DIRECTORY=/etc/nightshift/credentials nightshift validate`"
                : "set `\(name)` (with systemd, through `Environment=` or `EnvironmentFile=`), "
                    + "or give a default as `${\(name):-value}`"
            self.error(
                position,
                path,
                "environment variable `\(name)` is not set: expected it in the environment of nightshift",
                fix: fix
            )
        case .invalidReference(let name):
            let shownName = isSecret ? "an invalid name" : "`\(name)`"
            self.error(
                position,
                path,
                "invalid variable reference: expected `${NAME}` or `${NAME:-default}` where NAME has letters, "
                    + "digits and `_` and does not start with a digit, got \(shownName)",
                fix: "fix the variable name and close the reference with `}`, or write `$${` for a literal `${`"
            )
        }
    }

    /// Reads a string value. Returns nil when the key is absent or the value is invalid.
    func string(_ view: MappingView, _ name: String) -> String? {
        guard let node = view.value(name) else { return nil }
        return self.scalar(node, path: view.path(of: name), expected: "a string")?.value
    }

    func requiredString(_ view: MappingView, _ name: String, example: String) -> String? {
        guard view.entry(name) != nil else {
            self.missing(view, name, expected: "a string", example: example)
            return nil
        }
        guard let value = self.string(view, name) else { return nil }
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            self.error(
                view.value(name)!.position,
                view.path(of: name),
                "expected a non-empty string, got an empty string",
                fix: "write a value such as `\(example)`"
            )
            return nil
        }
        return value
    }

    func integer(_ view: MappingView, _ name: String, example: String) -> Int? {
        guard let node = view.value(name) else { return nil }
        let path = view.path(of: name)
        guard let expanded = self.scalar(node, path: path, expected: "a whole number") else { return nil }
        guard let number = Int(expanded.value.trimmingCharacters(in: .whitespaces)) else {
            self.error(
                node.position,
                path,
                "expected a whole number, got `\(expanded.value)`\(ConfigReader.origin(expanded))",
                fix: "write a number without a unit or decimal point, such as `\(example)`"
            )
            return nil
        }
        return number
    }

    func decimal(_ view: MappingView, _ name: String, example: String) -> Double? {
        guard let node = view.value(name) else { return nil }
        let path = view.path(of: name)
        guard let expanded = self.scalar(node, path: path, expected: "a number") else { return nil }
        guard let number = Double(expanded.value.trimmingCharacters(in: .whitespaces)), number.isFinite else {
            self.error(
                node.position,
                path,
                "expected a number, got `\(expanded.value)`\(ConfigReader.origin(expanded))",
                fix: "write a plain decimal number such as `\(example)`"
            )
            return nil
        }
        return number
    }

    /// Reads a duration in seconds and checks it against `range`.
    func duration(_ view: MappingView, _ name: String, range: ClosedRange<Double>, example: String) -> Double? {
        guard let node = view.value(name) else { return nil }
        let path = view.path(of: name)
        guard let expanded = self.scalar(node, path: path, expected: "a duration") else { return nil }
        let text = expanded.value.trimmingCharacters(in: .whitespaces)
        guard let seconds = DurationParser.seconds(from: text) else {
            self.error(
                node.position,
                path,
                "invalid duration `\(text)`\(ConfigReader.origin(expanded)): expected \(DurationParser.syntaxHelp)",
                fix: "write it as, for example, `\(example)`"
            )
            return nil
        }
        guard range.contains(seconds) else {
            let lower = range.lowerBound > 0 ? "at least \(DurationParser.format(range.lowerBound))" : "more than 0s"
            self.error(
                node.position,
                path,
                "duration `\(text)` is out of range: expected \(lower) "
                    + "and at most \(DurationParser.format(range.upperBound))",
                fix: "write a duration in that range, such as `\(example)`"
            )
            return nil
        }
        return seconds
    }

    /// Reads a list of strings. Returns nil when the key is absent or the value is not a list.
    func stringList(_ view: MappingView, _ name: String) -> [(value: String, position: SourcePosition, path: String)]? {
        guard let node = view.value(name) else { return nil }
        let path = view.path(of: name)
        guard case .sequence(let items) = node.content else {
            self.error(
                node.position,
                path,
                "expected a list, got \(node.kindDescription)",
                fix: "write one `- item` line per entry under `\(name):`, or `[a, b]` on one line"
            )
            return nil
        }
        var values: [(value: String, position: SourcePosition, path: String)] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            if let expanded = self.scalar(item, path: itemPath, expected: "a string") {
                values.append((expanded.value, item.position, itemPath))
            }
        }
        return values
    }

    /// Describes where an expanded value came from, for messages that show it.
    static func origin(_ expanded: VariableExpansion.Expanded) -> String {
        guard let name = expanded.variables.first else { return "" }
        return expanded.usedDefault ? " (the default of `$\(name)`)" : " (from `$\(name)`)"
    }
}
