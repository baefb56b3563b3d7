import CZlib

/// A zlib raw-deflate stream at a fixed heap address. zlib keeps a pointer back to its `z_stream` and rejects
/// calls made through a copy, so the struct must never move while the stream is open.
final class DeflateStream {
    private let stream: UnsafeMutablePointer<z_stream>

    init(level: Int) throws {
        self.stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        let code = nightshift_deflate_init_raw(self.stream, Int32(level))
        guard code == Z_OK else {
            self.stream.deallocate()
            throw ArchiveError.compressionFailed(operation: "deflateInit2", code: code)
        }
    }

    deinit {
        deflateEnd(self.stream)
        self.stream.deallocate()
    }

    /// Compresses `input` as one independent block: a fresh stream primed with `dictionary` (the 32 KiB before
    /// the block), ended with a sync flush so the next block starts on a byte boundary, or with `Z_FINISH` when
    /// `isLast`.
    func compressBlock(_ input: UnsafeRawBufferPointer, dictionary: [UInt8], isLast: Bool) throws -> [UInt8] {
        var code = deflateReset(self.stream)
        self.streamEnded = false
        guard code == Z_OK else { throw ArchiveError.compressionFailed(operation: "deflateReset", code: code) }
        if !dictionary.isEmpty {
            code = dictionary.withUnsafeBufferPointer { buffer in
                deflateSetDictionary(self.stream, buffer.baseAddress, UInt32(buffer.count))
            }
            guard code == Z_OK else {
                throw ArchiveError.compressionFailed(operation: "deflateSetDictionary", code: code)
            }
        }
        // deflateBound covers one deflate call, and a few bytes more contain the empty stored block of the sync flush.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(self.stream, UInt(input.count))) + 64)
        var produced = 0
        try self.run(input, flush: isLast ? Z_FINISH : Z_SYNC_FLUSH, output: &output, produced: &produced)
        output.removeLast(output.count - produced)
        return output
    }

    /// Whether the last `step` with `Z_FINISH` completed the stream.
    private(set) var streamEnded = false

    /// Runs deflate until all of `input` is consumed and, for a flush, all pending output is out, growing
    /// `output` when it fills.
    private func run(_ input: UnsafeRawBufferPointer, flush: Int32, output: inout [UInt8], produced: inout Int) throws {
        var remaining = input
        while true {
            let consumed = try self.step(remaining, flush: flush, output: &output, produced: &produced)
            remaining = UnsafeRawBufferPointer(rebasing: remaining[consumed...])
            let done = flush == Z_FINISH ? self.streamEnded : (remaining.isEmpty && produced < output.count)
            if done { return }
            if produced == output.count {
                output += [UInt8](repeating: 0, count: max(output.count, 1024))
            }
        }
    }

    /// Runs one deflate call from `input` into `output[produced...]` and returns the input bytes consumed.
    func step(_ input: UnsafeRawBufferPointer, flush: Int32, output: inout [UInt8], produced: inout Int) throws
        -> Int
    {
        let inputCount = input.count
        let capacity = output.count - produced
        let start = produced
        var code: Int32 = Z_OK
        var availableIn: UInt32 = 0
        var availableOut: UInt32 = 0
        output.withUnsafeMutableBytes { outputBuffer in
            self.stream.pointee.next_in = UnsafeMutablePointer(
                mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self)
            )
            self.stream.pointee.avail_in = UInt32(inputCount)
            self.stream.pointee.next_out = outputBuffer.baseAddress!.advanced(by: start)
                .assumingMemoryBound(to: Bytef.self)
            self.stream.pointee.avail_out = UInt32(capacity)
            code = deflate(self.stream, flush)
            availableIn = self.stream.pointee.avail_in
            availableOut = self.stream.pointee.avail_out
        }
        if code == Z_STREAM_END {
            self.streamEnded = true
        } else if code != Z_OK && code != Z_BUF_ERROR {
            throw ArchiveError.compressionFailed(operation: "deflate", code: code)
        }
        produced += capacity - Int(availableOut)
        return inputCount - Int(availableIn)
    }
}
