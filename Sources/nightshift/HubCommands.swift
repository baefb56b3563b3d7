import Foundation
import HTTP
import Hub
import Support

/// The `nightshift hub ...` commands: upload, download and delete the workspace's data in a Hub repo.
enum HubCommands {
    /// The settings every Hub command needs: the repo, the sync engine and a stop signal for Ctrl-C.
    struct Context {
        var repo: String
        var type: HubRepoType
        var revision: String
        var sync: HubSync
        var stop: Signal
    }

    static let repoVariable = "NIGHTSHIFT_HUB_REPO"

    /// Builds the context from the options and the environment, or prints the problem and returns nil.
    static func context(_ arguments: ParsedArguments) -> Context? {
        let environment = ProcessInfo.processInfo.environment
        let fromEnvironment = environment[Self.repoVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let repo = arguments.value("--repo-id") ?? fromEnvironment else {
            printError(
                "nightshift: missing --repo-id: name the Hub repo as namespace/name, or set \(Self.repoVariable)"
            )
            return nil
        }
        let typeName = arguments.value("--repo-type") ?? "dataset"
        guard let type = HubRepoType(rawValue: typeName), type != .space else {
            printError("nightshift: invalid --repo-type \(typeName): expected dataset or model")
            return nil
        }
        let logger = Logger(label: "nightshift", logLevel: .warning)
        let stop = Signal()
        SignalWatcher.install(stop: stop, logger: logger, work: .transfer)
        let client = HubClient(
            endpoint: HubToken.endpoint(environment: environment),
            token: HubToken.resolve(explicit: arguments.value("--token"), environment: environment),
            http: HTTPClient(logger: logger.with(["component": "http"])),
            logger: logger.with(["component": "hub"])
        )
        return Context(
            repo: repo,
            type: type,
            revision: arguments.value("--revision") ?? "main",
            sync: HubSync(client: client),
            stop: stop
        )
    }

    // MARK: Upload

    static let uploadTicks: @Sendable (ParsedArguments) -> Int32 = { arguments in
        let directory = arguments.value("--local-dir") ?? WorkspaceLayout.ticksDirectory
        return HubCommands.upload(
            arguments,
            message: "Upload tick data",
            select: { try HubWorkspace.directoryFiles(directory, repoFolder: WorkspaceLayout.ticksRepoFolder) }
        )
    }

    static let uploadTraining: @Sendable (ParsedArguments) -> Int32 = { arguments in
        let root = arguments.value("--local-dir") ?? "."
        return HubCommands.upload(arguments, message: "Upload training data") {
            try HubWorkspace.trainingFiles(
                root: root,
                scalers: !arguments.flag("--no-scalers"),
                cache: arguments.flag("--include-cache")
            )
        }
    }

    static let uploadAnalysis: @Sendable (ParsedArguments) -> Int32 = { arguments in
        let directory = arguments.value("--local-dir") ?? WorkspaceLayout.analysisDirectory
        return HubCommands.upload(arguments, message: "Upload feature analysis results") {
            try HubWorkspace.analysisFiles(directory)
        }
    }

    private static func upload(
        _ arguments: ParsedArguments,
        message defaultMessage: String,
        select: () throws -> [HubLocalFile]
    ) -> Int32 {
        guard let context = self.context(arguments) else { return ExitCode.usage.rawValue }
        let files: [HubLocalFile]
        do {
            files = try select()
        } catch let missing as HubWorkspace.MissingData {
            let fix =
                if case .directory = missing { "; pass --local-dir" } else {
                    ", or pass --local-dir with the directory that contains workspace/"
                }
            printError("nightshift: \(missing)\(fix)")
            return ExitCode.noInput.rawValue
        } catch {
            return self.fail(error)
        }
        if files.isEmpty {
            writeLine("nothing to upload: no files found")
            return ExitCode.success.rawValue
        }
        let request = HubUploadRequest(
            repo: context.repo,
            type: context.type,
            revision: context.revision,
            files: files,
            message: arguments.value("--commit-message") ?? defaultMessage,
            progress: ProgressMeter(label: "upload"),
            cancel: context.stop
        )
        do {
            let report = try context.sync.upload(request)
            if report.nothingToDo {
                writeLine("nothing to upload: all \(report.filesConsidered) files are already in \(context.repo)")
            } else {
                let links = report.commits.map {
                    context.sync.client.commitURL(repo: context.repo, type: context.type, commit: $0)
                }
                writeLine(
                    "uploaded \(report.uploaded) of \(report.filesConsidered) files "
                        + "(\(ProgressMeter.formatBytes(report.bytesSent))), \(report.unchanged) unchanged, "
                        + "in \(report.commits.count) commit(s): \(links.joined(separator: " "))"
                )
            }
            return ExitCode.success.rawValue
        } catch {
            return self.fail(error)
        }
    }

    // MARK: Download

    static let downloadTicks: @Sendable (ParsedArguments) -> Int32 = { arguments in
        HubCommands.download(
            arguments,
            folder: WorkspaceLayout.ticksRepoFolder,
            destination: arguments.value("--local-dir") ?? WorkspaceLayout.ticksDirectory
        )
    }

    static let downloadAnalysis: @Sendable (ParsedArguments) -> Int32 = { arguments in
        HubCommands.download(
            arguments,
            folder: WorkspaceLayout.analysisRepoFolder,
            destination: arguments.value("--local-dir") ?? WorkspaceLayout.analysisDirectory
        )
    }

    static let downloadTraining: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let context = HubCommands.context(arguments) else { return ExitCode.usage.rawValue }
        let root = arguments.value("--local-dir") ?? "."
        do {
            let client = context.sync.client
            let commit = try client.headCommit(repo: context.repo, type: context.type, revision: context.revision)
            let listed = try client.listFiles(repo: context.repo, type: context.type, revision: commit)
            let present = Set(listed.filter { $0.type == .file }.map(\.path))
            let missing = WorkspaceLayout.trainingCSVs.filter { !present.contains($0) }
            guard missing.isEmpty else {
                printError(
                    "nightshift: \(context.repo) has no \(missing.joined(separator: ", ")) at commit "
                        + "\(commit.prefix(12)); upload them with `nightshift hub upload training`"
                )
                return ExitCode.noInput.rawValue
            }
            let folders = [WorkspaceLayout.scalersDirectory + "/", WorkspaceLayout.cacheDirectory + "/"]
            let paths = present.filter { path in
                WorkspaceLayout.trainingCSVs.contains(path) || path == WorkspaceLayout.excludedFeaturesFile
                    || folders.contains { path.hasPrefix($0) }
            }
            let report = try context.sync.download(
                HubDownloadRequest(
                    repo: context.repo,
                    type: context.type,
                    revision: commit,
                    paths: paths.sorted(),
                    destination: root,
                    progress: ProgressMeter(label: "download"),
                    cancel: context.stop
                )
            )
            HubCommands.printDownload(report, destination: root)
            return ExitCode.success.rawValue
        } catch {
            return HubCommands.fail(error)
        }
    }

