/// The metadata of one tar member, encoded as a POSIX ustar header with a PAX extended header in front when a
/// value does not fit the ustar fields.
struct TarHeader {
    enum Kind: Equatable {
        case file(size: Int64)
        case directory
        case symbolicLink(target: String)
    }

    /// The largest value of an 11-digit octal field (size, mtime): 8 GiB - 1.
    static let maxOctal11: Int64 = 0o77777777777
    /// The largest value of a 7-digit octal field (mode, uid, gid).
    static let maxOctal7: Int64 = 0o7777777
    static let blockSize = 512

    var name: String
    var kind: Kind
    var mode: UInt32
    var mtime: Int64
    var uid: Int64 = 0
    var gid: Int64 = 0

    /// Encodes the header blocks. Sizes above `sizeLimit` go to a PAX `size` record, so tests can exercise that path
    /// with small files by lowering it from the ustar maximum.
    func encode(sizeLimit: Int64 = TarHeader.maxOctal11) -> [UInt8] {
        var pax: [(String, String)] = []
        var nameBytes = Array(self.name.utf8)
        if case .directory = self.kind, nameBytes.last != UInt8(ascii: "/") {
            nameBytes.append(UInt8(ascii: "/"))
        }

        let isASCII = nameBytes.allSatisfy { $0 < 0x80 }
        var split = isASCII ? Self.splitUstarName(nameBytes) : nil
        if split == nil {
            pax.append(("path", String(decoding: nameBytes, as: UTF8.self)))
            split = Self.fallbackUstarName(nameBytes)
        }

        var size: Int64 = 0
        var linkTarget: [UInt8] = []
        var typeflag = UInt8(ascii: "0")
        switch self.kind {
        case .file(let fileSize):
            size = fileSize
            if fileSize > sizeLimit {
                pax.append(("size", String(fileSize)))
                size = 0
            }
        case .directory:
            typeflag = UInt8(ascii: "5")
        case .symbolicLink(let target):
            typeflag = UInt8(ascii: "2")
            linkTarget = Array(target.utf8)
            if linkTarget.count > 100 || !linkTarget.allSatisfy({ $0 < 0x80 }) {
                pax.append(("linkpath", target))
                linkTarget = Array(linkTarget.prefix(100))
            }
        }

        var mtime = self.mtime
        if mtime < 0 || mtime > Self.maxOctal11 {
            pax.append(("mtime", String(mtime)))
            mtime = min(max(mtime, 0), Self.maxOctal11)
        }
        var uid = self.uid
        if uid < 0 || uid > Self.maxOctal7 {
            pax.append(("uid", String(uid)))
            uid = 0
        }
        var gid = self.gid
        if gid < 0 || gid > Self.maxOctal7 {
            pax.append(("gid", String(gid)))
            gid = 0
        }

        var blocks: [UInt8] = []
        if !pax.isEmpty {
            blocks += Self.paxBlocks(records: pax, mtime: mtime)
        }
        blocks += Self.ustarBlock(
            prefix: split!.prefix,
            name: split!.name,
            mode: Int64(self.mode & 0o7777),
            uid: uid,
            gid: gid,
            size: size,
            mtime: mtime,
            typeflag: typeflag,
            linkName: linkTarget
        )
        return blocks
    }

    /// Splits a name into the ustar `prefix` (at most 155 bytes) and `name` (at most 100 bytes) fields at a slash,
    /// or returns nil when no split fits.
    static func splitUstarName(_ bytes: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        if bytes.count <= 100 { return ([], bytes) }
        guard bytes.count <= 256 else { return nil }
        // A trailing slash on a directory name belongs to the name part, so the search stops before it.
        let searchEnd = bytes.last == UInt8(ascii: "/") ? bytes.count - 1 : bytes.count
        for index in 0..<searchEnd where bytes[index] == UInt8(ascii: "/") {
            let prefixCount = index
            let nameCount = bytes.count - index - 1
            if prefixCount <= 155 && nameCount <= 100 && nameCount > 0 {
                return (Array(bytes[0..<index]), Array(bytes[(index + 1)...]))
            }
        }
        return nil
    }

