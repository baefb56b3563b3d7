import Config
import Foundation
import Support

/// One option of a command: a flag such as `--yes`, or an option with a value such as `--repo-id ID`.
struct OptionSpec: Sendable {
    var name: String
    /// The placeholder shown in help for the value, or nil for a flag.
    var value: String?
    var help: String
    /// Whether the value is a credential, which is hidden from `ps` as soon as it is parsed.
    var isSecret = false

    static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, value: nil, help: help)
    }

    static func value(_ name: String, _ placeholder: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, value: placeholder, help: help)
    }

    static func secret(_ name: String, _ placeholder: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, value: placeholder, help: help, isSecret: true)
    }

    /// The `--config PATH` option of every command that reads the config file.
    static let config = OptionSpec.value(
        "--config",
        "PATH",
        "The config file (default \(Configuration.defaultPath))."
    )
}

/// One command of the tree, such as `start` or `hub upload ticks`, with its options and what runs it.
struct CommandSpec: Sendable {
    var path: [String]
    /// The positional arguments as help shows them, such as `JOB` or `[JOB]`.
    var arguments: String = ""
    var positional: ClosedRange<Int> = 0...0
    /// The first line is the summary in command lists; the rest is shown by `--help` on the command.
    var summary: String
    var options: [OptionSpec] = []
    var run: @Sendable (ParsedArguments) -> Int32

    var name: String { self.path.joined(separator: " ") }

    var usageLine: String {
        var parts = ["nightshift", self.name]
        if !self.arguments.isEmpty { parts.append(self.arguments) }
        if !self.options.isEmpty { parts.append("[OPTIONS]") }
        return parts.joined(separator: " ")
    }

    func option(named name: String) -> OptionSpec? {
        self.options.first { $0.name == name }
    }
}

/// A parsed command line: the command, its positional arguments and its option values.
struct ParsedArguments: Sendable {
    var command: CommandSpec
    var positional: [String] = []
    /// Option values by option name, such as `--repo-id`. A repeated option keeps its last value.
    var values: [String: String] = [:]
    /// The flags given, by name, such as `--yes`.
    var flags: Set<String> = []
    /// The names of secret options given on the command line, such as `--token`.
    var secretsGiven: [String] = []

    func value(_ name: String) -> String? { self.values[name] }

    func flag(_ name: String) -> Bool { self.flags.contains(name) }

    var configPath: String { self.values["--config"] ?? Configuration.defaultPath }
    var count: Int { self.values["--count"].flatMap(Int.init) ?? 5 }
    var directory: String? { self.values["--dir"] }
    var verbose: Bool { self.flags.contains("--verbose") }
}

/// A usage error: the message and the exit code 64.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    /// The command whose help the message points to, if the error is about one.
    var command: String? = nil

    var description: String {
        let help = self.command.map { "nightshift \($0) --help" } ?? "nightshift --help"
        return "nightshift: \(self.message)\nRun `\(help)` for usage."
    }
}

/// Returned by `--help` and `--version`: print the text and exit 0.
struct CleanExit: Error {
    var text: String
}

/// Parses the command line against a table of commands, longest command path first.
struct CommandLineParser {
    let commands: [CommandSpec]
    /// Checks option values that need more than presence, such as a number in range. Returns the problem.
    var checkValue: @Sendable (String, String) -> String? = { _, _ in nil }

