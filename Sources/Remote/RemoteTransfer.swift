import Foundation
import Support

/// The outcome of one upload or download.
public struct TransferResult: Sendable, Equatable {
    public var method: TransferMethod
    /// The local file or directory that was read or written.
    public var localPath: String
    /// The remote path as given to scp or rsync (for an upload into a directory, the file's path inside it).
    public var remotePath: String
    /// The size of what was transferred, measured on the local side.
    public var bytes: Int64
    public var seconds: Double
}

/// Copies files to and from one SSH destination with scp or rsync, and lists remote directories.
///
/// Every program runs from an argument vector, never through a local shell. Values that reach the remote shell
/// (the ssh command string) are quoted with `shellQuote`. scp runs over SFTP and rsync with `--secluded-args`, so
/// remote paths travel inside the protocol, where only their wildcards need escaping. Calls block the calling
/// thread.
public final class RemoteTransfer: Sendable {
    public let destination: SSHDestination
    let logger: Logger
    let runner: ToolRunner

    /// Creates a transfer to `destination`. Raising `cancel` stops the running ssh, scp or rsync, and the call
    /// throws `RemoteTransferError.cancelled`.
    public init(destination: SSHDestination, logger: Logger, cancel: Signal? = nil) {
        self.destination = destination
        self.logger = logger
        self.runner = ToolRunner(cancel: cancel)
    }

    /// Copies `localFile` (a file or a directory) to `remotePath`, creating missing remote directories first.
    ///
    /// A remote path that ends with `/` is a directory that receives the file under its own name. Any other path
    /// names the copy, unless it is an existing directory, which then receives the file as with `cp`. `progress`
    /// shows bytes sent: live for rsync, and for scp only as a final line, because scp reports progress only to a
    /// terminal.
    @discardableResult
    public func upload(
        localFile: String,
        to remotePath: String = SSHDestination.defaultRemoteDirectory,
        method: TransferMethod = .rsync,
        progress: ProgressMeter? = nil
    ) throws -> TransferResult {
        let local = RemoteTransfer.absolutePath(localFile)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: local, isDirectory: &isDirectory) else {
            throw RemoteTransferError.localFileNotFound(path: local)
        }
        let target = try RemotePath.normalized(remotePath)
        let shownTarget = target.hasSuffix("/") ? target + RemotePath.lastComponent(local) : target
        let bytes = RemoteTransfer.localSize(local)
        var metadata: Logger.Metadata = [
            "host": self.destination.host, "path": shownTarget, "method": method.rawValue, "bytes": "\(bytes)",
        ]
        self.logger.info("Upload started", metadata: metadata)
        let started = Date()