    private static func download(_ arguments: ParsedArguments, folder: String, destination: String) -> Int32 {
        guard let context = self.context(arguments) else { return ExitCode.usage.rawValue }
        do {
            let report = try context.sync.download(
                HubDownloadRequest(
                    repo: context.repo,
                    type: context.type,
                    revision: context.revision,
                    folder: folder,
                    destination: destination,
                    stripsFolder: true,
                    progress: ProgressMeter(label: "download"),
                    cancel: context.stop
                )
            )
            self.printDownload(report, destination: destination)
            return ExitCode.success.rawValue
        } catch {
            return self.fail(error)
        }
    }

    private static func printDownload(_ report: HubDownloadReport, destination: String) {
        writeLine(
            "downloaded \(report.downloaded) of \(report.filesConsidered) files "
                + "(\(ProgressMeter.formatBytes(report.bytesReceived))) to \(destination), "
                + "\(report.unchanged) already up to date"
                + (report.resumed > 0 ? ", \(report.resumed) resumed" : "")
                + ", commit \(report.commit.prefix(12))"
        )
    }

    // MARK: Delete

    static let deleteTicks: @Sendable (ParsedArguments) -> Int32 = { arguments in
        HubCommands.delete(
            arguments,
            paths: [],
            folders: [WorkspaceLayout.ticksRepoFolder],
            message: "Delete tick data"
        )
    }

