import Config
import Foundation
import Hub
import Support

/// `DataUploader` on `HubSync`: the incremental Hub upload behind `hub_upload` jobs and training-data steps.
public struct HubDataUploader: DataUploader {
    let sync: HubSync
    let logger: Logger
    /// How many times an upload is tried when a file changes while it is uploaded.
    static let changedFileAttempts = 3
    /// The wait before such a retry, in seconds.
    let changedFileDelay: Double

    public init(sync: HubSync, logger: Logger, changedFileDelay: Double = 10) {
        self.sync = sync
        self.logger = logger
        self.changedFileDelay = changedFileDelay
    }

    public func upload(_ job: UploadJob, cancel: Signal) throws -> DataUploadSummary {
        var files: [HubLocalFile]
        do {
            files = try HubWorkspace.directoryFiles(job.localDirectory, repoFolder: job.pathInRepo)
        } catch HubWorkspace.MissingData.directory(let path) {
            throw DataUploadError.missingDirectory(path)
        }
        if !job.include.isEmpty {
            let prefix = job.pathInRepo + "/"
            files = files.filter { file in
                let relative = String(file.repoPath.dropFirst(prefix.count))
                return job.include.contains { GlobPattern.matches($0, relative) }
            }
        }
        guard !files.isEmpty else {
            return DataUploadSummary(
                filesConsidered: 0,
                filesUploaded: 0,
                filesUnchanged: 0,
                bytesSent: 0,
                commitURL: nil
            )
        }
        return try self.send(
            files,
            repo: job.repo,
            type: HubRepoType(rawValue: job.repoType) ?? .dataset,
            revision: job.revision,
            message: job.commitMessage,
            cancel: cancel
        )
    }

    public func uploadTrainingData(_ step: TrainingDataUpload, cancel: Signal) throws -> DataUploadSummary {
        let files: [HubLocalFile]
        do {
            files = try HubWorkspace.trainingFiles(
                root: step.root,
                scalers: step.includeScalers,
                cache: step.includeCache
            )
        } catch HubWorkspace.MissingData.trainingFiles(_, let paths) {
            throw DataUploadError.missingFiles(paths.map { step.root + "/" + $0 })
        }
        return try self.send(
            files,
            repo: step.repo,
            type: .dataset,
            revision: "main",
            message: step.commitMessage,
            cancel: cancel
        )
    }

    private func send(
        _ files: [HubLocalFile],
        repo: String,
        type: HubRepoType,
        revision: String,
        message: String,
        cancel: Signal
    ) throws -> DataUploadSummary {
        let request = HubUploadRequest(
            repo: repo,
            type: type,
            revision: revision,
            files: files,
            message: message,
            cancel: cancel
        )
        var report: HubUploadReport? = nil
        var attempt = 1
        while report == nil {
            do {
                report = try self.sync.upload(request)
            } catch HubError.cancelled {
                throw DataUploadError.cancelled
            } catch let error as HubError {
                // A collector may still be appending to today's file. Uploads are incremental, so trying again a
                // little later costs only the files that are still new.
                guard case .localFileChanged = error, attempt < HubDataUploader.changedFileAttempts else {
                    throw DataUploadError.failed("\(error)")
                }
                self.logger.warning(
                    "Upload retried because a file changed while it was uploaded",
                    metadata: ["hub.repo": repo, "attempt": "\(attempt)", "error": "\(error)"]
                )
                attempt += 1
                if cancel.wait(seconds: self.changedFileDelay) { throw DataUploadError.cancelled }
            } catch {
                throw DataUploadError.failed("\(error)")
            }
        }
        guard let report else { throw DataUploadError.cancelled }
        return DataUploadSummary(
            filesConsidered: report.filesConsidered,
            filesUploaded: report.uploaded,
            filesUnchanged: report.unchanged,
            bytesSent: report.bytesSent,
            commitURL: report.commits.last.map { self.sync.client.commitURL(repo: repo, type: type, commit: $0) }
        )
    }
}