        if let directory = RemotePath.directoryToCreate(forTarget: target) {
            try self.createRemoteDirectory(directory)
        }
        progress?.setTotal(bytes)
        let operation = "upload of \(local) to \(self.destination.host):\(target)"
        let classifier = RemoteErrorClassifier(destination: self.destination, remotePath: target, operation: operation)
        let result: ToolResult
        switch method {
        case .scp:
            let operand = self.destination.account + ":" + target
            result = try self.runner.run(self.scpArguments(recursive: isDirectory.boolValue, [local], operand))
            if result.status == 0 {
                progress?.set(done: bytes)
            }
        case .rsync:
            let operand = self.destination.account + ":" + (try RemotePath.escapedForRsync(target, isSource: false))
            var parser = RsyncProgressParser()
            result = try self.runner.run(
                self.rsyncArguments(progress: progress?.isEnabled == true, [local], operand),
                onOutput: { chunk in
                    if let reading = parser.feed(chunk) {
                        progress?.set(done: reading.bytes)
                    }
                }
            )
        }
        progress?.finish()
        guard result.status == 0 else {
            let error = classifier.classify(status: result.status, stderr: result.stderr)
            metadata["error"] = error.description
            self.logger.error("Upload failed", metadata: metadata)
            throw error
        }
        let seconds = Date().timeIntervalSince(started)
        metadata["seconds"] = String(format: "%.2f", seconds)
        self.logger.info("Upload finished", metadata: metadata)
        return TransferResult(method: method, localPath: local, remotePath: shownTarget, bytes: bytes, seconds: seconds)
    }

    /// Copies `remotePath` (a file, or a directory with everything below it) into `toDirectory`, which is
    /// created when missing. The copy keeps the remote name and replaces a local entry of that name.
    @discardableResult
    public func download(
        remotePath: String,
        toDirectory: String,
        method: TransferMethod = .rsync,
        progress: ProgressMeter? = nil
    ) throws -> TransferResult {
        let source = RemotePath.trimmingTrailingSlashes(try RemotePath.normalized(remotePath))
        if source == "/" || source == "." {
            throw RemoteTransferError.invalidRemotePath(
                remotePath,
                reason: "name a file or directory below it, not the whole file system or home directory"
            )
        }
        let directory = RemoteTransfer.absolutePath(toDirectory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RemoteTransferError.localDirectoryNotCreated(path: directory, detail: "\(error.localizedDescription)")
        }
        let local = (directory as NSString).appendingPathComponent(RemotePath.lastComponent(source))
        var metadata: Logger.Metadata = ["host": self.destination.host, "path": source, "method": method.rawValue]
        self.logger.info("Download started", metadata: metadata)
        let started = Date()
        let operation = "download of \(self.destination.host):\(source) to \(directory)"
        let classifier = RemoteErrorClassifier(destination: self.destination, remotePath: source, operation: operation)

        let result: ToolResult
        // scp writes straight to the final name, so it copies into a hidden staging directory next to it, and
        // the finished copy is renamed into place. A stopped or failed copy never appears under the final name.
        var staging: String? = nil
        defer {
            if let staging { try? FileManager.default.removeItem(atPath: staging) }
        }
        switch method {
        case .scp:
            let stagingDirectory = directory + "/" + RemoteTransfer.stagingPrefix + UUID().uuidString.prefix(8)
            do {
                try FileManager.default.createDirectory(atPath: stagingDirectory, withIntermediateDirectories: false)
            } catch {
                throw RemoteTransferError.localDirectoryNotCreated(
                    path: stagingDirectory,
                    detail: "\(error.localizedDescription)"
                )
            }
            staging = stagingDirectory
            let staged = (stagingDirectory as NSString).appendingPathComponent(RemotePath.lastComponent(source))
            let operand = self.destination.account + ":" + RemotePath.escapedForSCPSource(source)
            var lastProbe = Date.distantPast
            result = try self.runner.run(
                self.scpArguments(recursive: true, [operand], stagingDirectory + "/"),
                onTick: {
                    // scp shows no progress off a terminal, so the growing local copy is measured instead.
                    guard let progress, progress.isEnabled, Date().timeIntervalSince(lastProbe) >= 0.5 else { return }
                    lastProbe = Date()
                    progress.set(done: RemoteTransfer.localSize(staged))
                }
            )
            if result.status == 0 {
                try RemoteTransfer.moveIntoPlace(staged, local)
            }
        case .rsync:
            let operand = self.destination.account + ":" + (try RemotePath.escapedForRsync(source, isSource: true))
            var parser = RsyncProgressParser()
            result = try self.runner.run(
                self.rsyncArguments(progress: progress?.isEnabled == true, [operand], directory + "/"),
                onOutput: { chunk in
                    guard let reading = parser.feed(chunk) else { return }
                    // progress2 reports a percentage of the files checked so far, so the total is an estimate
                    // that becomes exact at 100%.
                    if reading.percent > 0 {
                        progress?.setTotal(reading.bytes * 100 / Int64(reading.percent))
                    }
                    progress?.set(done: reading.bytes)
                }
            )
        }
        guard result.status == 0 else {
            progress?.finish()
            let error = classifier.classify(status: result.status, stderr: result.stderr)
            metadata["error"] = error.description
            self.logger.error("Download failed", metadata: metadata)
            throw error
        }
        let bytes = RemoteTransfer.localSize(local)
        progress?.setTotal(bytes)
        progress?.set(done: bytes)
        progress?.finish()
        let seconds = Date().timeIntervalSince(started)
        metadata["bytes"] = "\(bytes)"
        metadata["seconds"] = String(format: "%.2f", seconds)
        self.logger.info("Download finished", metadata: metadata)
        return TransferResult(method: method, localPath: local, remotePath: source, bytes: bytes, seconds: seconds)
    }

    /// Lists the entries of the remote directory `remotePath`, sorted by name, or the path itself when it is not
    /// a directory. Hidden entries are included; `.` and `..` are not.
    public func list(remotePath: String = SSHDestination.defaultRemoteDirectory) throws -> [RemoteEntry] {
        try self.list(remotePath: remotePath, mode: .automatic)
    }

    func list(remotePath: String, mode: RemoteListing.Mode) throws -> [RemoteEntry] {
        let path = try RemotePath.normalized(remotePath)
        let result = try self.runner.run(self.sshArguments(RemoteListing.command(path: path, mode: mode)))
        let metadata: Logger.Metadata = ["host": self.destination.host, "path": path]
        if result.status == RemoteListing.notFoundStatus, result.stderr.contains("nightshift-list:") {
            throw RemoteTransferError.remotePathNotFound(path: path, host: self.destination.host)
        }
        guard result.status == 0 else {
            let classifier = RemoteErrorClassifier(
                destination: self.destination,
                remotePath: path,
                operation: "listing of \(self.destination.host):\(path)"
            )
            let error = classifier.classify(status: result.status, stderr: result.stderr)
            self.logger.error("Remote listing failed", metadata: metadata.merging(["error": error.description]) { $1 })
            throw error
        }
        let entries = try RemoteListing.parse(result.stdout, path: path)
        self.logger.debug("Remote listing read", metadata: metadata.merging(["entries": "\(entries.count)"]) { $1 })
        return entries
    }

    /// Runs `mkdir -p` for `directory` over ssh, which also surfaces connection and login errors before a
    /// transfer starts.
    func createRemoteDirectory(_ directory: String) throws {
        let result = try self.runner.run(self.sshArguments("mkdir -p -- \(shellQuote(directory))"))
        guard result.status == 0 else {
            let classifier = RemoteErrorClassifier(
                destination: self.destination,
                remotePath: directory,
                operation: "creating the remote directory \(directory)"
            )
            throw classifier.classify(status: result.status, stderr: result.stderr)
        }
    }

    /// Returns `path` made absolute against the working directory, so scp and rsync never read a `:` in a local
    /// name as a host separator or a leading `-` as an option.
    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") {
            return path
        }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
    }

    /// Returns the size of a file, or the total size of the regular files below a directory; 0 when absent.
    /// The name prefix of the directory an scp download is staged in.
    static let stagingPrefix = ".nightshift-partial-"

    /// Renames a finished download to its final name. A file replaces a file atomically; a directory replaces
    /// the local entry of that name, which is removed first.
    static func moveIntoPlace(_ staged: String, _ local: String) throws {
        var isDirectory: ObjCBool = false
        let stagedIsDirectory =
            FileManager.default.fileExists(atPath: staged, isDirectory: &isDirectory)
            && isDirectory.boolValue
        if stagedIsDirectory, FileManager.default.fileExists(atPath: local) {
            try? FileManager.default.removeItem(atPath: local)
        }
        guard rename(staged, local) == 0 else {
            throw RemoteTransferError.localDirectoryNotCreated(
                path: local,
                detail: "renaming the finished copy from \(staged) failed: \(String(cString: strerror(errno)))"
            )
        }
    }

    static func localSize(_ path: String) -> Int64 {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { return 0 }
        if !isDirectory.boolValue {
            return (try? manager.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        }
        var total: Int64 = 0
        let enumerator = manager.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            let attributes = try? manager.attributesOfItem(atPath: (path as NSString).appendingPathComponent(relative))
            if attributes?[.type] as? FileAttributeType == .typeRegular {
                total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return total
    }
}
