import Foundation
import Support

@testable import Archive

/// A fresh directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        self.path = NSTemporaryDirectory() + "nightshift-archive-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    func url(_ relative: String) -> String {
        self.path + "/" + relative
    }

    /// Writes `contents` at `relative`, creating parent directories, and sets its mtime when given.
    @discardableResult
    func write(_ relative: String, _ contents: [UInt8], mtime: Int? = nil, mode: Int? = nil) throws -> String {
        let path = self.url(relative)
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try Data(contents).write(to: URL(fileURLWithPath: path))
        if let mode { chmod(path, mode_t(mode)) }
        if let mtime { setModificationTime(path, mtime) }
        return path
    }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: self.url(relative), withIntermediateDirectories: true)
    }

    /// Names of the entries in `relative`, hidden ones included.
    func listing(_ relative: String = "") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: relative.isEmpty ? self.path : self.url(relative)).sorted()
    }
}

func setModificationTime(_ path: String, _ seconds: Int) {
    var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    _ = utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
}

/// Deterministic bytes that compress somewhat, like CSV text, so deflate has real work to do.
func sampleText(count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 64)
    while bytes.count < count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let price = 2000 + Int(state >> 52) % 1000
        let cents = Int(state >> 40) % 100
        bytes += Array("2026-11-03 14:00:\(Int(state >> 58) % 60).123,\(price).\(cents),\(price).45,3\n".utf8)
    }
    return Array(bytes.prefix(count))
}

/// An in-memory sink that collects everything written to it.
final class MemorySink: ArchiveByteSink {
    var bytes: [UInt8] = []

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        self.bytes.append(contentsOf: bytes)
    }
}

/// Runs a shell command line and returns its exit status and combined output.
@discardableResult
func shell(_ command: String) throws -> (status: Int32, output: String) {
    try Subprocess.run(["/bin/sh", "-c", command])
}

/// Returns the gunzipped bytes of `path`, decompressed by `gzip -dc`.
func gunzip(_ path: String, into directory: TemporaryDirectory) throws -> [UInt8] {
    let output = directory.url("gunzip-\(UUID().uuidString).tar")
    let result = try shell("gzip -dc \(shellQuote(path)) > \(shellQuote(output))")
    guard result.status == 0 else { return [] }
    defer { unlink(output) }
    return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
}

/// One member as Python's tarfile module reads it.
struct PythonMember: Equatable {
    var name: String
    var type: String
    var size: Int64
    var mode: Int
    var mtime: Int64
    var linkname: String
    var sha256: String
}

/// Lists the members of the tar.gz at `path` with Python's tarfile, hashing each regular file's content.
func pythonMembers(_ path: String) throws -> [PythonMember] {
    let script = """
        import hashlib, json, sys, tarfile
        with tarfile.open(sys.argv[1], 'r:gz') as archive:
            for member in archive:
                digest = ''
                if member.isfile():
                    digest = hashlib.sha256(archive.extractfile(member).read()).hexdigest()
                kind = ('file' if member.isfile() else 'dir' if member.isdir()
                        else 'symlink' if member.issym() else 'other')
                print(json.dumps([member.name, kind, member.size, member.mode, member.mtime, member.linkname, digest]))
        """
    let result = try Subprocess.run(["python3", "-c", script, path])
    guard result.status == 0 else { throw PythonFailure(output: result.output) }
    return try result.output.split(separator: "\n").map { line in
        let fields = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [Any]
        return PythonMember(
            name: fields[0] as! String,
            type: fields[1] as! String,
            size: (fields[2] as! NSNumber).int64Value,
            mode: (fields[3] as! NSNumber).intValue,
            mtime: (fields[4] as! NSNumber).int64Value,
            linkname: fields[5] as! String,
            sha256: fields[6] as! String
        )
    }
}

struct PythonFailure: Error, CustomStringConvertible {
    var output: String
    var description: String { "python3 tarfile failed: \(self.output)" }
}