    /// Returns the ustar name written next to a PAX `path` record, for readers that ignore PAX: the last 100 bytes.
    private static func fallbackUstarName(_ bytes: [UInt8]) -> (prefix: [UInt8], name: [UInt8]) {
        let ascii = bytes.map { $0 < 0x80 ? $0 : UInt8(ascii: "_") }
        return ([], Array(ascii.suffix(100)))
    }

    /// Encodes PAX records as `"<length> <key>=<value>\n"`, where the length counts the whole record including
    /// its own digits, inside an `x` member padded to whole blocks.
    static func paxBlocks(records: [(String, String)], mtime: Int64) -> [UInt8] {
        var data: [UInt8] = []
        for (key, value) in records {
            let body = " \(key)=\(value)\n"
            let bodyCount = body.utf8.count
            var length = bodyCount + 1
            while String(length).utf8.count + bodyCount != length {
                length = String(length).utf8.count + bodyCount
            }
            data += Array(String(length).utf8) + Array(body.utf8)
        }
        var blocks = Self.ustarBlock(
            prefix: [],
            name: Array("././@PaxHeader".utf8),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: Int64(data.count),
            mtime: mtime,
            typeflag: UInt8(ascii: "x"),
            linkName: []
        )
        blocks += data
        blocks += [UInt8](repeating: 0, count: Self.padding(for: Int64(data.count)))
        return blocks
    }

    static func ustarBlock(
        prefix: [UInt8],
        name: [UInt8],
        mode: Int64,
        uid: Int64,
        gid: Int64,
        size: Int64,
        mtime: Int64,
        typeflag: UInt8,
        linkName: [UInt8]
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: Self.blockSize)
        Self.put(name, into: &block, at: 0, width: 100)
        Self.putOctal(mode, into: &block, at: 100, width: 8)
        Self.putOctal(uid, into: &block, at: 108, width: 8)
        Self.putOctal(gid, into: &block, at: 116, width: 8)
        Self.putOctal(size, into: &block, at: 124, width: 12)
        Self.putOctal(mtime, into: &block, at: 136, width: 12)
        block[156] = typeflag
        Self.put(linkName, into: &block, at: 157, width: 100)
        Self.put(Array("ustar\0".utf8), into: &block, at: 257, width: 6)
        Self.put(Array("00".utf8), into: &block, at: 263, width: 2)
        // uname and gname (265..<329) stay empty, so extraction maps owners by the numeric ids alone.
        Self.putOctal(0, into: &block, at: 329, width: 8)
        Self.putOctal(0, into: &block, at: 337, width: 8)
        Self.put(prefix, into: &block, at: 345, width: 155)

        // The checksum is the byte sum of the header with the checksum field itself read as eight spaces.
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let checksum = block.reduce(0) { $0 + Int64($1) }
        Self.putOctal(checksum, into: &block, at: 148, width: 7)
        block[155] = UInt8(ascii: " ")
        return block
    }

    /// Returns the number of zero bytes that pad `size` bytes of member data to a whole block.
    static func padding(for size: Int64) -> Int {
        let remainder = Int(size % Int64(Self.blockSize))
        return remainder == 0 ? 0 : Self.blockSize - remainder
    }

    private static func put(_ bytes: [UInt8], into block: inout [UInt8], at offset: Int, width: Int) {
        precondition(bytes.count <= width, "tar field overflow")
        for (index, byte) in bytes.enumerated() { block[offset + index] = byte }
    }

    /// Writes `value` as zero-padded octal digits filling `width - 1` bytes, followed by a NUL.
    private static func putOctal(_ value: Int64, into block: inout [UInt8], at offset: Int, width: Int) {
        var digits = Array(String(value, radix: 8).utf8)
        precondition(digits.count <= width - 1, "tar octal field overflow")
        digits = [UInt8](repeating: UInt8(ascii: "0"), count: width - 1 - digits.count) + digits
        Self.put(digits + [0], into: &block, at: offset, width: width)
    }
}
