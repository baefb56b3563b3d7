import Foundation
import Support

// The thin executable: parse the command line and hand off to one command.

let exitCode: Int32
do {
    let arguments = try CommandTable.parser.parse(Array(CommandLine.arguments.dropFirst()))
    hideSecretArguments(arguments)
    exitCode = arguments.command.run(arguments)
} catch let clean as CleanExit {
    writeLine(clean.text)
    exitCode = ExitCode.success.rawValue
} catch {
    printError("\(error)")
    exitCode = ExitCode.usage.rawValue
}
exit(exitCode)
