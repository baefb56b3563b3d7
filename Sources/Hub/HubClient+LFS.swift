import Foundation
import HTTP
import Support

/// One file as preupload describes it: its path in the repo, size and first 512 bytes.
public struct HubPreuploadFile: Sendable {
    public var path: String
    public var size: Int64
    public var sample: Data

    public init(path: String, size: Int64, sample: Data) {
        self.path = path
        self.size = size
        self.sample = sample
    }
}

/// The Hub's preupload result for one file.
public struct HubPreuploadResult: Sendable, Equatable {
    public var path: String
    /// Whether the Hub wants the content through LFS; false means inline in the commit.
    public var isLFS: Bool
    /// Whether the repo's `.gitignore` excludes the path, so the file must be left out.
    public var shouldIgnore: Bool
    /// The content id at that path now: SHA-256 for LFS files, the Git blob SHA-1 otherwise; nil when absent.
    public var remoteOID: String?
}

/// One LFS object to upload: its SHA-256, size and where its bytes are.
public struct HubLFSObject: Sendable {
    public enum Source: Sendable {
        case file(String)
        case data(Data)
    }

    public var oid: String
    public var size: Int64
    public var source: Source

    public init(oid: String, size: Int64, source: Source) {
        self.oid = oid
        self.size = size
        self.source = source
    }
}

/// The outcome of `uploadLFSObjects`.
public struct HubLFSUploadResult: Sendable, Equatable {
    /// Objects whose bytes were sent.
    public var uploaded: Int = 0
    /// Objects the Hub already stored: the batch returned no actions for them, so nothing was sent.
    public var alreadyStored: Int = 0
    /// Object bytes sent, counting each object once even when a part was retried.
    public var bytesSent: Int64 = 0
}

extension HubClient {
    /// The files per preupload request: `huggingface_hub` 2.4.0 sends 256, named a server-side limit there.
    public static let preuploadBatchSize = 256
    /// The objects per LFS batch request, as `huggingface_hub` 2.4.0 sends.
    public static let lfsBatchSize = 256

    /// Asks the Hub, in batches, whether each file goes inline or through LFS, and what content it has now.
    ///
    /// A file of 0 bytes is always inline, as in the official client, since an empty LFS upload fails on S3.
    public func preupload(repo: String, type: HubRepoType, revision: String = "main", files: [HubPreuploadFile])
        throws -> [HubPreuploadResult]
    {
        let operation = "preupload to \(type.webPrefix)\(repo)@\(revision)"
        try self.checkRepoID(repo, operation: operation)
        let url = self.apiBase(repo, type) + "/preupload/" + encodedComponent(revision)
        var results: [HubPreuploadResult] = []
        var start = 0
        while start < files.count {
            let batch = files[start..<min(files.count, start + HubClient.preuploadBatchSize)]
            start += batch.count
            let entries: [[String: Any]] = batch.map { file in
                ["path": file.path, "size": file.size, "sample": file.sample.base64EncodedString()]
            }
            let body = try JSONSerialization.data(withJSONObject: ["files": entries], options: [.sortedKeys])
            let response = try self.send(
                operation,
                method: "POST",
                url: url,
                headers: [("Content-Type", "application/json")],
                body: body,
                retry: self.retry,
                metadata: ["hub.repo": repo, "hub.revision": revision, "preupload.files": "\(batch.count)"]
            )
            guard response.isSuccess else {
                throw self.hubError(operation, response, repo: repo, type: type, revision: revision)
            }
            guard let answers = (response.json as? [String: Any])?["files"] as? [[String: Any]] else {
                throw HubError.invalidResponse(operation: operation, detail: "the body has no \"files\" array")
            }
            var byPath: [String: [String: Any]] = [:]
            for answer in answers {
                if let path = answer["path"] as? String { byPath[path] = answer }
            }
            for file in batch {
                guard let answer = byPath[file.path], let mode = answer["uploadMode"] as? String,
                    mode == "lfs" || mode == "regular"
                else {
                    throw HubError.invalidResponse(
                        operation: operation,
                        detail: "no uploadMode of lfs or regular for \(file.path)"
                    )
                }
                results.append(
                    HubPreuploadResult(
                        path: file.path,
                        isLFS: mode == "lfs" && file.size > 0,
                        shouldIgnore: answer["shouldIgnore"] as? Bool ?? false,
                        remoteOID: (answer["oid"] as? String)?.lowercased()
                    )
                )
            }
        }
        return results
    }

