import Foundation
import Testing

@testable import Archive

@Suite struct TarHeaderTests {
    /// Reads a NUL- or space-terminated octal field.
    private func octal(_ block: ArraySlice<UInt8>) -> Int64 {
        let digits = block.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }
        return Int64(String(decoding: digits, as: UTF8.self), radix: 8) ?? -1
    }

    @Test func ustarFieldsAndChecksum() {
        let header = TarHeader(name: "workspace/a.csv", kind: .file(size: 1234), mode: 0o100644, mtime: 1_700_000_000)
        let block = header.encode()
        #expect(block.count == 512)
        #expect(String(decoding: block[0..<15], as: UTF8.self) == "workspace/a.csv")
        #expect(self.octal(block[100..<108]) == 0o644)
        #expect(self.octal(block[124..<136]) == 1234)
        #expect(self.octal(block[136..<148]) == 1_700_000_000)
        #expect(block[156] == UInt8(ascii: "0"))
        #expect(Array(block[257..<265]) == Array("ustar\u{0}00".utf8))
        var unsigned = block
        for index in 148..<156 { unsigned[index] = UInt8(ascii: " ") }
        #expect(self.octal(block[148..<156]) == unsigned.reduce(0) { $0 + Int64($1) })
    }

    @Test func longNameSplitsIntoPrefix() {
        let name = String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 60)
        let blocks = TarHeader(name: name, kind: .file(size: 0), mode: 0o644, mtime: 0).encode()
        #expect(blocks.count == 512)
        #expect(String(decoding: blocks[345..<435], as: UTF8.self) == String(repeating: "d", count: 90))
        #expect(String(decoding: blocks[0..<60], as: UTF8.self) == String(repeating: "f", count: 60))
    }

    @Test func unsplittableNameUsesPaxPath() {
        let name = String(repeating: "n", count: 120)
        let blocks = TarHeader(name: name, kind: .file(size: 5), mode: 0o644, mtime: 0).encode()
        #expect(blocks.count == 3 * 512)
        #expect(blocks[156] == UInt8(ascii: "x"))
        let records = String(decoding: blocks[512..<1024].prefix { $0 != 0 }, as: UTF8.self)
        #expect(records == "130 path=\(name)\n")
        #expect(records.utf8.count == 130)
    }

    @Test func paxRecordLengthCrossesDigitBoundary() {
        // " path=" plus the value plus "\n" is 98 bytes here, so two length digits would make 100, which has three.
        let value = String(repeating: "v", count: 91)
        let blocks = TarHeader.paxBlocks(records: [("path", value)], mtime: 0)
        let records = String(decoding: blocks[512...].prefix { $0 != 0 }, as: UTF8.self)
        #expect(records == "101 path=\(value)\n")
        #expect(records.utf8.count == 101)
    }

    @Test func hugeSizeGoesToPax() {
        let size: Int64 = 9 * 1024 * 1024 * 1024
        let blocks = TarHeader(name: "big.bin", kind: .file(size: size), mode: 0o644, mtime: 0).encode()
        #expect(blocks.count == 3 * 512)
        let records = String(decoding: blocks[512..<1024].prefix { $0 != 0 }, as: UTF8.self)
        #expect(records == "19 size=\(size)\n")
        #expect(self.octal(blocks[(1024 + 124)..<(1024 + 136)]) == 0)
    }

    @Test func sizeAtUstarMaximumStaysUstar() {
        let blocks = TarHeader(name: "edge.bin", kind: .file(size: TarHeader.maxOctal11), mode: 0o644, mtime: 0)
            .encode()
        #expect(blocks.count == 512)
        #expect(self.octal(blocks[124..<136]) == TarHeader.maxOctal11)
    }

    @Test func normalizedNameCases() throws {
        #expect(try ArchiveBuilder.normalizedName("./workspace//a/./b/") == "workspace/a/b")
        #expect(try ArchiveBuilder.normalizedName("a") == "a")
        for invalid in ["", "/etc/passwd", "a/../b", "..", "./", "/"] {
            #expect(throws: ArchiveError.invalidArchiveName(invalid)) {
                try ArchiveBuilder.normalizedName(invalid)
            }
        }
    }
}
