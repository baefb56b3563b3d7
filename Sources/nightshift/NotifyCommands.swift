import Agent
import Config
import Foundation
import Notifiers
import Support

/// `nightshift notify test NAME`: one test message through one notifier, now, with the receiver's response.
enum NotifyCommands {
    static let specs: [CommandSpec] = [
        CommandSpec(
            path: ["notify", "test"],
            arguments: "NAME",
            positional: 1...1,
            summary: """
                Send a test message through the notifier NAME right away and print what the receiver answered.
                It bypasses the outbox and the notifier's event filter. Exits 0 when the message was delivered,
                65 for invalid settings, 69 when the receiver rejected it and 75 when it may work later.
                """,
            options: [.config],
            run: NotifyCommands.test
        )
    ]

    static let test: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let configuration = Commands.loadConfiguration(arguments.configPath) else {
            return ExitCode.dataError.rawValue
        }
        let name = arguments.positional[0]
        guard let settings = configuration.notifier(named: name) else {
            let names = configuration.notifiers.map(\.name)
            printError(
                "nightshift: no notifier named \(name) in \(arguments.configPath); "
                    + (names.isEmpty ? "none is defined" : "notifiers are \(names.joined(separator: ", "))")
            )
            return ExitCode.usage.rawValue
        }
        let logger = Commands.makeLogger(configuration, level: .warning)
        let notifier: any Notifier
        do {
            notifier = try Runtime.makeNotifier(settings, logger: logger)
        } catch {
            printError("nightshift: \(error)")
            return ExitCode.dataError.rawValue
        }
        let result = NotifierTester.run(notifier)
        writeLine("\(result)")
        return result.exitCode.rawValue
    }
}