    func parse(_ arguments: [String]) throws -> ParsedArguments {
        var remaining = arguments[...]
        var leadingValues: [String: String] = [:]
        var words: [String] = []
        var wantsHelp = false

        // Command words come first. `--config PATH` may come before them, as older unit files wrote it.
        while let argument = remaining.first {
            if argument == "-h" || argument == "--help" || argument == "help" && words.isEmpty {
                wantsHelp = true
                remaining.removeFirst()
            } else if argument == "--version" && words.isEmpty {
                throw CleanExit(text: "nightshift \(NightshiftVersion.current)")
            } else if argument == "--config" && words.isEmpty {
                remaining.removeFirst()
                guard let path = remaining.popFirst() else {
                    throw UsageError(message: "option --config requires a value")
                }
                leadingValues["--config"] = path
            } else if argument.hasPrefix("-") || !self.extendsCommand(words + [argument]) {
                break
            } else {
                words.append(argument)
                remaining.removeFirst()
            }
        }

        guard let command = self.commands.first(where: { $0.path == words }) else {
            if wantsHelp { throw CleanExit(text: self.help(forGroup: words)) }
            throw self.unknownCommand(words, next: remaining.first)
        }
        var parsed = ParsedArguments(command: command, values: leadingValues)
        if wantsHelp { throw CleanExit(text: self.help(for: command)) }
        if !leadingValues.isEmpty, command.option(named: "--config") == nil {
            throw UsageError(message: "\(command.name) takes no --config option", command: command.name)
        }

        var onlyPositional = false
        while let argument = remaining.popFirst() {
            if onlyPositional || !argument.hasPrefix("-") || argument == "-" {
                parsed.positional.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositional = true
                continue
            }
            if argument == "-h" || argument == "--help" {
                throw CleanExit(text: self.help(for: command))
            }
            var name = argument
            var inlineValue: String? = nil
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let option = command.option(named: name) else {
                throw UsageError(message: self.unknownOption(name, of: command), command: command.name)
            }
            if option.value == nil {
                guard inlineValue == nil else {
                    throw UsageError(message: "option \(name) takes no value", command: command.name)
                }
                parsed.flags.insert(name)
                continue
            }
            guard let value = inlineValue ?? remaining.popFirst(), inlineValue != nil || !value.hasPrefix("--")
            else {
                throw UsageError(
                    message: "option \(name) requires a value (\(option.value ?? "VALUE"))",
                    command: command.name
                )
            }
            if let problem = self.checkValue(name, value) {
                throw UsageError(message: "invalid \(name) \(value): \(problem)", command: command.name)
            }
            parsed.values[name] = value
            if option.isSecret { parsed.secretsGiven.append(name) }
        }

        guard command.positional.contains(parsed.positional.count) else {
            throw UsageError(message: self.positionalProblem(command, parsed.positional), command: command.name)
        }
        return parsed
    }

    private func extendsCommand(_ words: [String]) -> Bool {
        self.commands.contains { $0.path.starts(with: words) }
    }

    private func unknownCommand(_ words: [String], next: String?) -> UsageError {
        let choices = self.subcommands(of: words)
        let group = words.isEmpty ? "" : words.joined(separator: " ") + " "
        guard let next, !next.hasPrefix("-") else {
            if words.isEmpty {
                return UsageError(message: "missing command; commands are \(choices.joined(separator: ", "))")
            }
            return UsageError(
                message: "\(group)needs a subcommand: \(choices.joined(separator: ", "))",
                command: words.joined(separator: " ")
            )
        }
        return UsageError(
            message: "unknown command \(group)\(next); \(group.isEmpty ? "commands" : group + "subcommands") are "
                + choices.joined(separator: ", "),
            command: words.isEmpty ? nil : words.joined(separator: " ")
        )
    }

    /// Returns the words that can follow `words`, in table order, each once.
    func subcommands(of words: [String]) -> [String] {
        var seen: [String] = []
        for command in self.commands where command.path.count > words.count && command.path.starts(with: words) {
            let word = command.path[words.count]
            if !seen.contains(word) { seen.append(word) }
        }
        return seen
    }

    private func unknownOption(_ name: String, of command: CommandSpec) -> String {
        let names = command.options.map(\.name)
        guard !names.isEmpty else { return "\(command.name) takes no options, got \(name)" }
        if let close = closestMatch(to: name, among: names) {
            return "unknown option \(name) for \(command.name); did you mean \(close)?"
        }
        return "unknown option \(name) for \(command.name); options are \(names.joined(separator: ", "))"
    }

    private func positionalProblem(_ command: CommandSpec, _ arguments: [String]) -> String {
        let range = command.positional
        if range == 0...0 {
            return "\(command.name) takes no arguments, got \(arguments.joined(separator: " "))"
        }
        let expected =
            range.lowerBound == range.upperBound
            ? "exactly \(range.lowerBound)"
            : range.upperBound == Int.max
                ? "at least \(range.lowerBound)"
                : "\(range.lowerBound) to \(range.upperBound)"
        return "\(command.name) takes \(expected) argument(s) (\(command.arguments)), got \(arguments.count)"
    }

    // MARK: Help

