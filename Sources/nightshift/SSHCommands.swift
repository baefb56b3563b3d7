import Archive
import Foundation
import Remote
import Support

/// `nightshift ssh upload-training|download-results|list`: copies over SSH with OpenSSH and rsync.
enum SSHCommands {
    static let connectionOptions: [OptionSpec] = [
        .value("--host", "HOST", "The machine's host name or IP address (required)."),
        .value("--user", "USER", "The login user (default paperspace)."),
        .value("--port", "PORT", "The SSH port (default: ssh's own, usually 22)."),
        .value("--identity", "FILE", "The private key to log in with (default: ssh's own keys)."),
        .value("--known-hosts", "FILE", "The known-hosts file (default ~/.ssh/known_hosts)."),
        .value("--ssh-config", "FILE", "The ssh config file (default ~/.ssh/config; /dev/null for none)."),
        .flag("--strict-host-key", "Refuse hosts whose key is not known yet (default: record a new host's key)."),
        .value("--path", "DIR", "The remote directory (default \(SSHDestination.defaultRemoteDirectory))."),
        .value("--method", "METHOD", "`rsync` (default, resumes partial copies) or `scp`."),
    ]

    static let specs: [CommandSpec] = [
        CommandSpec(
            path: ["ssh", "upload-training"],
            summary: """
                Build the training archive, then copy it to the machine.
                The archive is the one `nightshift archive training` writes; it is deleted locally after the copy
                unless --keep-archive is given.
                """,
            options: Self.connectionOptions + ArchiveCommands.trainingOptions + [
                .value("--local-dir", "DIR", "The directory that contains `workspace/` (default .)."),
                .flag("--keep-archive", "Keep the local archive after the copy."),
            ],
            run: SSHCommands.uploadTraining
        ),
        CommandSpec(
            path: ["ssh", "download-results"],
            summary: """
                Copy the newest results_*.tar.gz from the machine's remote directory.
                With --file, copy that file or directory instead.
                """,
            options: Self.connectionOptions + [
                .value("--file", "NAME", "The remote file or directory to copy, relative to --path."),
                .value("--local-dir", "DIR", "Where the copy goes (default .)."),
            ],
            run: SSHCommands.downloadResults
        ),
        CommandSpec(
            path: ["ssh", "list"],
            summary: "List the files in the machine's remote directory: size, time and name.",
            options: Self.connectionOptions,
            run: SSHCommands.list
        ),
    ]

    struct Context {
        var transfer: RemoteTransfer
        var method: TransferMethod
        var path: String
    }

    static func context(_ arguments: ParsedArguments) -> Context? {
        guard let host = arguments.value("--host") else {
            printError("nightshift: missing --host: give the machine's host name or IP address")
            return nil
        }
        var port: Int? = nil
        if let text = arguments.value("--port") {
            guard let number = Int(text) else {
                printError("nightshift: invalid --port \(text): expected a number from 1 to 65535")
                return nil
            }
            port = number
        }
        let methodName = arguments.value("--method") ?? "rsync"
        guard let method = TransferMethod(name: methodName) else {
            printError("nightshift: invalid --method \(methodName): expected rsync or scp")
            return nil
        }
        do {
            let destination = try SSHDestination(
                host: host,
                user: arguments.value("--user") ?? "paperspace",
                port: port,
                identityFile: arguments.value("--identity"),
                knownHostsFile: arguments.value("--known-hosts"),
                configFile: arguments.value("--ssh-config"),
                hostKeyPolicy: arguments.flag("--strict-host-key") ? .strict : .acceptNew
            )
            let logger = Logger(label: "nightshift", logLevel: .warning)
            let stop = Signal()
            SignalWatcher.install(stop: stop, logger: logger, work: .transfer)
            return Context(
                transfer: RemoteTransfer(destination: destination, logger: logger, cancel: stop),
                method: method,
                path: arguments.value("--path") ?? SSHDestination.defaultRemoteDirectory
            )
        } catch {
            printError("nightshift: \(error)")
            return nil
        }
    }

