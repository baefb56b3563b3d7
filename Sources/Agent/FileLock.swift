import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock` on a file in the state directory, held until `release()` or deinit.
///
/// `flock` locks belong to an open file description, so two locks on the same path conflict even inside one
/// process, and the kernel drops a lock when its process dies, including by SIGKILL. That makes the locks a
/// reliable way for `nightshift run` and `nightshift start` to see which runs and jobs a live process owns.
public final class FileLock: @unchecked Sendable {
    private var descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Returns the lock on `path`, or nil when another holder has it. Throws when the file cannot be opened.
    public static func tryAcquire(_ path: String) throws -> FileLock? {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw JournalError(operation: "open lock file \(path)", message: String(cString: strerror(errno)))
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            close(descriptor)
            return nil
        }
        return FileLock(descriptor: descriptor)
    }

    public func release() {
        if self.descriptor >= 0 {
            close(self.descriptor)
            self.descriptor = -1
        }
    }

    deinit {
        self.release()
    }
}
