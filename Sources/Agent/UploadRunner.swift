import Config
import Foundation
import Support

/// The result of one `hub_upload` run.
public struct UploadRunResult: Sendable, Equatable {
    public var succeeded: Bool
    /// The reason the run failed, or a note such as "nothing new", in one sentence.
    public var reason: String?
    public var summary: DataUploadSummary?
    public var finishedAt: Date

    public init(succeeded: Bool, reason: String?, summary: DataUploadSummary?, finishedAt: Date) {
        self.succeeded = succeeded
        self.reason = reason
        self.summary = summary
        self.finishedAt = finishedAt
    }
}

/// Runs one `hub_upload` job: uploads what is new, applies the job's `if_empty` rule, logs and notifies.
public struct UploadRunner: Sendable {
    let uploader: DataUploader
    let events: UploadEventSink
    let logger: Logger

    public init(uploader: DataUploader, events: UploadEventSink, logger: Logger) {
        self.uploader = uploader
        self.events = events
        self.logger = logger
    }

    /// Runs the upload until it finishes, `stop` is raised, or the job's `max_duration` passes.
    public func run(_ job: UploadJob, runId: String, stop: Signal, now: Date = Date()) -> UploadRunResult {
        let logger = self.logger.with(["job": job.name, "run.id": runId])
        logger.notice(
            "Upload started",
            metadata: ["local_dir": job.localDirectory, "repo": job.repo, "path_in_repo": job.pathInRepo]
        )
        let cancel = Signal()
        let timedOut = Protected(false)
        let done = Signal()
        let watcher = Thread {
            let deadline = Date(timeIntervalSinceNow: job.maxDuration)
            while !done.isRaised {
                if stop.wait(seconds: min(1, max(0, deadline.timeIntervalSinceNow))) {
                    cancel.raise()
                    return
                }
                if Date() >= deadline {
                    timedOut.withLock { $0 = true }
                    cancel.raise()
                    return
                }
            }
        }
        watcher.start()
        defer { done.raise() }

        var result: UploadRunResult
        do {
            let summary = try self.uploader.upload(job, cancel: cancel)
            if summary.filesUploaded == 0 {
                let note =
                    summary.filesConsidered == 0
                    ? "no files under \(job.localDirectory)"
                        + (job.include.isEmpty ? "" : " match \(job.include.joined(separator: ", "))")
                    : "nothing new under \(job.localDirectory): all \(summary.filesConsidered) files are already "
                        + "on the Hub"
                result = UploadRunResult(
                    succeeded: job.ifEmpty == .succeed,
                    reason: job.ifEmpty == .fail
                        ? note + "; check the data collection, or set `if_empty: succeed`" : note,
                    summary: summary,
                    finishedAt: Date()
                )
            } else {
                result = UploadRunResult(succeeded: true, reason: nil, summary: summary, finishedAt: Date())
            }
        } catch DataUploadError.cancelled where timedOut.withLock({ $0 }) {
            result = UploadRunResult(
                succeeded: false,
                reason: "the upload took longer than max_duration "
                    + "(\(DurationParser.format(job.maxDuration))) and was cancelled; "
                    + "the repo is at its previous commit",
                summary: nil,
                finishedAt: Date()
            )
        } catch {
            result = UploadRunResult(succeeded: false, reason: "\(error)", summary: nil, finishedAt: Date())
        }

        var metadata: Logger.Metadata = [
            "outcome": result.succeeded ? "succeeded" : "failed",
            "seconds": String(format: "%.1f", result.finishedAt.timeIntervalSince(now)),
        ]
        if let summary = result.summary {
            metadata["files.uploaded"] = "\(summary.filesUploaded)"
            metadata["files.unchanged"] = "\(summary.filesUnchanged)"
            metadata["bytes"] = "\(summary.bytesSent)"
            if let url = summary.commitURL { metadata["commit"] = url }
        }
        if let reason = result.reason { metadata["reason"] = reason }
        if result.succeeded {
            logger.notice("Upload finished", metadata: metadata)
        } else {
            logger.error("Upload failed", metadata: metadata)
        }
        self.events.publish(
            result.succeeded ? .succeeded : .failed,
            job: job,
            runId: runId,
            startedAt: now,
            result: result
        )
        return result
    }
}
