import Foundation

/// A commit operation after path normalization.
struct ValidatedOperation {
    var operation: HubCommitOperation
    /// The normalized path in the repo.
    var path: String

    var isDeletion: Bool {
        switch self.operation {
        case .deleteFile, .deleteFolder: true
        default: false
        }
    }

    var isLocalFile: Bool {
        if case .addLocalFile = self.operation { return true }
        return false
    }
}

/// Writes NDJSON commit lines to memory or to a temporary file.
final class HubCommitBodyWriter {
    private var data = Data()
    private let handle: FileHandle?
    private let path: String?
    private var size: Int64 = 0
    private let operation: String

    init(inFile: Bool, operation: String) throws {
        self.operation = operation
        guard inFile else {
            self.handle = nil
            self.path = nil
            return
        }
        let path = NSTemporaryDirectory() + "nightshift-commit-\(UUID().uuidString).ndjson"
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw HubError.localFile(operation: operation, path: path, detail: "cannot create the commit body file")
        }
        self.path = path
        self.handle = handle
    }

    func writeLine(_ object: [String: Any]) throws {
        var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        line.append(0x0A)
        self.append(line)
    }

    /// Writes a `file` line whose base64 content is read from `localFile` in chunks of 3 MiB, a multiple of 3 so
    /// the chunks encode without padding in between.
    func writeFileLine(path: String, localFile: String) throws {
        let quotedPath = try JSONSerialization.data(
            withJSONObject: path,
            options: [.fragmentsAllowed, .withoutEscapingSlashes]
        )
        guard let input = FileHandle(forReadingAtPath: localFile) else {
            throw HubError.localFile(operation: self.operation, path: localFile, detail: "cannot be opened")
        }
        defer { try? input.close() }
        self.append(Data("{\"key\":\"file\",\"value\":{\"content\":\"".utf8))
        while true {
            let chunk: Data
            do {
                chunk = try input.read(upToCount: 3 * 1024 * 1024) ?? Data()
            } catch {
                throw HubError.localFile(operation: self.operation, path: localFile, detail: "read failed: \(error)")
            }
            if chunk.isEmpty { break }
            self.append(Data(chunk.base64EncodedString().utf8))
        }
        self.append(Data("\",\"encoding\":\"base64\",\"path\":".utf8) + quotedPath + Data("}}\n".utf8))
    }

    private func append(_ bytes: Data) {
        if let handle {
            handle.write(bytes)
            self.size += Int64(bytes.count)
        } else {
            self.data.append(bytes)
        }
    }

    func finish() throws -> HubCommitBody {
        guard let handle, let path else { return .memory(self.data) }
        try? handle.close()
        return .file(path, self.size)
    }
}