    static let uploadTraining: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let context = SSHCommands.context(arguments),
            var options = ArchiveCommands.trainingOptions(arguments)
        else {
            return ExitCode.usage.rawValue
        }
        let keep = arguments.flag("--keep-archive")
        let scratch = NSTemporaryDirectory() + "nightshift-upload-\(getpid())"
        if !keep {
            do {
                try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            } catch {
                printError("nightshift: cannot create \(scratch): \(error)")
                return ExitCode.cannotCreate.rawValue
            }
            options.outputDirectory = scratch
        }
        defer { if !keep { try? FileManager.default.removeItem(atPath: scratch) } }

        let meter = ProgressMeter(label: "archive")
        let summary: ArchiveSummary
        do {
            summary = try TrainingArchive.build(options) { read, total in
                meter.setTotal(total)
                meter.set(done: read)
            }
            meter.finish()
        } catch {
            meter.finish()
            return ArchiveCommands.fail(error)
        }
        ArchiveCommands.printSummary(summary)
        do {
            let result = try context.transfer.upload(
                localFile: summary.outputPath,
                to: context.path,
                method: context.method,
                progress: ProgressMeter(label: "upload")
            )
            writeLine(
                "copied \(ProgressMeter.formatBytes(result.bytes)) to \(result.remotePath) "
                    + "with \(result.method.rawValue) "
                    + "in \(String(format: "%.1f", result.seconds)) s"
            )
            return ExitCode.success.rawValue
        } catch {
            return SSHCommands.fail(error)
        }
    }

    static let downloadResults: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let context = SSHCommands.context(arguments) else { return ExitCode.usage.rawValue }
        let directory = context.path.hasSuffix("/") ? context.path : context.path + "/"
        do {
            var name = arguments.value("--file")
            if name == nil {
                let entries = try context.transfer.list(remotePath: directory)
                name =
                    entries.filter { $0.kind == .file && $0.name.hasPrefix("results_") && $0.name.hasSuffix(".tar.gz") }
                    .max { $0.modified < $1.modified }?.name
                guard name != nil else {
                    printError(
                        "nightshift: no results_*.tar.gz in \(directory) on the machine; "
                            + "run `nightshift archive results` "
                            + "there, or name a file with --file"
                    )
                    return ExitCode.noInput.rawValue
                }
            }
            let result = try context.transfer.download(
                remotePath: directory + name!,
                toDirectory: arguments.value("--local-dir") ?? ".",
                method: context.method,
                progress: ProgressMeter(label: "download")
            )
            writeLine("copied \(result.remotePath) to \(result.localPath) (\(ProgressMeter.formatBytes(result.bytes)))")
            return ExitCode.success.rawValue
        } catch {
            return SSHCommands.fail(error)
        }
    }

    static let list: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let context = SSHCommands.context(arguments) else { return ExitCode.usage.rawValue }
        do {
            let entries = try context.transfer.list(remotePath: context.path)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "yyyy-MM-dd HH:mm"
            for entry in entries.sorted(by: { $0.name < $1.name }) {
                let size = entry.kind == .directory ? "-" : ProgressMeter.formatBytes(entry.size)
                let name = entry.kind == .directory ? entry.name + "/" : entry.name
                writeLine(
                    size.padding(toLength: 12, withPad: " ", startingAt: 0) + formatter.string(from: entry.modified)
                        + "  " + name
                )
            }
            if entries.isEmpty { writeLine("\(context.path) is empty") }
            return ExitCode.success.rawValue
        } catch {
            return SSHCommands.fail(error)
        }
    }

    /// Prints a transfer error, which names the fix, and returns 77 for authentication and host keys, 66 for
    /// missing files, 69 for an unreachable host and 75 for other failures.
    static func fail(_ error: Error) -> Int32 {
        printError("nightshift: \(error)")
        guard let transferError = error as? RemoteTransferError else { return ExitCode.software.rawValue }
        switch transferError {
        case .permissionDenied, .hostKeyChanged, .hostKeyUnknown, .remotePermissionDenied:
            return ExitCode.noPermission.rawValue
        case .localFileNotFound, .remotePathNotFound: return ExitCode.noInput.rawValue
        case .unknownHost, .connectionRefused, .connectionTimedOut, .hostUnreachable, .toolNotFound,
            .rsyncNotFoundOnRemote, .sftpNotAvailable:
            return ExitCode.unavailable.rawValue
        case .invalidDestination, .invalidOption, .invalidRemotePath: return ExitCode.usage.rawValue
        default: return ExitCode.temporaryFailure.rawValue
        }
    }
}