    static let deleteAnalysis: @Sendable (ParsedArguments) -> Int32 = { arguments in
        HubCommands.delete(
            arguments,
            paths: [],
            folders: [WorkspaceLayout.analysisRepoFolder],
            message: "Delete feature analysis results"
        )
    }

    static let deleteTraining: @Sendable (ParsedArguments) -> Int32 = { arguments in
        var folders: [String] = []
        if !arguments.flag("--no-scalers") { folders.append(WorkspaceLayout.scalersDirectory) }
        if !arguments.flag("--no-cache") { folders.append(WorkspaceLayout.cacheDirectory) }
        return HubCommands.delete(
            arguments,
            paths: WorkspaceLayout.trainingCSVs + [WorkspaceLayout.excludedFeaturesFile],
            folders: folders,
            message: "Delete training data"
        )
    }

    static let deleteAll: @Sendable (ParsedArguments) -> Int32 = { arguments in
        guard let context = HubCommands.context(arguments) else { return ExitCode.usage.rawValue }
        let files: [String]
        do {
            let client = context.sync.client
            files = try client.listFiles(repo: context.repo, type: context.type, revision: context.revision)
                .filter { $0.type == .file && $0.path != ".gitattributes" }.map(\.path).sorted()
        } catch {
            return HubCommands.fail(error)
        }
        if files.isEmpty {
            writeLine("nothing to delete: \(context.repo) has no files besides .gitattributes")
            return ExitCode.success.rawValue
        }
        if !arguments.flag("--yes") {
            guard isatty(STDIN_FILENO) == 1 else {
                printError(
                    "nightshift: not deleting \(files.count) files from \(context.repo) without a terminal to confirm "
                        + "on; pass --yes to delete them anyway"
                )
                return ExitCode.usage.rawValue
            }
            writeLine("This deletes \(files.count) files from \(context.repo)@\(context.revision):")
            for path in files.prefix(20) { writeLine("  \(path)") }
            if files.count > 20 { writeLine("  ... and \(files.count - 20) more") }
            FileHandle.standardOutput.write(Data("Type yes to delete them: ".utf8))
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
                writeLine("nothing deleted")
                return ExitCode.failure.rawValue
            }
        }
        return HubCommands.delete(arguments, paths: files, folders: [], message: "Delete all files", context: context)
    }

    private static func delete(
        _ arguments: ParsedArguments,
        paths: [String],
        folders: [String],
        message: String,
        context given: Context? = nil
    ) -> Int32 {
        guard let context = given ?? self.context(arguments) else { return ExitCode.usage.rawValue }
        do {
            let report = try context.sync.delete(
                repo: context.repo,
                type: context.type,
                revision: context.revision,
                paths: paths,
                folders: folders,
                message: message
            )
            guard let commit = report.commit else {
                writeLine("nothing to delete in \(context.repo)")
                return ExitCode.success.rawValue
            }
            let link = context.sync.client.commitURL(repo: context.repo, type: context.type, commit: commit)
            writeLine("deleted \(report.removedFiles.count) files in one commit: \(link)")
            return ExitCode.success.rawValue
        } catch {
            return self.fail(error)
        }
    }

    /// Prints a Hub error and returns its exit code: 77 for a missing or rejected token, 66 for a missing repo or
    /// file, 75 for what may work later (network, 5xx, a concurrent commit, Ctrl-C), 65 for a corrupt download.
    static func fail(_ error: Error) -> Int32 {
        printError("nightshift: \(error)")
        guard let hubError = error as? HubError else { return ExitCode.software.rawValue }
        switch hubError {
        case .unauthorized, .missingToken, .gatedRepo: return ExitCode.noPermission.rawValue
        case .repoNotFound, .revisionNotFound, .entryNotFound: return ExitCode.noInput.rawValue
        case .integrity: return ExitCode.dataError.rawValue
        case .invalidArgument: return ExitCode.usage.rawValue
        case .localFile: return ExitCode.cannotCreate.rawValue
        case .commitConflict, .http, .transport, .invalidResponse, .cancelled, .localFileChanged:
            return ExitCode.temporaryFailure.rawValue
        }
    }
}
