import CZlib
import Foundation

/// Compresses a byte stream into one gzip member on several threads, in the manner of pigz, and writes it to a
/// file descriptor.
///
/// The input is cut into blocks of `blockSize` bytes. Each block is compressed on a worker thread as raw deflate
/// primed with the previous block's last 32 KiB and ended with a sync flush (the last one with `Z_FINISH`), so the
/// blocks concatenate into one deflate stream. The trailer's CRC-32 is the per-block CRCs joined with
/// `crc32_combine`. At most `maxBlocksInFlight` blocks are queued or compressed at a time, which bounds memory to
/// about `2 * maxBlocksInFlight * blockSize`. With one worker there are no threads: a single deflate stream runs
/// on the caller's thread.
///
/// The writer neither syncs nor closes the descriptor, because `AtomicFile` does that.
public final class ParallelGzipWriter: ArchiveByteSink, @unchecked Sendable {
    public static let defaultBlockSize = 512 * 1024
    /// The deflate window, and so the largest useful preset dictionary.
    static let dictionarySize = 32 * 1024

    public let workers: Int
    public let level: Int
    public let blockSize: Int
    public let maxBlocksInFlight: Int

    /// Uncompressed bytes accepted so far.
    public private(set) var bytesIn: Int64 = 0
    /// Compressed bytes written to the descriptor so far, gzip header and trailer included.
    public private(set) var bytesOut: Int64 = 0

    private let descriptor: Int32
    private let outputName: String
    private var crc: UInt = 0
    private var finished = false

    // Serial path.
    private var serialStream: DeflateStream?
    private var serialOutput: [UInt8] = []
    private var serialProduced = 0

    // Parallel path.
    private var pipeline: BlockPipeline?
    private var block: [UInt8] = []
    private var previousTail: [UInt8] = []
    private var nextIndex = 0
    private var nextToWrite = 0

    /// Starts a gzip stream on `fileDescriptor`. `outputName` only names the output in errors.
    public init(
        fileDescriptor: Int32,
        outputName: String = "output",
        level: Int = 6,
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        blockSize: Int = ParallelGzipWriter.defaultBlockSize,
        maxBlocksInFlight: Int? = nil
    ) throws {
        precondition((0...9).contains(level), "compression level must be 0...9")
        precondition(workers >= 1, "at least one worker")
        precondition(blockSize >= 64 * 1024, "blocks shorter than 64 KiB lose too much ratio to the flushes")
        self.descriptor = fileDescriptor
        self.outputName = outputName
        self.level = level
        self.workers = workers
        self.blockSize = blockSize
        self.maxBlocksInFlight = max(maxBlocksInFlight ?? 4 * workers, 1)

        try self.writeOut(Self.header(level: level))
        if workers == 1 {
            self.serialStream = try DeflateStream(level: level)
            self.serialOutput = [UInt8](repeating: 0, count: 256 * 1024)
        } else {
            self.block.reserveCapacity(blockSize)
            self.pipeline = BlockPipeline(workers: workers, level: level)
        }
    }

    deinit {
        self.pipeline?.stop()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!self.finished, "ParallelGzipWriter.write after finish")
        guard !bytes.isEmpty else { return }
        self.bytesIn += Int64(bytes.count)
        if self.serialStream != nil {
            self.crc = crc32(self.crc, bytes.baseAddress!.assumingMemoryBound(to: Bytef.self), UInt32(bytes.count))
            try self.serialDeflate(bytes, flush: Z_NO_FLUSH)
            return
        }
        var remaining = bytes
        while !remaining.isEmpty {
            let count = min(self.blockSize - self.block.count, remaining.count)
            self.block.append(contentsOf: UnsafeRawBufferPointer(rebasing: remaining[0..<count]))
            remaining = UnsafeRawBufferPointer(rebasing: remaining[count...])
            if self.block.count == self.blockSize {
                try self.submitBlock(isLast: false)
            }
        }
    }

    /// Compresses what is left, waits for every block and writes the trailer. The stream is complete only when
    /// this returns without throwing.
    public func finish() throws {
        precondition(!self.finished, "ParallelGzipWriter.finish called twice")
        self.finished = true
        if self.serialStream != nil {
            try self.serialDeflate(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        } else {
            try self.submitBlock(isLast: true)
            try self.writeReadyBlocks(untilInFlightBelow: 1)
            self.pipeline?.stop()
        }
        var trailer = [UInt8](repeating: 0, count: 8)
        let length = UInt32(truncatingIfNeeded: self.bytesIn)
        for index in 0..<4 {
            trailer[index] = UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: self.crc) >> (8 * index))
            trailer[4 + index] = UInt8(truncatingIfNeeded: length >> (8 * index))
        }
        try self.writeOut(trailer)
    }

    /// Stops the worker threads without completing the stream, after a failure elsewhere.
    public func cancel() {
        self.finished = true
        self.pipeline?.stop()
    }

    /// Returns the 10-byte gzip header, with no name and mtime 0 so equal input gives equal output, and OS 3 (Unix).
    static func header(level: Int) -> [UInt8] {
        let extraFlags: UInt8 = level == 9 ? 2 : (level == 1 ? 4 : 0)
        return [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 3]
    }

    // MARK: Serial path

    private func serialDeflate(_ input: UnsafeRawBufferPointer, flush: Int32) throws {
        guard let stream = self.serialStream else { return }
        var remaining = input
        while true {
            let consumed = try stream.step(
                remaining,
                flush: flush,
                output: &self.serialOutput,
                produced: &self.serialProduced
            )
            remaining = UnsafeRawBufferPointer(rebasing: remaining[consumed...])
            if self.serialProduced == self.serialOutput.count {
                try self.writeOut(self.serialOutput)
                self.serialProduced = 0
                continue
            }
            if flush == Z_FINISH {
                guard stream.streamEnded else { continue }
                try self.writeOut(Array(self.serialOutput[0..<self.serialProduced]))
                self.serialProduced = 0
                return
            }
            // With output space left over, deflate has consumed all its input.
            if remaining.isEmpty { return }
        }
    }

    // MARK: Parallel path

    private func submitBlock(isLast: Bool) throws {
        guard let pipeline = self.pipeline else { return }
        let input = self.block
        let job = BlockJob(index: self.nextIndex, input: input, dictionary: self.previousTail, isLast: isLast)
        self.nextIndex += 1
        self.previousTail = Array(input.suffix(Self.dictionarySize))
        self.block = []
        self.block.reserveCapacity(self.blockSize)
        pipeline.enqueue(job)
        try self.writeReadyBlocks(untilInFlightBelow: self.maxBlocksInFlight)
    }

    /// Writes finished blocks in order, waiting while `limit` or more blocks are still in flight.
    private func writeReadyBlocks(untilInFlightBelow limit: Int) throws {
        guard let pipeline = self.pipeline else { return }
        while let result = try pipeline.takeResult(index: self.nextToWrite, waitWhileInFlightAtLeast: limit) {
            try self.writeOut(result.output)
            self.crc = crc32_combine(self.crc, result.crc, result.length)
            self.nextToWrite += 1
            pipeline.markWritten()
        }
    }

    private func writeOut(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Foundation.write(self.descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.writeFailed(path: self.outputName, operation: "write", errno: errno)
            }
            offset += written
        }
        self.bytesOut += Int64(bytes.count)
    }
}

