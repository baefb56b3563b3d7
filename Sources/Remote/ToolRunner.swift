import Foundation
import Support

#if canImport(Glibc)
    import Glibc
#endif

/// The result of one `ssh`, `scp` or `rsync` run.
struct ToolResult {
    var status: Int32
    var stdout: Data
    var stderr: String
}

/// Runs OpenSSH and rsync from argument vectors through `Subprocess`, with stdout and stderr in separate files.
struct ToolRunner: Sendable {
    /// Seconds between reads of the growing stdout while a command runs.
    static let pollInterval = 0.05
    /// Seconds a tool gets to exit after SIGTERM before its process group is killed.
    static let terminationGrace = 2.0

    /// When raised, the running tool's process group gets SIGTERM and `run` throws `RemoteTransferError.cancelled`.
    /// The tools run in their own process group, so without this a signal to nightshift would leave them running.
    var cancel: Signal?

    init(cancel: Signal? = nil) {
        self.cancel = cancel
    }

    /// Runs `arguments` to completion. While it runs, `onOutput` gets each new chunk of stdout and `onTick` is
    /// called about every `pollInterval` seconds, so progress can be shown from the output or from file sizes.
    func run(
        _ arguments: [String],
        onOutput: ((Data) -> Void)? = nil,
        onTick: (() -> Void)? = nil
    ) throws -> ToolResult {
        let base = NSTemporaryDirectory() + "nightshift-remote-\(UUID().uuidString)"
        let outputPath = base + ".out"
        let errorPath = base + ".err"
        defer {
            unlink(outputPath)
            unlink(errorPath)
        }
        // The files exist before the child starts, so the reader below never races their creation.
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let process: Subprocess
        do {
            process = try Subprocess(
                arguments,
                outputPath: outputPath,
                errorPath: errorPath,
                newProcessGroup: true
            )
        } catch SubprocessError.spawnFailed(let executable, let code) where code == ENOENT {
            throw RemoteTransferError.toolNotFound(tool: (executable as NSString).lastPathComponent)
        }

        let reader = FileHandle(forReadingAtPath: outputPath)
        defer { try? reader?.close() }
        var stdout = Data()
        var status: Int32?
        while status == nil {
            if self.cancel?.isRaised == true {
                self.terminate(process)
                let tool = arguments.first.map { ($0 as NSString).lastPathComponent } ?? ""
                throw RemoteTransferError.cancelled(tool: tool)
            }
            status = process.poll()
            if status == nil {
                Thread.sleep(forTimeInterval: ToolRunner.pollInterval)
            }
            if let chunk = reader?.availableData, !chunk.isEmpty {
                stdout.append(chunk)
                onOutput?(chunk)
            }
            onTick?()
        }

        // ssh may leave a multiplexing or askpass helper behind in its group; nothing of it is wanted after exit.
        process.send(SIGKILL, group: true)
        while let chunk = reader?.availableData, !chunk.isEmpty {
            stdout.append(chunk)
            onOutput?(chunk)
        }

        let stderrData = FileManager.default.contents(atPath: errorPath) ?? Data()
        return ToolResult(status: status ?? -1, stdout: stdout, stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Sends SIGTERM to the tool's process group, so scp or rsync can remove its temporary file, and SIGKILL
    /// after `terminationGrace` seconds.
    private func terminate(_ process: Subprocess) {
        process.send(SIGTERM, group: true)
        let deadline = Date(timeIntervalSinceNow: ToolRunner.terminationGrace)
        while process.poll() == nil && Date() < deadline {
            Thread.sleep(forTimeInterval: ToolRunner.pollInterval)
        }
        process.send(SIGKILL, group: true)
        if process.poll() == nil {
            _ = process.wait()
        }
    }
}
