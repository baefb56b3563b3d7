import Foundation
import Support

/// Loads and validates nightshift config files.
///
/// Every problem in the file is collected before anything is thrown, so one run of `nightshift validate`
/// lists them all. Secrets are resolved from `${NAME}` references and `_file` keys while loading.
public enum ConfigLoader {
    /// The maximum size of a config file in bytes. A complete file with dozens of jobs is a few tens of KiB.
    static let maxFileSize = 4 * 1024 * 1024

    /// Reads the file at `path` and loads it, checking its permissions for the inline secret warning.
    ///
    /// `scheduleValidator` returns an error message for an invalid schedule expression and nil for a valid one,
    /// so this module does not depend on the cron parser.
    public static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        scheduleValidator: (String) -> String? = { _ in nil }
    ) throws(ConfigError) -> Configuration {
        let contents: RegularFile.Contents
        switch RegularFile.read(path, maxSize: ConfigLoader.maxFileSize) {
        case .success(let value):
            contents = value
        case .failure(let problem):
            throw ConfigError(diagnostics: [
                ConfigDiagnostic(
                    file: path,
                    line: 0,
                    column: 0,
                    key: "",
                    message: "failed to read the config file: \(problem.message)",
                    fix: "check the path, and that the user nightshift runs as can read the file"
                )
            ])
        }
        return try ConfigLoader.load(
            bytes: contents.bytes,
            path: path,
            environment: environment,
            scheduleValidator: scheduleValidator,
            fileMode: contents.mode
        )
    }

    /// Loads config text as if it were read from `path`. With a `fileMode`, inline secrets in a file that group or
    /// others can read produce warnings, and nil skips that check.
    public static func load(
        text: String,
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        scheduleValidator: (String) -> String? = { _ in nil },
        fileMode: mode_t? = nil
    ) throws(ConfigError) -> Configuration {
        try ConfigLoader.load(
            bytes: Array(text.utf8),
            path: path,
            environment: environment,
            scheduleValidator: scheduleValidator,
            fileMode: fileMode
        )
    }

    private static func load(
        bytes: [UInt8],
        path: String,
        environment: [String: String],
        scheduleValidator: (String) -> String?,
        fileMode: mode_t?
    ) throws(ConfigError) -> Configuration {
        try withoutActuallyEscaping(scheduleValidator) { validator throws(ConfigError) in
            let reader = ConfigReader(file: path, environment: environment, scheduleValidator: validator)
            let configuration = ConfigLoader.read(bytes, with: reader)
            reader.warnAboutInlineSecrets(fileMode: fileMode)
            let diagnostics = ConfigLoader.sorted(reader.diagnostics)
            guard var configuration, !reader.hasErrors else {
                throw ConfigError(diagnostics: diagnostics)
            }
            configuration.warnings = diagnostics
            return configuration
        }
    }

    private static func read(_ bytes: [UInt8], with reader: ConfigReader) -> Configuration? {
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(bytes)
        } catch {
            reader.reportSyntaxError(error, bytes: bytes)
            return nil
        }
        guard let root else {
            reader.error(
                .wholeFile,
                "",
                "the config file is empty: expected a map of settings",
                fix: "copy etc/nightshift.yaml from the nightshift sources and edit it"
            )
            return nil
        }
        return reader.readConfiguration(root)
    }

    /// Orders diagnostics by position, keeping the reading order for equal positions.
    private static func sorted(_ diagnostics: [ConfigDiagnostic]) -> [ConfigDiagnostic] {
        diagnostics.enumerated()
            .sorted { lhs, rhs in
                (lhs.element.line, lhs.element.column, lhs.offset) < (rhs.element.line, rhs.element.column, rhs.offset)
            }
            .map(\.element)
    }

    /// Formats diagnostics for `nightshift validate`: one entry per diagnostic, then a count line.
    ///
    /// Registered secrets are redacted as a second line of defence, although no diagnostic should contain one.
    public static func format(_ diagnostics: [ConfigDiagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        let summary = "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
        let lines = diagnostics.map { SecretRedactor.shared.redact($0.description) } + [summary]
        return lines.joined(separator: "\n")
    }
}
