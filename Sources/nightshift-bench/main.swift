import Archive
import Foundation
import Support

/// Runs nightshift's own hashing and archiving code on real files, for the scripts in `bench/`.
let usage = """
    usage: nightshift-bench sha256 FILE...
           nightshift-bench targz [--level N] [--workers N] OUT PATH...
           nightshift-bench hub-standin [--token TOKEN]
    sha256 prints one '<hex digest>  <file>' line per file, like sha256sum.
    targz writes PATH... to the tar.gz OUT under the names given, so each PATH must be relative.
    It prints a summary on stderr.
    hub-standin runs the Hub stand-in on 127.0.0.1 and reads the commands create REPO, stats [REPO] and
    quit on stdin; HubStandInCommand describes them.
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

func hashFile(_ path: String) throws -> String {
    try Digest.sha256(contentsOf: path).hexString
}

func runTargz(_ arguments: [String]) throws {
    var level = 6
    var workers = ProcessInfo.processInfo.activeProcessorCount
    var rest = arguments[...]
    while let flag = rest.first, flag.hasPrefix("--") {
        rest = rest.dropFirst()
        guard let value = rest.first, let number = Int(value) else { fail("\(flag) needs a number\n\(usage)") }
        rest = rest.dropFirst()
        switch flag {
        case "--level": level = number
        case "--workers": workers = number
        default: fail("unknown option \(flag)\n\(usage)")
        }
    }
    guard (0...9).contains(level) else { fail("--level must be 0...9, got \(level)") }
    guard workers >= 1 else { fail("--workers must be at least 1, got \(workers)") }
    guard rest.count >= 2, let output = rest.first else { fail(usage) }
    let entries = rest.dropFirst().map { ArchiveEntry(sourcePath: $0, archiveName: $0) }
    let meter = ProgressMeter(label: "archive")
    let builder = ArchiveBuilder(compressionLevel: level, workers: workers)
    let summary = try builder.build(entries, to: output) { done, total in
        meter.setTotal(total)
        meter.set(done: done)
    }
    meter.finish()
    let line =
        "files=\(summary.files) directories=\(summary.directories) bytes_in=\(summary.bytesIn) "
        + "bytes_out=\(summary.bytesOut) seconds=\(String(format: "%.3f", summary.seconds)) workers=\(workers)\n"
    FileHandle.standardError.write(Data(line.utf8))
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "sha256":
        guard arguments.count >= 2 else { fail(usage) }
        for path in arguments.dropFirst() {
            print("\(try hashFile(path))  \(path)")
        }
    case "targz":
        try runTargz(Array(arguments.dropFirst()))
    case "hub-standin":
        try HubStandInCommand.run(Array(arguments.dropFirst()))
    default:
        fail(usage)
    }
} catch {
    fail("nightshift-bench: \(error)")
}
