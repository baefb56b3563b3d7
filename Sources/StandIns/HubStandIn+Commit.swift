import Foundation

/// Upload routes that change files: preupload, which decides regular or LFS per file, and the NDJSON commit.
extension HubStandIn {
    /// The size above which a regular file is rejected as binary when its first 512 bytes contain a NUL byte,
    /// the test this stand-in uses to detect binary content.
    // NOTE: the Hub rejects binary regular files above "1 MB"; whether that is 10^6 or 2^20 bytes is unverified.
    static let binaryRegularLimit = 1_000_000

    /// Returns `uploadMode` and `shouldIgnore` for each of `{"files": [{"path", "size", "sample"}]}`, and the `oid`
    /// of the content when the path exists at `revision`, so that clients can skip unchanged files.
    func preupload(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        revision: String,
        _ state: HubStandInState
    ) throws -> HTTPResponse {
        let (_, repository) = try self.authorize(target, canWrite: true, request, state)
        let snapshot = repository.history[try Self.snapshotIndex(repository, revision)]
        let body = try Self.jsonObject(request)
        guard let files = body["files"] as? [[String: Any]] else {
            throw Self.reject(400, code: nil, "files must be an array of {path, size, sample}")
        }
        let lfsRules = self.lfsRules(files: snapshot.files, extra: body["gitAttributes"] as? String)
        var ignoreRules = HubStandInPathRules.ignorePatterns(
            gitIgnore: snapshot.files[".gitignore"].map { String(decoding: $0.data, as: UTF8.self) } ?? ""
        )
        if let gitIgnore = body["gitIgnore"] as? String {
            ignoreRules = ignoreRules.merged(with: .ignorePatterns(gitIgnore: gitIgnore))
        }

        var answers: [[String: Any]] = []
        for file in files {
            guard let path = file["path"] as? String, let size = file["size"] as? Int, size >= 0 else {
                throw Self.reject(400, code: nil, "Each file needs a string path and a non-negative integer size")
            }
            let sample = (file["sample"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data()
            let isLFS = self.requiresLFS(path: path, size: size, sample: sample, rules: lfsRules, state: state)
            var answer: [String: Any] = [
                "path": path,
                "uploadMode": isLFS ? "lfs" : "regular",
                "shouldIgnore": ignoreRules.matches(path),
            ]
            if let existing = snapshot.files[path] {
                answer["oid"] = existing.contentID
            }
            answers.append(answer)
        }
        return .json(200, ["files": answers])
    }

    /// Applies an NDJSON commit to `main`. Every line is checked before anything changes, and any failure
    /// leaves the repository as it was.
    func commit(
        _ request: HTTPRequest,
        _ target: HubStandInTarget,
        revision: String,
        _ state: inout HubStandInState
    ) throws -> HTTPResponse {
        var (key, repository) = try self.authorize(target, canWrite: true, request, state)
        // NOTE: pull requests (`create_pr=1`) and branches other than main are not implemented.
        if Self.flag(request, "create_pr") {
            throw Self.reject(400, code: nil, "create_pr is not supported by this stand-in: commit to main")
        }
        guard revision == "main" || revision == "refs/heads/main" else {
            if repository.snapshotIndex(for: revision) != nil {
                throw Self.reject(400, code: nil, "Cannot commit to commit id \(revision): commit to a branch")
            }
            throw Self.reject(404, code: "RevisionNotFound", "Invalid rev id: \(revision)")
        }
        let parsed = try HubStandInCommitParser.parse(request.body)
        guard let head = repository.head else {
            throw Self.reject(500, code: nil, "Repository \(repository.id) has no commits")
        }
        if let parent = parsed.parentCommit, !head.commit.id.hasPrefix(parent) {
            throw Self.reject(
                412,
                code: nil,
                "parentCommit \(parent) is not the head of main (\(head.commit.id)): read the head again and retry"
            )
        }

        var files = head.files
        var touched: [String] = []
        var newLFSPaths: [String] = []
        for operation in parsed.operations {
            switch operation {
            case .file(let path, let content):
                try self.checkRegularFile(path: path, content: content, state: state)
                files[path] = HubStandInBlob(data: content, isLFS: false)
                touched.append(path)
            case .lfsFile(let path, let oid, let size):
                guard let object = repository.lfsObjects[oid] else {
                    throw Self.reject(
                        400,
                        code: nil,
                        "LFS object \(oid) for \(path) was never uploaded: upload it through the LFS batch API first"
                    )
                }
                if let size, size != object.size {
                    let message =
                        "LFS object \(oid) for \(path) has \(object.size) bytes, not the \(size) in the commit"
                    throw Self.reject(400, code: nil, message)
                }
                files[path] = HubStandInBlob(object: object, sha256: oid)
                touched.append(path)
                newLFSPaths.append(path)
            case .deletedFile(let path):
                guard files.removeValue(forKey: path) != nil else {
                    throw Self.reject(404, code: "EntryNotFound", "A file with this name doesn't exist: \(path)")
                }
                touched.append(path)
            case .deletedFolder(let path):
                let removed = files.keys.filter { $0.hasPrefix(path + "/") }.sorted()
                guard !removed.isEmpty else {
                    throw Self.reject(404, code: "EntryNotFound", "A folder with this name doesn't exist: \(path)")
                }
                for file in removed {
                    files.removeValue(forKey: file)
                }
                touched += removed
            }
        }
        try Self.checkFileDirectoryConflicts(files, added: touched)
        if Self.addLFSAttributes(for: newLFSPaths, to: &files) && !touched.contains(".gitattributes") {
            touched.append(".gitattributes")
        }

        let snapshot = repository.appendCommit(
            files: files,
            title: parsed.summary,
            description: parsed.description,
            paths: touched,
            author: self.user
        )
        state.repositories[key] = repository
        let id = snapshot.commit.id
        return .json(
            200,
            [
                "commitOid": id,
                "commitUrl": "\(state.baseURL)/\(target.kind.webPrefix)\(repository.id)/commit/\(id)",
                "pullRequestUrl": NSNull(),
            ]
        )
    }

    /// Returns the LFS patterns of the `.gitattributes` in `files`, followed by those of `extra`.
    func lfsRules(files: [String: HubStandInBlob], extra: String?) -> HubStandInPathRules {
        let text = files[".gitattributes"].map { String(decoding: $0.data, as: UTF8.self) } ?? ""
        return HubStandInPathRules.lfsPatterns(gitAttributes: text + "\n" + (extra ?? ""))
    }

    /// Returns whether a file must go through LFS: it matches a `.gitattributes` LFS pattern, is larger than
    /// `lfsThreshold`, or is binary and larger than `binaryRegularLimit`. Empty files are always regular.
    func requiresLFS(
        path: String,
        size: Int,
        sample: Data,
        rules: HubStandInPathRules,
        state: HubStandInState
    ) -> Bool {
        guard size > 0 else { return false }
        return rules.matches(path) || size > state.lfsThreshold
            || (size > Self.binaryRegularLimit && sample.contains(0))
    }

    /// Appends a literal LFS pattern to `.gitattributes` for each LFS path that no pattern covers yet, as the Hub
    /// does on commit, so that later preuploads keep the file in LFS. Returns whether the file changed.
    static func addLFSAttributes(for paths: [String], to files: inout [String: HubStandInBlob]) -> Bool {
        var text = files[".gitattributes"].map { String(decoding: $0.data, as: UTF8.self) } ?? ""
        var changed = false
        for path in paths where !HubStandInPathRules.lfsPatterns(gitAttributes: text).matches(path) {
            if !text.isEmpty && !text.hasSuffix("\n") {
                text += "\n"
            }
            text += HubStandInPathRules.literalPattern(path) + " filter=lfs diff=lfs merge=lfs -text\n"
            changed = true
        }
        if changed {
            files[".gitattributes"] = HubStandInBlob(data: Data(text.utf8), isLFS: false)
        }
        return changed
    }

    private func checkRegularFile(path: String, content: Data, state: HubStandInState) throws {
        if content.count > state.lfsThreshold {
            throw Self.reject(
                400,
                code: nil,
                "\(path) has \(content.count) bytes, above the \(state.lfsThreshold)-byte limit for regular files: "
                    + "upload it through LFS"
            )
        }
        if content.count > Self.binaryRegularLimit && content.prefix(512).contains(0) {
            throw Self.reject(
                400,
                code: nil,
                "\(path) is a binary file of \(content.count) bytes, above the \(Self.binaryRegularLimit)-byte "
                    + "limit for binary regular files: upload it through LFS"
            )
        }
    }

    /// Rejects a tree where a path is both a file and a directory, which Git cannot store.
    private static func checkFileDirectoryConflicts(_ files: [String: HubStandInBlob], added: [String]) throws {
        for path in added where files[path] != nil {
            var parent = path
            while let slash = parent.lastIndex(of: "/") {
                parent = String(parent[..<slash])
                if files[parent] != nil {
                    throw Self.reject(400, code: nil, "\(path) needs directory \(parent), which is a file")
                }
            }
            if files.keys.contains(where: { $0.hasPrefix(path + "/") }) {
                throw Self.reject(400, code: nil, "\(path) is a directory in the repository, so it cannot be a file")
            }
        }
    }
}
