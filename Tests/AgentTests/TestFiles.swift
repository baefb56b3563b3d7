import Foundation

/// Writes each file of `files` (a path relative to `root`, and its text), creating folders as needed.
func writeFiles(_ files: [String: String], under root: String) throws {
    for (path, text) in files {
        let full = root + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }
}
