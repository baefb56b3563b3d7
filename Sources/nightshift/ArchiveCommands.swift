import Archive
import Foundation
import Support

/// `nightshift archive training|results` and `nightshift checksum`.
enum ArchiveCommands {
    static let archiveOptions: [OptionSpec] = [
        .value("--local-dir", "DIR", "The directory that contains `workspace/` (default .)."),
        .value("--output-dir", "DIR", "Where the archive is written (default .)."),
        .value("--output", "NAME", "The archive's file name (default: a name with the local date and time)."),
        .value("--level", "N", "The gzip compression level, 1 (fastest) to 9 (smallest); default 6."),
        .value("--jobs", "N", "Compression threads (default: one per core)."),
    ]

    static let trainingOptions: [OptionSpec] = [
        .flag("--include-ticks", "Include \(WorkspaceLayout.ticksDirectory)/ (asks first, showing its size)."),
        .flag("--no-ask-ticks", "Include the ticks without asking."),
        .flag("--include-cache", "Include \(WorkspaceLayout.cacheDirectory)/."),
    ]

    static let specs: [CommandSpec] = [
        CommandSpec(
            path: ["archive", "training"],
            summary: """
                Write training_data_YYYYMMDD_HHMMSS.tar.gz with the three feature CSVs.
                Ticks and the cache are added when asked. The archive is written in one pass, compressed on every
                core, and takes its name only when complete; GNU tar and Python's tarfile read it.
                """,
            options: Self.trainingOptions + Self.archiveOptions,
            run: ArchiveCommands.training
        ),
        CommandSpec(
            path: ["archive", "results"],
            summary: """
                Write results_YYYYMMDD_HHMMSS.tar.gz with the checkpoints, metrics, scalers and logs.
                Result directories that do not exist are skipped and listed.
                """,
            options: Self.archiveOptions,
            run: ArchiveCommands.results
        ),
        CommandSpec(
            path: ["checksum"],
            arguments: "FILE...",
            positional: 1...Int.max,
            summary: "Print the SHA-256 of each file in the format of sha256sum.",
            run: ArchiveCommands.checksum
        ),
    ]

