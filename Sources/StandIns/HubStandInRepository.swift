import Foundation
import Support

/// An LFS object as the storage server keeps it: small ones in memory, large uploads in a file on disk, so that a
/// multi-gigabyte object never has to fit in memory.
struct HubStandInObject: Sendable {
    let data: Data?
    let file: String?
    let size: Int

    init(data: Data) {
        self.data = data
        self.file = nil
        self.size = data.count
    }

    init(file: String, size: Int) {
        self.data = nil
        self.file = file
        self.size = size
    }

    /// Returns the whole content; reads the file for objects stored on disk.
    func readAll() -> Data {
        if let data { return data }
        guard let file, let content = FileManager.default.contents(atPath: file) else { return Data() }
        return content
    }
}

/// One file's content in a snapshot, with the hashes that clients compare.
struct HubStandInBlob: Sendable {
    /// The content of regular files and of LFS objects kept in memory; empty when `file` is set.
    let data: Data
    /// The file that contains an LFS object stored on disk.
    let file: String?
    let size: Int
    let isLFS: Bool
    /// The Git blob id of the content, or of the LFS pointer file when `isLFS` is set.
    let gitOID: String
    /// The SHA-256 of the content; set only for LFS files, where it is the LFS object id.
    let sha256: String?
    /// The size of the LFS pointer file; set only for LFS files.
    let pointerSize: Int?

    init(data: Data, isLFS: Bool) {
        self.data = data
        self.file = nil
        self.size = data.count
        self.isLFS = isLFS
        if isLFS {
            let sha256 = Digest.sha256(data).hexString
            let pointer = HubStandInGit.lfsPointer(sha256: sha256, size: data.count)
            self.sha256 = sha256
            self.pointerSize = pointer.count
            self.gitOID = HubStandInGit.blobID(pointer)
        } else {
            self.sha256 = nil
            self.pointerSize = nil
            self.gitOID = HubStandInGit.blobID(data)
        }
    }

    /// An LFS file whose object was stored under `sha256`.
    init(object: HubStandInObject, sha256: String) {
        self.data = object.data ?? Data()
        self.file = object.file
        self.size = object.size
        self.isLFS = true
        let pointer = HubStandInGit.lfsPointer(sha256: sha256, size: object.size)
        self.sha256 = sha256
        self.pointerSize = pointer.count
        self.gitOID = HubStandInGit.blobID(pointer)
    }

    /// The id that preupload returns and that clients compare to skip unchanged files: SHA-256 for LFS files,
    /// the Git blob id otherwise. Download ETags use the same value.
    var contentID: String { self.sha256 ?? self.gitOID }

    /// The content as the storage server serves it.
    var object: HubStandInObject {
        self.file.map { HubStandInObject(file: $0, size: self.size) } ?? HubStandInObject(data: self.data)
    }

    /// Returns the whole content; reads the file for objects stored on disk.
    func readAll() -> Data {
        guard let file else { return self.data }
        return FileManager.default.contents(atPath: file) ?? Data()
    }
}

/// The state of a repository after one commit.
struct HubStandInSnapshot: Sendable {
    let commit: HubStandInCommit
    let files: [String: HubStandInBlob]
    /// The entries of every directory, keyed by directory path; the root is the empty path.
    let directories: [String: [HubStandInDirectoryEntry]]
    /// The Git tree id of every directory, keyed like `directories`.
    let treeIDs: [String: String]
}

/// One repository: its settings, its linear history on `main` and the LFS objects uploaded to it.
struct HubStandInRepository: Sendable {
    let kind: RepoKind
    /// The id with the case it was created with, `namespace/name`.
    let id: String
    var isPrivate: Bool
    let createdAt: Date
    /// The Space SDK given at creation; nil for models and datasets.
    let sdk: String?
    /// Every commit on `main`, oldest first.
    var history: [HubStandInSnapshot] = []
    /// LFS objects stored by PUT, multipart completion or seeding, keyed by SHA-256 hex.
    var lfsObjects: [String: HubStandInObject] = [:]

    /// Returns the dictionary key of a repository. The Hub compares repository ids without case, and so does the key.
    static func key(_ kind: RepoKind, _ id: String) -> String {
        "\(kind.rawValue)/\(id.lowercased())"
    }

    var head: HubStandInSnapshot? { self.history.last }

    var namespace: String { String(self.id.split(separator: "/").first ?? "") }

    /// Returns the index in `history` of the commit that `revision` names: the branch `main` (also as
    /// `refs/heads/main`) or a unique prefix of at least 7 hex digits of a commit id.
    func snapshotIndex(for revision: String) -> Int? {
        if revision == "main" || revision == "refs/heads/main" {
            return self.history.isEmpty ? nil : self.history.count - 1
        }
        let lowered = revision.lowercased()
        guard (7...40).contains(lowered.count), lowered.allSatisfy(\.isHexDigit) else { return nil }
        let matches = self.history.indices.filter { self.history[$0].commit.id.hasPrefix(lowered) }
        return matches.count == 1 ? matches[0] : nil
    }

    func snapshot(for revision: String) -> HubStandInSnapshot? {
        self.snapshotIndex(for: revision).map { self.history[$0] }
    }

    /// Appends a commit whose tree is `files` and returns it.
    @discardableResult
    mutating func appendCommit(
        files: [String: HubStandInBlob],
        title: String,
        description: String,
        paths: [String],
        author: String,
        date: Date = Date()
    ) -> HubStandInSnapshot {
        let directories = HubStandInGit.directoryEntries(paths: files.keys)
        let treeIDs = HubStandInGit.treeIDs(files: files, children: directories)
        let message = description.isEmpty ? title : title + "\n\n" + description
        let id = HubStandInGit.commitID(
            tree: treeIDs[""] ?? "",
            parent: self.head?.commit.id,
            author: author,
            date: date,
            message: message
        )
        let commit = HubStandInCommit(id: id, title: title, message: message, date: date, paths: paths)
        let snapshot = HubStandInSnapshot(commit: commit, files: files, directories: directories, treeIDs: treeIDs)
        self.history.append(snapshot)
        return snapshot
    }

    /// Returns the newest commit at or before `index` that changed `path` or, for a directory, anything below it.
    func lastCommit(touching path: String, isDirectory: Bool, upTo index: Int) -> HubStandInCommit? {
        let prefix = path + "/"
        for snapshot in self.history[...index].reversed() {
            let touched = snapshot.commit.paths.contains { isDirectory ? $0.hasPrefix(prefix) : $0 == path }
            if touched || (isDirectory && path.isEmpty) {
                return snapshot.commit
            }
        }
        return nil
    }
}

extension RepoKind {
    /// The `.gitattributes` that a new repository starts with. The Hub writes a similar file in its initial
    /// commit. This list contains common LFS patterns and is not a copy of the Hub's file.
    var initialGitAttributes: String {
        var patterns = [
            "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
            "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
            "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar",
            "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
        ]
        if self == .dataset {
            patterns += ["*.mp3", "*.wav", "*.flac", "*.ogg", "*.jpg", "*.jpeg", "*.png", "*.webp", "*.mp4"]
        }
        return patterns.map { "\($0) filter=lfs diff=lfs merge=lfs -text\n" }.joined()
    }
}