/// One block of input for a worker. `dictionary` is the previous block's tail, empty for the first block.
struct BlockJob: Sendable {
    var index: Int
    var input: [UInt8]
    var dictionary: [UInt8]
    var isLast: Bool
}

/// A compressed block with the CRC-32 and length of its input.
struct BlockResult: Sendable {
    var output: [UInt8]
    var crc: UInt
    var length: Int
}

/// The job queue, the finished blocks and the worker threads of a `ParallelGzipWriter`.
final class BlockPipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [BlockJob] = []
    private var results: [Int: BlockResult] = [:]
    /// Blocks enqueued and not yet written out.
    private var inFlight = 0
    private var stopped = false
    private var failure: ArchiveError?

    init(workers: Int, level: Int) {
        for _ in 0..<workers {
            let thread = Thread { [self] in self.runWorker(level: level) }
            thread.name = "nightshift-gzip"
            thread.start()
        }
    }

    func enqueue(_ job: BlockJob) {
        self.condition.lock()
        self.queue.append(job)
        self.inFlight += 1
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// Returns block `index` once it is compressed, or nil when it is not ready and fewer than `limit` blocks are
    /// in flight. Throws the first worker failure.
    func takeResult(index: Int, waitWhileInFlightAtLeast limit: Int) throws -> BlockResult? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.results[index] == nil && self.failure == nil && self.inFlight >= limit {
            self.condition.wait()
        }
        if let failure = self.failure { throw failure }
        return self.results.removeValue(forKey: index)
    }

    func markWritten() {
        self.condition.lock()
        self.inFlight -= 1
        self.condition.unlock()
    }

    /// Lets the workers exit once the queue is empty, dropping jobs not yet started.
    func stop() {
        self.condition.lock()
        self.stopped = true
        self.queue.removeAll()
        self.condition.broadcast()
        self.condition.unlock()
    }

    private func runWorker(level: Int) {
        let stream: DeflateStream
        do {
            stream = try DeflateStream(level: level)
        } catch {
            self.fail(error as? ArchiveError ?? .compressionFailed(operation: "deflateInit2", code: Z_MEM_ERROR))
            return
        }
        while let job = self.nextJob() {
            do {
                let result = try job.input.withUnsafeBytes { input in
                    let output = try stream.compressBlock(input, dictionary: job.dictionary, isLast: job.isLast)
                    let checksum =
                        input.isEmpty
                        ? 0 : crc32(0, input.baseAddress!.assumingMemoryBound(to: Bytef.self), UInt32(input.count))
                    return BlockResult(output: output, crc: checksum, length: input.count)
                }
                self.condition.lock()
                self.results[job.index] = result
                self.condition.broadcast()
                self.condition.unlock()
            } catch {
                self.fail(error as? ArchiveError ?? .compressionFailed(operation: "deflate", code: Z_STREAM_ERROR))
            }
        }
    }

    private func nextJob() -> BlockJob? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.queue.isEmpty && !self.stopped {
            self.condition.wait()
        }
        // The queue contains at most `maxBlocksInFlight` jobs, so removing from the front stays cheap.
        return self.queue.isEmpty ? nil : self.queue.removeFirst()
    }

    private func fail(_ error: ArchiveError) {
        self.condition.lock()
        if self.failure == nil { self.failure = error }
        self.condition.broadcast()
        self.condition.unlock()
    }
}
