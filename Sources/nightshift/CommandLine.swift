import Config
import Foundation
import Support

/// A parsed command line: the command, its positional arguments and its options.
struct ParsedArguments {
    var command: String
    var positional: [String] = []
    var configPath: String = Configuration.defaultPath
    var count: Int = 5
    var directory: String? = nil
    var verbose = false
}

/// A usage error: the message and the exit code 64.
struct UsageError: Error, CustomStringConvertible {
    var message: String

    var description: String { "nightshift: \(self.message)\nRun `nightshift --help` for usage." }
}

/// Returned by `--help` and `--version`: print the text and exit 0.
struct CleanExit: Error {
    var text: String
}

enum CommandLineParser {
    static let commands = ["run", "validate", "next", "start", "demo"]

    static let help = """
        nightshift \(NightshiftVersion.current): scheduled ML training on Paperspace machines that are always torn down.

        Usage:
          nightshift run [--config PATH]                 Run the daemon in the foreground (for systemd).
          nightshift validate [--config PATH]            Check the config; exit 0, or 65 listing every error.
          nightshift next [JOB] [--count N] [--config PATH]
                                                         Print the next N fire times (default 5) of each job,
                                                         in the job's time zone and in UTC.
          nightshift start JOB [--config PATH]           Run JOB once now in the foreground, printing each state
                                                         change; exit 0 when it succeeded, 1 when it failed,
                                                         69 when teardown failed and a machine needs a person.
          nightshift demo [--dir PATH] [--verbose]       Run one scheduled training cycle against local stand-ins
                                                         for Paperspace, the Hub and chat webhooks.

        Options:
          --config PATH   The config file (default \(Configuration.defaultPath)).
          --count N       How many fire times `next` prints (1 to 1000).
          --dir PATH      Where `demo` keeps its files (default: a new directory under /tmp).
          --verbose       Show the daemon's log lines during `demo`.
          -h, --help      Show this help.
          --version       Show the version.

        Signals: SIGINT or SIGTERM make `run` and `start` tear down every active run, then exit. A second signal
        exits at once with status 75, and the next `nightshift run` finishes the teardown from the journal.
        Exit codes: 0 success, 1 run failed, 64 usage error, 65 invalid config, 69 teardown failed or service
        unavailable, 70 internal error, 75 temporary failure.
        """

    static func parse(_ arguments: [String]) throws -> ParsedArguments {
        var remaining = arguments[...]
        var command: String? = nil
        var parsed = ParsedArguments(command: "")

        func value(for option: String) throws -> String {
            guard let next = remaining.popFirst(), !next.hasPrefix("--") else {
                throw UsageError(message: "option \(option) requires a value")
            }
            return next
        }

        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help", "help":
                throw CleanExit(text: Self.help)
            case "--version":
                throw CleanExit(text: "nightshift \(NightshiftVersion.current)")
            case "--config":
                parsed.configPath = try value(for: argument)
            case "--count":
                let text = try value(for: argument)
                guard let count = Int(text), (1...1000).contains(count) else {
                    throw UsageError(message: "invalid --count \(text): expected a whole number from 1 to 1000")
                }
                parsed.count = count
            case "--dir":
                parsed.directory = try value(for: argument)
            case "--verbose":
                parsed.verbose = true
            default:
                if argument.hasPrefix("--config=") {
                    parsed.configPath = String(argument.dropFirst("--config=".count))
                } else if argument.hasPrefix("-") {
                    throw UsageError(message: "unknown option \(argument)")
                } else if command == nil {
                    guard Self.commands.contains(argument) else {
                        throw UsageError(
                            message:
                                "unknown command \(argument); commands are \(Self.commands.joined(separator: ", "))"
                        )
                    }
                    command = argument
                } else {
                    parsed.positional.append(argument)
                }
            }
        }
        guard let command else {
            throw UsageError(message: "missing command; commands are \(Self.commands.joined(separator: ", "))")
        }
        parsed.command = command
        switch command {
        case "start":
            guard parsed.positional.count == 1 else { throw UsageError(message: "start requires exactly one JOB name") }
        case "next":
            guard parsed.positional.count <= 1 else { throw UsageError(message: "next takes at most one JOB name") }
        default:
            guard parsed.positional.isEmpty else {
                throw UsageError(
                    message: "\(command) takes no arguments, got \(parsed.positional.joined(separator: " "))"
                )
            }
        }
        return parsed
    }
}
