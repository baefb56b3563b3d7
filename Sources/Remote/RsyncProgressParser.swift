import Foundation

/// Reads the lines `rsync --info=progress2 --no-human-readable` writes, such as
/// `   22118400  73%   19.56MB/s    0:00:00`, separated by carriage returns.
struct RsyncProgressParser {
    /// The bytes transferred so far and the overall percentage of the latest complete line.
    struct Reading: Equatable {
        var bytes: Int64
        var percent: Int
    }

    private var pending = ""

    /// Adds output and returns the latest reading among the lines it completed, or nil.
    mutating func feed(_ data: Data) -> Reading? {
        self.pending += String(decoding: data, as: UTF8.self)
        var latest: Reading?
        while let end = self.pending.firstIndex(where: { $0 == "\r" || $0 == "\n" }) {
            let line = String(self.pending[..<end])
            self.pending = String(self.pending[self.pending.index(after: end)...])
            if let reading = RsyncProgressParser.parse(line) {
                latest = reading
            }
        }
        return latest
    }

    static func parse(_ line: String) -> Reading? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, fields[1].hasSuffix("%") else { return nil }
        let digits = fields[0].filter { $0 != "," && $0 != "." }
        guard let bytes = Int64(digits), let percent = Int(fields[1].dropLast()) else { return nil }
        return Reading(bytes: bytes, percent: percent)
    }
}
