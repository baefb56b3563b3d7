import Config
import Foundation
import Support

/// Every command of `nightshift`, in the order the overview lists them.
enum CommandTable {
    static var all: [CommandSpec] {
        Self.daemon + StatusCommands.specs + NotifyCommands.specs + Self.hub + ArchiveCommands.specs
            + SSHCommands.specs + MachineCLI.specs
    }

    static let parser = CommandLineParser(commands: Self.all, checkValue: Self.check)

    /// The daemon and its config: run, validate, next, start, demo.
    static let daemon: [CommandSpec] = [
        CommandSpec(
            path: ["run"],
            summary: """
                Run the daemon in the foreground (for systemd).
                Fires every job on its schedule, recovers interrupted runs from the journal and tears down their
                machines, and exits after SIGINT or SIGTERM once every active run is torn down.
                """,
            options: [.config],
            run: Commands.run
        ),
        CommandSpec(
            path: ["validate"],
            summary: "Check the config; exit 0, or 65 listing every error.",
            options: [.config],
            run: Commands.validate
        ),
        CommandSpec(
            path: ["next"],
            arguments: "[JOB]",
            positional: 0...1,
            summary: """
                Print the next fire times of each job, in its time zone and in UTC.
                Prints N fire times (default 5) per job, with the zone's abbreviation and UTC offset.
                """,
            options: [.value("--count", "N", "How many fire times to print (1 to 1000, default 5)."), .config],
            run: Commands.next
        ),
        CommandSpec(
            path: ["start"],
            arguments: "JOB",
            positional: 1...1,
            summary: """
                Run JOB once now in the foreground, printing each state change.
                Exits 0 when the run succeeded, 1 when it failed, and 69 when teardown failed and a machine needs
                a person.
                """,
            options: [.config],
            run: Commands.start
        ),
        CommandSpec(
            path: ["demo"],
            summary: """
                Run one training cycle against local stand-ins, end to end.
                The stand-ins replace Paperspace, the Hub and chat webhooks on 127.0.0.1, so nothing leaves the machine.
                """,
            options: [
                .value("--dir", "PATH", "Where the demo keeps its files (default: a new directory under /tmp)."),
                .flag("--verbose", "Show the daemon's log lines."),
            ],
            run: DemoCommand.run
        ),
    ]

    /// Checks the option values that have a fixed form; returns the problem with a value, or nil.
    static let check: @Sendable (String, String) -> String? = { name, value in
        switch name {
        case "--limit":
            guard let limit = Int(value), (1...1000).contains(limit) else {
                return "expected a whole number from 1 to 1000"
            }
            return nil
        case "--count":
            guard let count = Int(value), (1...1000).contains(count) else {
                return "expected a whole number from 1 to 1000"
            }
            return nil
        default:
            return nil
        }
    }
}
