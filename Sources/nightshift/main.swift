import Foundation
import Support

// The thin executable: parse the command line and hand off to one command.

let exitCode: Int32
do {
    let arguments = try CommandLineParser.parse(Array(CommandLine.arguments.dropFirst()))
    switch arguments.command {
    case "validate": exitCode = Commands.validate(arguments)
    case "next": exitCode = Commands.next(arguments)
    case "run": exitCode = Commands.run(arguments)
    case "start": exitCode = Commands.start(arguments)
    case "demo": exitCode = DemoCommand.run(arguments)
    default: exitCode = ExitCode.usage.rawValue
    }
} catch let clean as CleanExit {
    writeLine(clean.text)
    exitCode = ExitCode.success.rawValue
} catch {
    printError("\(error)")
    exitCode = ExitCode.usage.rawValue
}
exit(exitCode)
