import Foundation
import Support
import Testing

@testable import Archive

@Suite struct ParallelGzipWriterTests {
    /// Compresses `input` into a file through `ParallelGzipWriter`, feeding it in uneven pieces.
    private func compress(
        _ input: [UInt8],
        to path: String,
        workers: Int,
        level: Int = 6,
        blockSize: Int = 64 * 1024
    ) throws -> ParallelGzipWriter {
        let file = try AtomicFile(finalPath: path)
        let gzip = try ParallelGzipWriter(
            fileDescriptor: file.fileDescriptor,
            level: level,
            workers: workers,
            blockSize: blockSize,
            maxBlocksInFlight: 3
        )
        var offset = 0
        var piece = 1
        while offset < input.count {
            let count = min(piece, input.count - offset)
            try input.withUnsafeBytes {
                try gzip.write(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + count)]))
            }
            offset += count
            piece = piece * 3 + 7
        }
        try gzip.finish()
        try file.commit()
        return gzip
    }

    @Test(arguments: [1, 2, 4])
    func gzipAndPigzAccept(workers: Int) throws {
        let directory = try TemporaryDirectory()
        let input = sampleText(count: 700_000)
        let path = directory.url("data.gz")
        let gzip = try self.compress(input, to: path, workers: workers)
        #expect(gzip.bytesIn == Int64(input.count))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.size] as? NSNumber)?.int64Value == gzip.bytesOut)

        let gzipTest = try shell("gzip -t \(shellQuote(path))")
        #expect(gzipTest.status == 0, "\(gzipTest.output)")
        let pigzTest = try shell("pigz -t \(shellQuote(path))")
        #expect(pigzTest.status == 0, "\(pigzTest.output)")
        #expect(try gunzip(path, into: directory) == input)
    }

    @Test func parallelMatchesSerialTarStream() throws {
        let directory = try TemporaryDirectory()
        try directory.write("tree/big.csv", sampleText(count: 1_200_000, seed: 7), mtime: 1_700_000_000)
        try directory.write("tree/small.csv", sampleText(count: 999, seed: 8), mtime: 1_700_000_000)
        let entries = [ArchiveEntry(sourcePath: directory.url("tree"), archiveName: "workspace/tree")]
        let sink = MemorySink()
        try ArchiveBuilder().writeTar(entries, to: sink)

        for workers in [1, 2, 3] {
            let output = directory.url("w\(workers).tar.gz")
            _ = try ArchiveBuilder(workers: workers, blockSize: 64 * 1024).build(entries, to: output)
            #expect(try gunzip(output, into: directory) == sink.bytes, "workers \(workers)")
        }
    }

    @Test func parallelOutputIsDeterministic() throws {
        let directory = try TemporaryDirectory()
        let input = sampleText(count: 500_000, seed: 3)
        _ = try self.compress(input, to: directory.url("a.gz"), workers: 2)
        _ = try self.compress(input, to: directory.url("b.gz"), workers: 4)
        let first = try Data(contentsOf: URL(fileURLWithPath: directory.url("a.gz")))
        let second = try Data(contentsOf: URL(fileURLWithPath: directory.url("b.gz")))
        #expect(first == second)
    }

    @Test(arguments: [1, 3])
    func emptyInputIsValidGzip(workers: Int) throws {
        let directory = try TemporaryDirectory()
        let path = directory.url("empty.gz")
        let gzip = try self.compress([], to: path, workers: workers)
        #expect(gzip.bytesIn == 0)
        let test = try shell("gzip -t \(shellQuote(path)) && pigz -t \(shellQuote(path))")
        #expect(test.status == 0, "\(test.output)")
        #expect(try gunzip(path, into: directory) == [])
    }

    @Test func inputEndingOnBlockBoundary() throws {
        let directory = try TemporaryDirectory()
        let input = sampleText(count: 4 * 64 * 1024, seed: 5)
        let path = directory.url("exact.gz")
        _ = try self.compress(input, to: path, workers: 2)
        #expect(try gunzip(path, into: directory) == input)
    }

    @Test func trailerHoldsCRCAndLength() throws {
        let directory = try TemporaryDirectory()
        let input = sampleText(count: 300_000, seed: 9)
        let path = directory.url("trailer.gz")
        _ = try self.compress(input, to: path, workers: 3)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes.prefix(4)) == [0x1f, 0x8b, 8, 0])
        let trailer = bytes.suffix(8).map(UInt32.init)
        let length = trailer[4] | trailer[5] << 8 | trailer[6] << 16 | trailer[7] << 24
        #expect(length == UInt32(input.count))
        let crc = trailer[0] | trailer[1] << 8 | trailer[2] << 16 | trailer[3] << 24
        try Data(input).write(to: URL(fileURLWithPath: directory.url("input.bin")))
        let expected = try Subprocess.run([
            "python3", "-c", "import sys, zlib; print(zlib.crc32(open(sys.argv[1], 'rb').read()))",
            directory.url("input.bin"),
        ])
        #expect(expected.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(crc))
    }

    @Test func levelChangesRatio() throws {
        let directory = try TemporaryDirectory()
        let input = sampleText(count: 600_000, seed: 11)
        let fast = try self.compress(input, to: directory.url("l1.gz"), workers: 2, level: 1)
        let best = try self.compress(input, to: directory.url("l9.gz"), workers: 2, level: 9)
        #expect(best.bytesOut < fast.bytesOut)
        #expect(try gunzip(directory.url("l9.gz"), into: directory) == input)
    }
}