    /// Returns the overview: every command with its summary line, then the signals and exit codes.
    func overview() -> String {
        var lines = [
            "nightshift \(NightshiftVersion.current): scheduled ML training on Paperspace machines that are always "
                + "torn down,",
            "and the data moves around it: Hub sync, archives and SSH transfers.",
            "",
            "Usage:",
        ]
        lines += self.commandList(self.commands)
        lines += [
            "",
            "Run `nightshift COMMAND --help` for the options of one command, for example",
            "`nightshift hub upload ticks --help`. Most commands read `--config PATH`",
            "(default \(Configuration.defaultPath)).",
            "",
            "Signals: SIGINT or SIGTERM make `run` and `start` tear down every active run, then exit. A second signal",
            "exits at once with status 75, and the next `nightshift run` finishes the teardown from the journal.",
            "The data commands (hub, ssh) stop their transfer on SIGINT or SIGTERM and exit 75; a rerun continues it.",
            "Exit codes: 0 success, 1 run failed, 64 usage error, 65 invalid config or data, 66 missing input,",
            "69 teardown failed or service unavailable, 70 internal error, 73 cannot create a file,",
            "75 temporary failure, 77 permission denied (a missing or rejected token or key).",
        ]
        return lines.joined(separator: "\n")
    }

    private func commandList(_ commands: [CommandSpec]) -> [String] {
        var lines: [String] = []
        for command in commands {
            let usage = "  nightshift \(command.name)" + (command.arguments.isEmpty ? "" : " \(command.arguments)")
            let summary = command.summary.split(separator: "\n").first.map(String.init) ?? ""
            if usage.count < 44 {
                lines.append(usage.padding(toLength: 46, withPad: " ", startingAt: 0) + summary)
            } else {
                lines.append(usage)
                lines.append(String(repeating: " ", count: 46) + summary)
            }
        }
        return lines
    }

    func help(forGroup words: [String]) -> String {
        guard !words.isEmpty else { return self.overview() }
        let members = self.commands.filter { $0.path.starts(with: words) }
        return (["Commands under `nightshift \(words.joined(separator: " "))`:"] + self.commandList(members))
            .joined(separator: "\n")
    }

    func help(for command: CommandSpec) -> String {
        var lines = ["Usage: \(command.usageLine)", ""]
        lines += command.summary.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if !command.options.isEmpty {
            lines += ["", "Options:"]
            for option in command.options {
                let head = "  " + option.name + (option.value.map { " \($0)" } ?? "")
                if head.count < 26 {
                    lines.append(head.padding(toLength: 28, withPad: " ", startingAt: 0) + option.help)
                } else {
                    lines.append(head)
                    lines.append(String(repeating: " ", count: 28) + option.help)
                }
            }
        }
        lines.append("  -h, --help                Show this help.")
        return lines.joined(separator: "\n")
    }
}

/// Returns the candidate within two edits of `word`, if exactly one is closest.
func closestMatch(to word: String, among candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, cb) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
    let scored = candidates.map { ($0, distance(Array(word), Array($0))) }.filter { $0.1 <= 2 }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return scored.filter { $0.1 == best.1 }.count == 1 ? best.0 : nil
}

/// Overwrites the values of secret options in the process's argument memory, which `/proc/PID/cmdline` and `ps`
/// show, and warns once that they were visible until then.
func hideSecretArguments(_ parsed: ParsedArguments) {
    guard !parsed.secretsGiven.isEmpty else { return }
    let secrets = Set(parsed.secretsGiven.compactMap { parsed.values[$0] })
    let names = Set(parsed.secretsGiven)
    for index in 1..<Int(CommandLine.argc) {
        guard let pointer = CommandLine.unsafeArgv[index] else { continue }
        let argument = String(cString: pointer)
        var start: Int? = nil
        if secrets.contains(argument), index > 1,
            let previous = CommandLine.unsafeArgv[index - 1].map({ String(cString: $0) }), names.contains(previous)
        {
            start = 0
        } else if let equals = argument.firstIndex(of: "="), names.contains(String(argument[..<equals])) {
            start = argument.utf8.distance(from: argument.startIndex, to: equals) + 1
        }
        guard let start else { continue }
        let length = strlen(pointer)
        if length > start { memset(pointer + start, Int32(UInt8(ascii: "x")), length - start) }
    }
    let list = parsed.secretsGiven.joined(separator: ", ")
    printError(
        "nightshift: warning: \(list) on the command line was visible to other users in `ps` until now; "
            + "prefer the environment variable or token file that `--help` names"
    )
}
