import Config
import Foundation
import Notifiers
import Support

/// The orphan sweep as the daemon runs it: once when the scheduler starts, after journal recovery, and then
/// every `paperspace.sweep_interval`.
extension Daemon {
    /// Returns the sweep policy: the configured interval, and the shortest teardown poll and the longest stop,
    /// delete and teardown timeouts of the configured jobs.
    func sweepPolicy() -> SweepPolicy {
        let configuration = self.runtime.configuration
        let jobs = configuration.jobs
        let defaults = SweepPolicy()
        return SweepPolicy(
            interval: configuration.paperspace.sweepInterval,
            poll: jobs.map(\.poll.teardown).min() ?? defaults.poll,
            stopTimeout: jobs.map(\.timeouts.stop).max() ?? defaults.stopTimeout,
            deleteTimeout: jobs.map(\.timeouts.delete).max() ?? defaults.deleteTimeout,
            teardownLimit: jobs.map(\.timeouts.teardown).max() ?? defaults.teardownLimit
        )
    }

    /// Builds the sweeper for this daemon's prefix, journal, locks and notifiers.
    public func makeSweeper(policy: SweepPolicy? = nil) -> OrphanSweeper {
        let configuration = self.runtime.configuration
        let dispatcher = self.runtime.dispatcher
        return OrphanSweeper(
            prefix: configuration.paperspace.namePrefix,
            jobs: Set(configuration.jobs.map(\.name)),
            machines: self.runtime.machines,
            journal: self.runtime.journal,
            policy: policy ?? self.sweepPolicy(),
            logger: self.logger,
            isDrivenHere: { [self] runId in self.drives(runId) },
            lockPath: { [self] runId in self.lockPath(run: runId) },
            alert: { notification in
                let notify = configuration.job(named: notification.job)?.notify ?? []
                dispatcher.enqueue(notification, to: notify.isEmpty ? nil : notify)
            }
        )
    }

    /// Runs one orphan sweep on the calling thread and logs what it did.
    @discardableResult
    public func sweepOrphans(policy: SweepPolicy? = nil) -> SweepReport {
        let report = self.makeSweeper(policy: policy).sweep()
        self.logger.log(
            level: report.machinesDeleted.isEmpty && report.machinesFailed.isEmpty ? .info : .warning,
            "Orphan sweep finished",
            metadata: [
                "machines.deleted": "\(report.machinesDeleted.count)",
                "machines.failed": "\(report.machinesFailed.count)",
                "scripts.deleted": "\(report.scriptsDeleted.count)", "skipped.owned": "\(report.skippedOwned.count)",
            ]
        )
        return report
    }

    /// Starts the thread that sweeps now and then every interval until `stop` is raised. The returned signal is
    /// raised when the thread has finished its last sweep, so shutdown can wait for a teardown in progress.
    func startPeriodicSweeps() -> Signal {
        let done = Signal()
        let policy = self.sweepPolicy()
        let thread = Thread { [self] in
            repeat {
                self.sweepOrphans(policy: policy)
            } while !self.stop.wait(seconds: policy.interval)
            done.raise()
        }
        thread.name = "orphan-sweep"
        thread.start()
        return done
    }
}
