import Foundation
import Support

/// A Hugging Face Hub stand-in on 127.0.0.1 that the official `hf` CLI and `huggingface_hub` (2.4.0, without Xet)
/// can upload to and download from.
///
/// It serves the Hub API, the LFS batch API and `/resolve/` downloads on one port, and LFS object storage on a
/// second port. The second origin matters because the client follows a download redirect only within one origin
/// and reads the file's metadata from the first redirect that leaves it.
///
/// State lives in memory, except LFS objects uploaded in bodies above `spoolThreshold` bytes and multipart uploads,
/// which go to files in a temporary directory removed by `stop()`. Every repository has one branch, `main`, with a
/// linear history, and starts with an initial commit that adds `.gitattributes`, as on the Hub, so `files(...)` and
/// `commits(...)` include both.
public final class HubStandIn: @unchecked Sendable {
    let tokens: Set<String>
    let user: String
    let logger: Logger?
    let state = Protected(HubStandInState())
    private let servers = Protected<(hub: LoopbackHTTPServer?, storage: LoopbackHTTPServer?)>((nil, nil))

    /// Creates a stand-in that accepts `tokens` as bearer tokens, all of them belonging to `user`. Rejected
    /// requests are logged at debug level to `logger` when one is given.
    public init(tokens: Set<String>, user: String = "demo", logger: Logger? = nil) {
        self.tokens = tokens
        self.user = user
        self.logger = logger
    }

    /// Starts the Hub server and the storage server, each on a free port.
    public func start() throws {
        guard self.servers.current.hub == nil else {
            throw StandInError.setup("HubStandIn.start() was called twice: call stop() first")
        }
        let directory = NSTemporaryDirectory() + "nightshift-hub-standin-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let threshold = HubStandIn.spoolThreshold
        let storage = LoopbackHTTPServer(
            spoolDirectory: directory,
            spoolRule: { method, _, length in method == "PUT" && length > threshold },
            handler: { [weak self] request in
                self?.handleStorage(request) ?? HTTPResponse.text(503, "stand-in stopped")
            }
        )
        self.state.withLock { $0.storageDirectory = directory }
        let hub = LoopbackHTTPServer { [weak self] request in
            self?.handleHub(request) ?? HTTPResponse.text(503, "stand-in stopped")
        }
        try storage.start()
        do {
            try hub.start()
        } catch {
            storage.stop()
            throw error
        }
        self.servers.withLock { $0 = (hub, storage) }
        self.state.withLock { state in
            state.baseURL = hub.baseURL
            state.storageURL = storage.baseURL
        }
    }

    deinit {
        self.stop()
    }