    /// Uploads LFS objects the Hub does not store yet, through the basic or the multipart transfer the batch
    /// API picks, and verifies each when the batch requests it, before any commit names them.
    ///
    /// `progress` receives the object bytes sent so far in this call. Part PUTs and basic PUTs are retried per
    /// `retry` and re-read their file region from the start.
    public func uploadLFSObjects(
        repo: String,
        type: HubRepoType,
        revision: String = "main",
        objects: [HubLFSObject],
        progress: (@Sendable (Int64) -> Void)? = nil,
        cancel: Signal? = nil
    ) throws -> HubLFSUploadResult {
        let operation = "upload LFS objects to \(type.webPrefix)\(repo)"
        try self.checkRepoID(repo, operation: operation)
        var result = HubLFSUploadResult()
        var start = 0
        while start < objects.count {
            let batch = Array(objects[start..<min(objects.count, start + HubClient.lfsBatchSize)])
            start += batch.count
            let answers = try self.lfsBatch(operation, repo: repo, type: type, revision: revision, objects: batch)
            for object in batch {
                if cancel?.isRaised == true { throw HubError.cancelled(operation: operation) }
                guard let answer = answers[object.oid] else {
                    throw HubError.invalidResponse(operation: operation, detail: "the batch response has no entry for object \(object.oid)")
                }
                if let error = answer["error"] as? [String: Any] {
                    let code = (error["code"] as? Int) ?? 0
                    let message = self.redact((error["message"] as? String) ?? "")
                    throw HubError.http(operation: operation, status: code, code: "LFS", message: message)
                }
                guard let actions = answer["actions"] as? [String: Any],
                    let upload = actions["upload"] as? [String: Any]
                else {
                    result.alreadyStored += 1
                    continue
                }
                let sentBefore = result.bytesSent
                let report: @Sendable (Int64) -> Void = { bytes in progress?(sentBefore + bytes) }
                try self.uploadObject(operation, object, upload: upload, progress: report, cancel: cancel)
                if let verify = actions["verify"] as? [String: Any] {
                    try self.verifyObject(operation, object, verify: verify, repo: repo, type: type)
                }
                result.uploaded += 1
                result.bytesSent += object.size
                progress?(result.bytesSent)
                self.logger.info(
                    "LFS object uploaded",
                    metadata: ["hub.repo": repo, "lfs.oid": object.oid, "bytes": "\(object.size)"]
                )
            }
        }
        return result
    }

