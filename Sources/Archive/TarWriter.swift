import Foundation

/// A destination for archive bytes, such as a `ParallelGzipWriter` or an in-memory buffer.
public protocol ArchiveByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// The owner ids written into tar headers. User and group names are always empty.
public enum TarOwnership: Sendable, Equatable {
    /// uid and gid 0, so archives of the same files are identical regardless of who makes them.
    case root
    /// The numeric uid and gid of each file on disk.
    case numeric
}

/// Writes a POSIX ustar stream (with PAX extended headers where ustar fields are too small) to a sink.
///
/// Files are read in chunks of `chunkSize` bytes, so memory stays bounded whatever their size. A member's header
/// carries the size measured when the file is opened, and a file that then shrinks or grows is reported as
/// `ArchiveError.fileChanged` instead of being written with the wrong length.
public final class TarWriter {
    private let sink: any ArchiveByteSink
    private let ownership: TarOwnership
    private var buffer: [UInt8]
    /// Sizes above this go to a PAX `size` record. The ustar maximum in production, lowered only by tests.
    let sizeLimit: Int64
    private var finished = false

    /// Bytes written to the sink so far, headers and padding included.
    public private(set) var bytesWritten: Int64 = 0

    public convenience init(sink: any ArchiveByteSink, ownership: TarOwnership = .root, chunkSize: Int = 1 << 20) {
        self.init(sink: sink, ownership: ownership, chunkSize: chunkSize, sizeLimit: TarHeader.maxOctal11)
    }

    init(sink: any ArchiveByteSink, ownership: TarOwnership, chunkSize: Int, sizeLimit: Int64) {
        precondition(chunkSize >= TarHeader.blockSize, "chunkSize must be at least one tar block")
        self.sink = sink
        self.ownership = ownership
        self.buffer = [UInt8](repeating: 0, count: chunkSize)
        self.sizeLimit = sizeLimit
    }

    /// Appends a directory member. `name` must already be a valid archive name.
    public func appendDirectory(name: String, mode: UInt32, mtime: Int64, uid: Int64 = 0, gid: Int64 = 0) throws {
        try self.writeHeader(TarHeader(name: name, kind: .directory, mode: mode, mtime: mtime), uid: uid, gid: gid)
    }

    /// Appends a symbolic link member that stores `target` as it is, without following it.
    public func appendSymbolicLink(
        name: String,
        target: String,
        mode: UInt32,
        mtime: Int64,
        uid: Int64 = 0,
        gid: Int64 = 0
    ) throws {
        let header = TarHeader(name: name, kind: .symbolicLink(target: target), mode: mode, mtime: mtime)
        try self.writeHeader(header, uid: uid, gid: gid)
    }

    /// Appends the regular file at `path` as `name` and returns its size. `progress` receives the number of
    /// content bytes read after each chunk, and may throw to stop the archive.
    @discardableResult
    public func appendFile(at path: String, name: String, progress: (Int64) throws -> Void = { _ in }) throws -> Int64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ArchiveError.readFailed(path: path, errno: errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw ArchiveError.readFailed(path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ArchiveError.unsupportedFileType(path: path) }
        _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))

        let size = Int64(info.st_size)
        let header = TarHeader(
            name: name,
            kind: .file(size: size),
            mode: UInt32(info.st_mode),
            mtime: Int64(info.st_mtim.tv_sec)
        )
        try self.writeHeader(header, uid: Int64(info.st_uid), gid: Int64(info.st_gid))

        var remaining = size
        while remaining > 0 {
            let requested = Int(min(Int64(self.buffer.count), remaining))
            let count = try self.readChunk(descriptor, count: requested, path: path)
            if count == 0 {
                throw ArchiveError.fileChanged(
                    path: path,
                    expectedSize: size,
                    actualSize: Self.currentSize(descriptor, fallback: size - remaining)
                )
            }
            try self.emitBuffer(count: count)
            remaining -= Int64(count)
            try progress(Int64(count))
        }
        // One more read distinguishes a file that grew after the header from one that ends at the header size.
        if try self.readChunk(descriptor, count: 1, path: path) > 0 {
            throw ArchiveError.fileChanged(
                path: path,
                expectedSize: size,
                actualSize: Self.currentSize(descriptor, fallback: size + 1)
            )
        }
        try self.writeZeros(TarHeader.padding(for: size))
        return size
    }

    /// Writes the two zero blocks that end a tar stream, then pads it to a whole 10 KiB record as GNU tar does.
    /// Later appends are a programming error.
    public func finish() throws {
        precondition(!self.finished, "TarWriter.finish called twice")
        self.finished = true
        try self.writeZeros(2 * TarHeader.blockSize)
        let record: Int64 = 20 * Int64(TarHeader.blockSize)
        let remainder = self.bytesWritten % record
        if remainder != 0 {
            try self.writeZeros(Int(record - remainder))
        }
    }

    private func writeHeader(_ header: TarHeader, uid: Int64, gid: Int64) throws {
        precondition(!self.finished, "TarWriter used after finish")
        var header = header
        if self.ownership == .numeric {
            header.uid = uid
            header.gid = gid
        }
        let bytes = header.encode(sizeLimit: self.sizeLimit)
        try bytes.withUnsafeBytes { try self.sink.write($0) }
        self.bytesWritten += Int64(bytes.count)
    }

    private func readChunk(_ descriptor: Int32, count: Int, path: String) throws -> Int {
        var total = 0
        while total < count {
            let result = self.buffer.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + total, count - total)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.readFailed(path: path, errno: errno)
            }
            if result == 0 { break }
            total += result
        }
        return total
    }

    private func emitBuffer(count: Int) throws {
        try self.buffer.withUnsafeBytes { buffer in
            try self.sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        self.bytesWritten += Int64(count)
    }

    private func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        let zeros = [UInt8](repeating: 0, count: count)
        try zeros.withUnsafeBytes { try self.sink.write($0) }
        self.bytesWritten += Int64(count)
    }

    private static func currentSize(_ descriptor: Int32, fallback: Int64) -> Int64 {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? Int64(info.st_size) : fallback
    }
}
