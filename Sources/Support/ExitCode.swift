/// Process exit codes from sysexits(3), as used by every nightshift command.
public enum ExitCode: Int32, Sendable {
    case success = 0
    /// A run or check completed but its result was a failure.
    case failure = 1
    /// The command was used incorrectly: unknown option, missing argument.
    case usage = 64
    /// The input data was invalid, for example a config file with errors.
    case dataError = 65
    /// An input file or directory does not exist or cannot be read.
    case noInput = 66
    /// A service the command needs is unavailable.
    case unavailable = 69
    /// An internal software error.
    case software = 70
    /// A cannot-create or I/O failure on a local file.
    case cannotCreate = 73
    /// A temporary failure; trying again later may work.
    case temporaryFailure = 75
    /// Missing permission, for example to read a credential file.
    case noPermission = 77
    /// A configuration error that is not a syntax error.
    case configError = 78
}
