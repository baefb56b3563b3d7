import Foundation
import Support

/// Errors from writing a tar.gz archive, each with the failing path or value and what to do about it.
public enum ArchiveError: Error, CustomStringConvertible, Equatable {
    /// A name inside the archive that is empty, absolute or contains `..`.
    case invalidArchiveName(String)
    /// A source path that does not exist or cannot be examined.
    case sourceNotFound(path: String, errno: Int32)
    /// A source that is neither a regular file, a directory nor a symbolic link (a socket, FIFO or device).
    case unsupportedFileType(path: String)
    /// A file that could not be opened or read.
    case readFailed(path: String, errno: Int32)
    /// A file whose size changed between the header being written and its contents being read.
    case fileChanged(path: String, expectedSize: Int64, actualSize: Int64)
    /// The output could not be created, written, synced or renamed.
    case writeFailed(path: String, operation: String, errno: Int32)
    /// zlib returned an error code.
    case compressionFailed(operation: String, code: Int32)
    /// Required training CSVs are missing, each listed with its full path.
    case missingTrainingData(paths: [String])
    /// No result directory exists, or none of them contains a file.
    case nothingToArchive(checked: [String])
    /// The output directory does not exist.
    case outputDirectoryNotFound(String)

    public var description: String {
        switch self {
        case .invalidArchiveName(let name):
            return "invalid archive name '\(name)': names must be relative, non-empty and must not contain '..'"
        case .sourceNotFound(let path, let code):
            return "cannot examine \(path): \(Self.message(code)). Check that the path exists and is readable."
        case .unsupportedFileType(let path):
            return "cannot archive \(path): only regular files, directories and symbolic links are supported. "
                + "Remove it or exclude its directory."
        case .readFailed(let path, let code):
            return "failed to read \(path): \(Self.message(code)). Check its permissions."
        case .fileChanged(let path, let expected, let actual):
            return "\(path) changed size while it was being archived (\(expected) bytes expected, \(actual) found). "
                + "Stop whatever is writing it and retry."
        case .writeFailed(let path, let operation, let code):
            return "failed to \(operation) \(path): \(Self.message(code)). Check free space and permissions."
        case .compressionFailed(let operation, let code):
            return "zlib \(operation) failed with code \(code)"
        case .missingTrainingData(let paths):
            let list = paths.map { "  \($0)" }.joined(separator: "\n")
            return "missing training data (\(paths.count) of \(WorkspaceLayout.trainingCSVs.count) CSVs):\n"
                + list + "\nThe feature preparation step writes these CSVs from the raw ticks. Run it, then retry."
        case .nothingToArchive(let checked):
            let list = checked.map { "  \($0)" }.joined(separator: "\n")
            return "nothing to archive: none of these directories exists or contains a file:\n" + list
                + "\nRun a training first, or check the workspace root."
        case .outputDirectoryNotFound(let path):
            return "output directory not found: \(path). Create it or pass another directory."
        }
    }

    private static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
