import Foundation

/// An error from reading a file to hash it: the path and the system's reason.
public struct FileReadError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "cannot read \(self.path): \(self.reason)" }
}

extension Digest {
    /// Returns the SHA-256 of the file at `path`, read in 1 MiB chunks, so memory stays flat whatever its size.
    /// `progress` receives the bytes read by each chunk.
    public static func sha256(contentsOf path: String, progress: (Int64) -> Void = { _ in }) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var hasher = SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bytes: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            progress(Int64(count))
        }
        return hasher.finalize()
    }
}
