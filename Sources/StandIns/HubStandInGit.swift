import Foundation
import Support

/// Git object ids computed the way Git computes them, so blob, tree and commit ids look like the Hub's.
enum HubStandInGit {
    /// Returns the Git blob id of `data`: the SHA-1 of `blob <length>\0` followed by the bytes.
    static func blobID(_ data: Data) -> String {
        var object = Data("blob \(data.count)\0".utf8)
        object.append(data)
        return Digest.sha1(object).hexString
    }

    /// Returns the Git LFS pointer file that stands for content with this SHA-256 and size.
    static func lfsPointer(sha256: String, size: Int) -> Data {
        Data("version https://git-lfs.github.com/spec/v1\noid sha256:\(sha256)\nsize \(size)\n".utf8)
    }

    /// Returns the tree id of every directory in `files`, keyed by directory path; the root is the empty path.
    static func treeIDs(
        files: [String: HubStandInBlob],
        children: [String: [HubStandInDirectoryEntry]]
    ) -> [String: String] {
        var ids: [String: String] = [:]
        func treeID(_ directory: String) -> String {
            if let known = ids[directory] { return known }
            var object = Data()
            for entry in children[directory] ?? [] {
                if entry.isDirectory {
                    object.append(Data("40000 \(entry.name)\0".utf8))
                    object.append(contentsOf: self.rawBytes(hex: treeID(entry.path)))
                } else {
                    object.append(Data("100644 \(entry.name)\0".utf8))
                    object.append(contentsOf: self.rawBytes(hex: files[entry.path]?.gitOID ?? ""))
                }
            }
            var framed = Data("tree \(object.count)\0".utf8)
            framed.append(object)
            let id = Digest.sha1(framed).hexString
            ids[directory] = id
            return id
        }
        for directory in children.keys {
            _ = treeID(directory)
        }
        return ids
    }

    /// Returns the entries of every directory in `paths`, each list in Git's tree order.
    static func directoryEntries(paths: some Sequence<String>) -> [String: [HubStandInDirectoryEntry]] {
        var names: [String: [String: Bool]] = ["": [:]]
        for path in paths {
            let parts = path.split(separator: "/").map(String.init)
            var directory = ""
            for (index, part) in parts.enumerated() {
                let isDirectory = index < parts.count - 1
                names[directory, default: [:]][part] = isDirectory
                if isDirectory {
                    directory = directory.isEmpty ? part : directory + "/" + part
                    if names[directory] == nil {
                        names[directory] = [:]
                    }
                }
            }
        }
        return names.reduce(into: [:]) { result, pair in
            let prefix = pair.key.isEmpty ? "" : pair.key + "/"
            result[pair.key] = pair.value
                .map { HubStandInDirectoryEntry(name: $0.key, isDirectory: $0.value, path: prefix + $0.key) }
                .sorted { self.precedesInTree($0, $1) }
        }
    }

    /// Returns the id of a commit object with this tree, parent, author line and message.
    static func commitID(tree: String, parent: String?, author: String, date: Date, message: String) -> String {
        let stamp = "\(Int(date.timeIntervalSince1970)) +0000"
        var text = "tree \(tree)\n"
        if let parent {
            text += "parent \(parent)\n"
        }
        text += "author \(author) <\(author)@127.0.0.1> \(stamp)\n"
        text += "committer \(author) <\(author)@127.0.0.1> \(stamp)\n\n\(message)\n"
        let body = Data(text.utf8)
        var framed = Data("commit \(body.count)\0".utf8)
        framed.append(body)
        return Digest.sha1(framed).hexString
    }

    /// Git sorts tree entries by name bytes, comparing a directory as if its name ended in `/`.
    private static func precedesInTree(_ left: HubStandInDirectoryEntry, _ right: HubStandInDirectoryEntry) -> Bool {
        let leftKey = Array((left.isDirectory ? left.name + "/" : left.name).utf8)
        let rightKey = Array((right.isDirectory ? right.name + "/" : right.name).utf8)
        return leftKey.lexicographicallyPrecedes(rightKey)
    }

    private static func rawBytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }
}

/// One entry of a directory in a snapshot.
struct HubStandInDirectoryEntry: Sendable {
    var name: String
    var isDirectory: Bool
    /// The full path in the repository.
    var path: String
}
