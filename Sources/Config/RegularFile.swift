import Foundation

/// Reading of the config file and of secret files with POSIX calls, so failures carry errno's description.
enum RegularFile {
    struct Contents {
        var bytes: [UInt8]
        /// The `st_mode` bits, for the permission check on inline secrets.
        var mode: mode_t
    }

    /// A failure without the file contents in it, so it can be shown for secret files too.
    struct Problem: Error {
        var message: String
        var errorCode: Int32?
    }

    /// Reads the whole regular file at `path`, rejecting files larger than `maxSize` bytes.
    static func read(_ path: String, maxSize: Int) -> Result<Contents, Problem> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            return .failure(Problem(message: String(cString: strerror(code)), errorCode: code))
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            return .failure(Problem(message: String(cString: strerror(code)), errorCode: code))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            return .failure(Problem(message: "it is not a regular file"))
        }

        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        // The size is checked while reading instead of from `st_size`, because files such as those under
        // /proc report a size of 0.
        while true {
            let count = Foundation.read(descriptor, &buffer, buffer.count)
            if count < 0 {
                let code = errno
                if code == EINTR {
                    continue
                }
                return .failure(Problem(message: String(cString: strerror(code)), errorCode: code))
            }
            if count == 0 {
                break
            }
            bytes += buffer[0..<count]
            guard bytes.count <= maxSize else {
                return .failure(Problem(message: "it is larger than the \(maxSize) bytes allowed"))
            }
        }
        return .success(Contents(bytes: bytes, mode: status.st_mode))
    }
}