    /// Sends one LFS batch request and returns the per-object responses keyed by object id.
    private func lfsBatch(
        _ operation: String,
        repo: String,
        type: HubRepoType,
        revision: String,
        objects: [HubLFSObject]
    ) throws -> [String: [String: Any]] {
        let url = "\(self.endpoint)/\(type.webPrefix)\(encodedPath(repo)).git/info/lfs/objects/batch"
        let body: [String: Any] = [
            "operation": "upload", "transfers": ["basic", "multipart"], "hash_algo": "sha256",
            "ref": ["name": revision], "objects": objects.map { ["oid": $0.oid, "size": $0.size] },
        ]
        let response = try self.send(
            operation,
            method: "POST",
            url: url,
            headers: HubClient.lfsHeaders,
            body: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]),
            retry: self.retry,
            metadata: ["hub.repo": repo, "lfs.objects": "\(objects.count)"]
        )
        guard response.isSuccess else {
            throw self.hubError(operation, response, repo: repo, type: type, revision: revision)
        }
        guard let answers = (response.json as? [String: Any])?["objects"] as? [[String: Any]] else {
            throw HubError.invalidResponse(operation: operation, detail: "the LFS batch body has no \"objects\"")
        }
        var byOID: [String: [String: Any]] = [:]
        for answer in answers {
            if let oid = (answer["oid"] as? String)?.lowercased() { byOID[oid] = answer }
        }
        return byOID
    }

    static let lfsHeaders: [(name: String, value: String)] = [
        ("Accept", "application/vnd.git-lfs+json"), ("Content-Type", "application/vnd.git-lfs+json"),
    ]

    /// Sends the object's bytes with the basic transfer (one PUT) or, when the action carries `chunk_size`,
    /// the multipart transfer (one PUT per part, then the completion POST).
    private func uploadObject(
        _ operation: String,
        _ object: HubLFSObject,
        upload: [String: Any],
        progress: @escaping @Sendable (Int64) -> Void,
        cancel: Signal?
    ) throws {
        guard let href = upload["href"] as? String else {
            throw HubError.invalidResponse(operation: operation, detail: "upload action of \(object.oid) has no href")
        }
        let header = (upload["header"] as? [String: Any])?.compactMapValues { $0 as? String } ?? [:]
        let metadata: Logger.Metadata = ["lfs.oid": object.oid, "bytes": "\(object.size)"]
        guard let chunkText = header["chunk_size"] else {
            let response = try self.sendTransfer(
                operation,
                method: "PUT",
                url: href,
                headers: header.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                body: self.objectData(object, offset: 0, length: object.size),
                transfer: HTTPTransfer(
                    upload: self.objectRegion(object, 0, object.size),
                    progress: progress,
                    cancel: cancel
                ),
                retry: self.retry,
                sendsToken: false,
                metadata: metadata
            )
            try self.checkStorageResponse(operation, response.response, what: "PUT of object \(object.oid)")
            return
        }
        guard let chunkSize = Int64(chunkText), chunkSize > 0 else {
            throw HubError.invalidResponse(
                operation: operation,
                detail: "chunk_size \(chunkText) is not a positive integer"
            )
        }
        let partURLs = header.filter { $0.key.allSatisfy(\.isNumber) }.sorted { Int($0.key)! < Int($1.key)! }
        let expectedParts = Int((object.size + chunkSize - 1) / chunkSize)
        guard partURLs.count == expectedParts else {
            throw HubError.invalidResponse(
                operation: operation,
                detail: "\(partURLs.count) part URLs for \(object.size) bytes in parts of \(chunkSize); "
                    + "expected \(expectedParts)"
            )
        }
        var parts: [[String: Any]] = []
        for (index, part) in partURLs.enumerated() {
            if cancel?.isRaised == true { throw HubError.cancelled(operation: operation) }
            let offset = Int64(index) * chunkSize
            let length = min(chunkSize, object.size - offset)
            let response = try self.sendTransfer(
                operation,
                method: "PUT",
                url: part.value,
                body: self.objectData(object, offset: offset, length: length),
                transfer: HTTPTransfer(
                    upload: self.objectRegion(object, offset, length),
                    progress: { bytes in progress(offset + bytes) },
                    cancel: cancel
                ),
                retry: self.retry,
                sendsToken: false,
                metadata: metadata.merging(["lfs.part": "\(index + 1)"]) { $1 }
            )
            try self.checkStorageResponse(
                operation,
                response.response,
                what: "PUT of part \(index + 1) of \(object.oid)"
            )
            guard let etag = response.response.header("ETag") else {
                throw HubError.invalidResponse(
                    operation: operation,
                    detail: "part \(index + 1) of \(object.oid) has no ETag"
                )
            }
            parts.append(["partNumber": index + 1, "etag": etag])
        }
        let completion = try JSONSerialization.data(
            withJSONObject: ["oid": object.oid, "parts": parts],
            options: [.sortedKeys]
        )
        let response = try self.sendTransfer(
            operation,
            method: "POST",
            url: href,
            headers: HubClient.lfsHeaders,
            body: completion,
            transfer: HTTPTransfer(cancel: cancel),
            retry: self.retry,
            sendsToken: false,
            metadata: metadata
        )
        try self.checkStorageResponse(operation, response.response, what: "completion of \(object.oid)")
    }

    private func verifyObject(
        _ operation: String,
        _ object: HubLFSObject,
        verify: [String: Any],
        repo: String,
        type: HubRepoType
    ) throws {
        guard let href = verify["href"] as? String else {
            throw HubError.invalidResponse(operation: operation, detail: "verify action of \(object.oid) has no href")
        }
        let header = (verify["header"] as? [String: Any])?.compactMapValues { $0 as? String } ?? [:]
        let body = try JSONSerialization.data(withJSONObject: ["oid": object.oid, "size": object.size])
        let response = try self.send(
            operation,
            method: "POST",
            url: href,
            headers: HubClient.lfsHeaders + header.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            body: body,
            retry: self.retry,
            metadata: ["hub.repo": repo, "lfs.oid": object.oid]
        )
        guard response.isSuccess else {
            throw self.hubError(operation, response, repo: repo, type: type, revision: "main")
        }
    }

    private func checkStorageResponse(_ operation: String, _ response: HTTPClientResponse, what: String) throws {
        guard response.isSuccess else {
            let message = self.redact(String(decoding: response.body.prefix(300), as: UTF8.self))
            throw HubError.http(
                operation: operation,
                status: response.status,
                code: nil,
                message: "\(what): \(message)"
            )
        }
    }

    private func objectRegion(_ object: HubLFSObject, _ offset: Int64, _ length: Int64) -> HTTPFileRegion? {
        guard case .file(let path) = object.source else { return nil }
        return HTTPFileRegion(path: path, offset: offset, length: length)
    }

    private func objectData(_ object: HubLFSObject, offset: Int64, length: Int64) -> Data? {
        guard case .data(let data) = object.source else { return nil }
        let start = data.startIndex + Int(offset)
        return data.subdata(in: start..<(start + Int(length)))
    }
}