    static let training: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let options = ArchiveCommands.trainingOptions(arguments) else { return ExitCode.usage.rawValue }
        let meter = ProgressMeter(label: "archive")
        do {
            let summary = try TrainingArchive.build(options) { read, total in
                meter.setTotal(total)
                meter.set(done: read)
            }
            meter.finish()
            ArchiveCommands.printSummary(summary)
            return ExitCode.success.rawValue
        } catch {
            meter.finish()
            return ArchiveCommands.fail(error)
        }
    }

    /// Reads the options of a training archive, asking about the ticks on a terminal. Returns nil when the user
    /// declines or no terminal can confirm.
    static func trainingOptions(_ arguments: ParsedArguments) -> TrainingArchiveOptions? {
        guard var options = self.common(arguments, TrainingArchiveOptions()) else { return nil }
        options.includeCache = arguments.flag("--include-cache")
        let ticks = arguments.flag("--include-ticks") || arguments.flag("--no-ask-ticks")
        if ticks, !self.confirmTicks(root: options.workspaceRoot, ask: !arguments.flag("--no-ask-ticks")) {
            return nil
        }
        options.includeTicks = ticks
        return options
    }

    private static func confirmTicks(root: String, ask: Bool) -> Bool {
        let size: DirectorySize
        do {
            size = try TrainingArchive.ticksSize(workspaceRoot: root)
        } catch {
            printError("nightshift: \(error)")
            return false
        }
        let summary =
            "\(WorkspaceLayout.ticksDirectory): \(size.files) files, \(ProgressMeter.formatBytes(size.bytes))"
        guard ask else {
            printError("including \(summary)")
            return true
        }
        guard isatty(STDIN_FILENO) == 1 else {
            printError("nightshift: \(summary); pass --no-ask-ticks to include them without a terminal to confirm on")
            return false
        }
        FileHandle.standardError.write(Data("Include \(summary)? [y/N] ".utf8))
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "y" || answer == "yes" else {
            printError("nightshift: ticks not included; nothing was written")
            return false
        }
        return true
    }

    static let results: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let options = ArchiveCommands.common(arguments, ResultsArchiveOptions()) else {
            return ExitCode.usage.rawValue
        }
        let meter = ProgressMeter(label: "archive")
        do {
            let summary = try ResultsArchive.build(options) { read, total in
                meter.setTotal(total)
                meter.set(done: read)
            }
            meter.finish()
            ArchiveCommands.printSummary(summary)
            return ExitCode.success.rawValue
        } catch {
            meter.finish()
            return ArchiveCommands.fail(error)
        }
    }

    /// The option values both archives share.
    protocol CommonOptions {
        var workspaceRoot: String { get set }
        var outputDirectory: String { get set }
        var fileName: String? { get set }
        var compressionLevel: Int { get set }
        var workers: Int { get set }
    }

    static func common<Options: CommonOptions>(_ arguments: ParsedArguments, _ defaults: Options) -> Options? {
        var options = defaults
        options.workspaceRoot = arguments.value("--local-dir") ?? "."
        options.outputDirectory = arguments.value("--output-dir") ?? "."
        options.fileName = arguments.value("--output")
        if let text = arguments.value("--level") {
            guard let level = Int(text), (1...9).contains(level) else {
                printError("nightshift: invalid --level \(text): expected a whole number from 1 to 9")
                return nil
            }
            options.compressionLevel = level
        }
        if let text = arguments.value("--jobs") {
            guard let jobs = Int(text), (1...256).contains(jobs) else {
                printError("nightshift: invalid --jobs \(text): expected a whole number from 1 to 256")
                return nil
            }
            options.workers = jobs
        }
        if let name = options.fileName, name.contains("/") || ["", ".", ".."].contains(name) {
            printError(
                "nightshift: invalid --output \"\(name)\": give a file name, and the directory with --output-dir"
            )
            return nil
        }
        return options
    }

    static func printSummary(_ summary: ArchiveSummary) {
        let ratio = summary.bytesIn > 0 ? Double(summary.bytesOut) * 100 / Double(summary.bytesIn) : 0
        writeLine(
            "wrote \(summary.outputPath): \(summary.files) files, \(ProgressMeter.formatBytes(summary.bytesIn)) "
                + "in, \(ProgressMeter.formatBytes(summary.bytesOut)) out (\(String(format: "%.1f", ratio))%), "
                + "\(String(format: "%.1f", summary.seconds)) s"
        )
        for path in summary.skipped {
            writeLine("skipped \(path): not found")
        }
    }

    /// Prints an archive error; missing inputs exit 66, and a file that cannot be written 73.
    static func fail(_ error: Error) -> Int32 {
        printError("nightshift: \(error)")
        guard let archiveError = error as? ArchiveError else { return ExitCode.software.rawValue }
        switch archiveError {
        case .missingTrainingData, .nothingToArchive, .sourceNotFound: return ExitCode.noInput.rawValue
        case .fileChanged: return ExitCode.temporaryFailure.rawValue
        default: return ExitCode.cannotCreate.rawValue
        }
    }

    static let checksum: @Sendable (ParsedArguments) -> Int32 = { arguments in
        var status = ExitCode.success
        for path in arguments.positional {
            do {
                let digest = try Digest.sha256(contentsOf: path)
                writeLine(Self.checksumLine(digest.hexString, path: path))
            } catch {
                printError("nightshift: \(error)")
                status = .noInput
            }
        }
        return status.rawValue
    }
}

extension ArchiveCommands {
    /// Formats one line as GNU sha256sum 9 does, so `sha256sum --check` reads it: a name that contains a
    /// backslash, a newline or a carriage return is escaped, and the line then starts with a backslash.
    static func checksumLine(_ hex: String, path: String) -> String {
        // Scalars, not Characters, because Swift reads "\r\n" as one Character.
        let scalars = path.unicodeScalars
        guard scalars.contains(where: { $0 == "\\" || $0 == "\n" || $0 == "\r" }) else {
            return "\(hex)  \(path)"
        }
        var escaped = ""
        for scalar in scalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "\\\(hex)  \(escaped)"
    }
}

extension TrainingArchiveOptions: ArchiveCommands.CommonOptions {}
extension ResultsArchiveOptions: ArchiveCommands.CommonOptions {}
