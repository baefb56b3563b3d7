import Foundation

/// An output file written under a temporary name in the final directory and renamed into place only after an
/// fsync, so a failed or killed run never leaves a partial file under the final name.
///
/// `commit` replaces an existing file at the final path. A run that is killed outright leaves its
/// `.<name>.partial-<pid>-<random>` file behind, but one that fails or calls `discard` removes it.
public final class AtomicFile {
    public let finalPath: String
    public let temporaryPath: String
    public let fileDescriptor: Int32
    private var open = true

    public init(finalPath: String, mode: mode_t = 0o644) throws {
        let url = URL(fileURLWithPath: finalPath)
        let directory = url.deletingLastPathComponent().path
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.finalPath = finalPath
        self.temporaryPath = directory + "/." + url.lastPathComponent + ".partial-\(getpid())-\(random)"
        let descriptor = Foundation.open(self.temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw ArchiveError.writeFailed(path: self.temporaryPath, operation: "create", errno: errno)
        }
        self.fileDescriptor = descriptor
    }

    deinit {
        self.discard()
    }

    /// Syncs the data, closes the file, renames it to the final path and syncs the directory so the rename
    /// survives a crash.
    public func commit() throws {
        precondition(self.open, "AtomicFile.commit after commit or discard")
        guard fsync(self.fileDescriptor) == 0 else {
            let code = errno
            self.discard()
            throw ArchiveError.writeFailed(path: self.temporaryPath, operation: "fsync", errno: code)
        }
        self.open = false
        guard close(self.fileDescriptor) == 0 else {
            let code = errno
            unlink(self.temporaryPath)
            throw ArchiveError.writeFailed(path: self.temporaryPath, operation: "close", errno: code)
        }
        guard rename(self.temporaryPath, self.finalPath) == 0 else {
            let code = errno
            unlink(self.temporaryPath)
            throw ArchiveError.writeFailed(path: self.finalPath, operation: "rename to", errno: code)
        }
        let directory = URL(fileURLWithPath: self.finalPath).deletingLastPathComponent().path
        let directoryDescriptor = Foundation.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Closes and removes the temporary file. Does nothing after `commit` or a previous `discard`.
    public func discard() {
        guard self.open else { return }
        self.open = false
        close(self.fileDescriptor)
        unlink(self.temporaryPath)
    }
}