    public func stop() {
        let (hub, storage) = self.servers.withLock { servers in
            let current = servers
            servers = (nil, nil)
            return current
        }
        hub?.stop()
        storage?.stop()
        let directory = self.state.withLock { state -> String? in
            let current = state.storageDirectory
            state.storageDirectory = nil
            return current
        }
        if let directory {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// The body size in bytes above which storage PUTs are streamed to disk and kept there.
    public static let spoolThreshold = 4 * 1024 * 1024

    /// The Hub endpoint for `HF_ENDPOINT`, `http://127.0.0.1:<port>`; valid after `start()`.
    public var baseURL: String { self.state.current.baseURL }

    /// The origin of the storage server that LFS uploads and downloads are sent to; valid after `start()`.
    public var storageBaseURL: String { self.state.current.storageURL }

    /// The page size of tree and commit listings. Nil uses the Hub's tree page size, 1000 entries or 50 with
    /// `expand=true`, and 50 commits.
    public var pageSize: Int? {
        get { self.state.current.pageSize }
        set { self.state.withLock { $0.pageSize = newValue } }
    }

    /// The size in bytes above which preupload returns `lfs` and a regular commit of the file is rejected.
    /// The default is 10 MiB, the Hub's limit for regular files. Lower it to send small test files through LFS.
    public var lfsThreshold: Int {
        get { self.state.current.lfsThreshold }
        set { self.state.withLock { $0.lfsThreshold = newValue } }
    }

    /// The object size in bytes above which the LFS batch offers the multipart transfer, when the client lists
    /// it. Nil, the default, always returns the basic transfer.
    public var multipartThreshold: Int? {
        get { self.state.current.multipartThreshold }
        set { self.state.withLock { $0.multipartThreshold = newValue } }
    }

    /// The part size in bytes of multipart uploads, sent to clients as `chunk_size`.
    public var multipartChunkSize: Int {
        get { self.state.current.multipartChunkSize }
        set { self.state.withLock { $0.multipartChunkSize = max(1, newValue) } }
    }

    /// Returns the size and SHA-256 of every file of `repo` at `revision`, or nil when the repo or revision is
    /// missing. LFS objects on disk are not read, because their SHA-256 is their object id.
    public func fileSummaries(repo: String, type: RepoKind, revision: String = "main")
        -> [String: (size: Int, sha256: String)]?
    {
        self.state.withLock { state in
            let repository = state.repositories[HubStandInRepository.key(type, repo)]
            return repository?.snapshot(for: revision)?.files.mapValues { blob in
                (blob.size, blob.sha256 ?? Digest.sha256(blob.data).hexString)
            }
        }
    }

    /// Every request received so far on both servers, oldest first.
    public var requests: [HubStandInRequestRecord] { self.state.current.requests }

    /// Removes every queued fault.
    public func clearFaults() {
        self.state.withLock { $0.faults = [] }
    }

    /// Queues `fault`; queued faults are checked in order before each request is routed.
    public func inject(_ fault: HubStandInFault) {
        self.state.withLock { $0.faults.append(fault) }
    }

    /// Creates the repository `repo` (`namespace/name`) unless it exists, with the Hub's initial commit.
    /// Traps when `repo` is not `namespace/name`, which is a mistake in the calling test.
    public func createRepo(repo: String, type: RepoKind, isPrivate: Bool = false) {
        self.state.withLock { state in
            _ = self.createRepository(&state, kind: type, id: repo, isPrivate: isPrivate, sdk: nil)
        }
    }

    /// Creates the repository if needed, then commits `files` to `main` in one commit, without the HTTP API.
    /// Files that preupload would send to LFS are stored as LFS objects. Traps when `repo` is not
    /// `namespace/name` or a path is not a valid repository path, which are mistakes in the calling test.
    public func seed(repo: String, type: RepoKind, files: [String: Data], message: String) {
        self.state.withLock { state in
            let key = self.createRepository(&state, kind: type, id: repo, isPrivate: false, sdk: nil)
            guard var repository = state.repositories[key] else { return }
            var tree = repository.head?.files ?? [:]
            var paths = files.keys.sorted()
            var lfsPaths: [String] = []
            for (path, data) in files.sorted(by: { $0.key < $1.key }) {
                precondition(HubStandInCommitParser.isValidPath(path), "HubStandIn.seed: invalid path \(path)")
                let rules = self.lfsRules(files: tree, extra: nil)
                let sample = data.prefix(512)
                let isLFS = self.requiresLFS(path: path, size: data.count, sample: sample, rules: rules, state: state)
                let blob = HubStandInBlob(data: data, isLFS: isLFS)
                if let sha256 = blob.sha256 {
                    repository.lfsObjects[sha256] = HubStandInObject(data: data)
                    lfsPaths.append(path)
                }
                tree[path] = blob
            }
            if Self.addLFSAttributes(for: lfsPaths, to: &tree) && !paths.contains(".gitattributes") {
                paths.append(".gitattributes")
            }
            repository.appendCommit(
                files: tree,
                title: message,
                description: "",
                paths: paths,
                author: self.user
            )
            state.repositories[key] = repository
        }
    }

    /// Returns the files of `repo` at `revision`, or nil when the repository or the revision does not exist.
    public func files(repo: String, type: RepoKind, revision: String = "main") -> [String: Data]? {
        self.state.withLock { state in
            let repository = state.repositories[HubStandInRepository.key(type, repo)]
            return repository?.snapshot(for: revision)?.files.mapValues { $0.readAll() }
        }
    }

    /// Returns the commits of `repo` on `main`, newest first, including the initial commit; empty when the
    /// repository does not exist.
    public func commits(repo: String, type: RepoKind) -> [HubStandInCommit] {
        self.state.withLock { state in
            state.repositories[HubStandInRepository.key(type, repo)]?.history.reversed().map(\.commit) ?? []
        }
    }

    /// Creates a repository with its initial commit unless one with this id exists; returns its key.
    func createRepository(
        _ state: inout HubStandInState,
        kind: RepoKind,
        id: String,
        isPrivate: Bool,
        sdk: String?
    ) -> String {
        let key = HubStandInRepository.key(kind, id)
        guard state.repositories[key] == nil else { return key }
        precondition(id.split(separator: "/").count == 2, "HubStandIn: repository id \(id) is not namespace/name")
        var repository = HubStandInRepository(kind: kind, id: id, isPrivate: isPrivate, createdAt: Date(), sdk: sdk)
        let attributes = HubStandInBlob(data: Data(kind.initialGitAttributes.utf8), isLFS: false)
        repository.appendCommit(
            files: [".gitattributes": attributes],
            title: "initial commit",
            description: "",
            paths: [".gitattributes"],
            author: self.user
        )
        state.repositories[key] = repository
        return key
    }
}

/// The mutable state of a `HubStandIn`, guarded by one lock so that each request reads and changes it atomically.
struct HubStandInState: Sendable {
    var repositories: [String: HubStandInRepository] = [:]
    var requests: [HubStandInRequestRecord] = []
    var faults: [HubStandInFault] = []
    var pageSize: Int?
    var lfsThreshold = 10 * 1024 * 1024
    var multipartThreshold: Int?
    var multipartChunkSize = 8 * 1024 * 1024
    /// Multipart uploads in progress, keyed by repository key and object id.
    var multipartUploads: [String: HubStandInMultipartUpload] = [:]
    var storageDirectory: String?
    var baseURL = "http://127.0.0.1:0"
    var storageURL = "http://127.0.0.1:0"
}
