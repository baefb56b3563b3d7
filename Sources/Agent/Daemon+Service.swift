import Config
import Foundation
import Notifiers
import Schedules
import Support

/// The daemon's service state: a reload waiting for the scheduler, and the facts the `STATUS=` line reports.
final class DaemonServiceState: @unchecked Sendable {
    /// A validated configuration that the scheduler applies on its next wake.
    let pendingReload = Protected<Configuration?>(nil)
    /// The lifecycle state of each run this process drives, by run id, from the runs' transitions.
    let runStates = Protected<[String: (job: String, state: LifecycleState)]>([:])
    /// The earliest next fire over all jobs, from the last scheduler wake.
    let nextFire = Protected<(job: String, date: Date)?>(nil)
    /// Whether the next scheduler pass sends `READY=1`: at start and after a reload.
    let readyPending = Protected(true)
}

/// The jobs, notifiers and settings a reload adds, removes or changes, by name.
public struct ConfigurationChanges: Sendable, Equatable {
    public var jobsAdded: [String] = []
    public var jobsRemoved: [String] = []
    public var jobsChanged: [String] = []
    public var notifiersAdded: [String] = []
    public var notifiersRemoved: [String] = []
    public var notifiersChanged: [String] = []
    /// Settings that changed but take effect only after a restart, by config key.
    public var needsRestart: [String] = []

    public init() {}

    /// Compares two configurations. A job or notifier counts as changed when any of its settings differs,
    /// secret values included.
    public init(from old: Configuration, to new: Configuration) {
        let oldJobs = ConfigurationChanges.jobFingerprints(old)
        let newJobs = ConfigurationChanges.jobFingerprints(new)
        self.jobsAdded = new.jobNames.filter { oldJobs[$0] == nil }
        self.jobsRemoved = old.jobNames.filter { newJobs[$0] == nil }
        self.jobsChanged = new.jobNames.filter { name in oldJobs[name].map { $0 != newJobs[name] } ?? false }

        let oldNotifiers = Dictionary(
            old.notifiers.map { ($0.name, ConfigurationChanges.fingerprint($0)) },
            uniquingKeysWith: { first, _ in first }
        )
        let newNotifiers = Dictionary(
            new.notifiers.map { ($0.name, ConfigurationChanges.fingerprint($0)) },
            uniquingKeysWith: { first, _ in first }
        )
        self.notifiersAdded = new.notifiers.map(\.name).filter { oldNotifiers[$0] == nil }
        self.notifiersRemoved = old.notifiers.map(\.name).filter { newNotifiers[$0] == nil }
        self.notifiersChanged = new.notifiers.map(\.name).filter { name in
            oldNotifiers[name].map { $0 != newNotifiers[name] } ?? false
        }
        if old.logLevel != new.logLevel { self.needsRestart.append("log_level") }
    }

    public var isEmpty: Bool {
        self == ConfigurationChanges()
    }

    /// Returns a text form of every setting of each job, by job name, to compare two loads of the config.
    static func jobFingerprints(_ configuration: Configuration) -> [String: String] {
        var result: [String: String] = [:]
        for job in configuration.jobs { result[job.name] = "training " + ConfigurationChanges.fingerprint(job) }
        for job in configuration.uploads { result[job.name] = "upload " + ConfigurationChanges.fingerprint(job) }
        return result
    }

    /// Returns every stored property of `value`, recursively, with sets and dictionaries sorted, because their
    /// order differs between two loads of the same file. It contains secret values, so it is only compared and
    /// never logged.
    static func fingerprint(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        if mirror.children.isEmpty {
            return String(describing: value)
        }
        var parts = mirror.children.map { child in
            (child.label.map { $0 + "=" } ?? "") + ConfigurationChanges.fingerprint(child.value)
        }
        if mirror.displayStyle == .set || mirror.displayStyle == .dictionary {
            parts.sort()
        }
        return "(" + parts.joined(separator: ",") + ")"
    }

    /// Returns the settings that decide when a job fires, by job name. A job whose key is unchanged keeps its
    /// schedule tracker across a reload.
    static func timingKeys(_ configuration: Configuration) -> [String: String] {
        var result: [String: String] = [:]
        // Overlap is left out, because a tracker keeps no overlap state and the rebuilt job list carries it.
        func key(_ schedule: String, _ zone: String, _ policy: FirePolicy) -> String {
            "\(schedule)|\(zone)|\(policy.catchUp)|\(policy.startingDeadline)|\(policy.jitter)"
        }
        for job in configuration.jobs {
            result[job.name] = key(job.schedule, job.timeZone, job.firePolicy)
        }
        for job in configuration.uploads {
            result[job.name] = key(job.schedule, job.timeZone, job.firePolicy)
        }
        return result
    }
}

/// The `RunEventSink` of every run: it sends to the daemon's current dispatcher, so events of a run that started
/// before a reload go to the notifiers of the reloaded config.
struct CurrentRuntimeEventSink: RunEventSink, UploadEventSink {
    let daemon: Daemon

    func publish(_ kind: RunEventKind, record: RunRecord, job: TrainingJob) {
        self.daemon.runtime.events.publish(kind, record: record, job: job)
    }

    func publish(_ kind: RunEventKind, job: UploadJob, runId: String, startedAt: Date, result: UploadRunResult) {
        self.daemon.runtime.uploadEvents.publish(kind, job: job, runId: runId, startedAt: startedAt, result: result)
    }
}

extension Daemon {
    // MARK: - Reload

    /// Loads and validates the config at `path` for a reload, on the calling thread. On success the scheduler
    /// applies it on its next wake, within half a second. Returns whether it was accepted.
    ///
    /// On any error the running config stays in effect and every diagnostic is logged as one line, with its
    /// position in `file`, `line` and `column`.
    @discardableResult
    public func requestReload(configPath path: String, environment: [String: String]) -> Bool {
        self.service.reloading()
        self.logger.notice("Configuration reload requested", metadata: ["config": path])
        let configuration: Configuration
        do {
            configuration = try ConfigLoader.load(
                path: path,
                environment: environment,
                scheduleValidator: Schedule.validate
            )
        } catch {
            for diagnostic in error.diagnostics {
                self.logDiagnostic(diagnostic)
            }
            self.logger.error(
                "Configuration reload failed; the running configuration stays in effect",
                metadata: ["config": path, "errors": "\(error.diagnostics.filter { $0.severity == .error }.count)"]
            )
            self.service.ready(status: self.statusLine())
            return false
        }
        for diagnostic in configuration.warnings {
            self.logDiagnostic(diagnostic)
        }
        let current = self.runtime.configuration.stateDirectory
        guard configuration.stateDirectory == current else {
            self.logger.error(
                "Configuration reload failed because state_directory changed; restart nightshift to move the journal",
                metadata: [
                    "config": path, "state_directory": current,
                    "state_directory.new": configuration.stateDirectory,
                ]
            )
            self.service.ready(status: self.statusLine())
            return false
        }
        self.serviceState.pendingReload.withLock { $0 = configuration }
        return true
    }

    private func logDiagnostic(_ diagnostic: ConfigDiagnostic) {
        let metadata: Logger.Metadata = [
            "file": diagnostic.file, "line": "\(diagnostic.line)", "column": "\(diagnostic.column)",
            "key": diagnostic.key, "problem": diagnostic.message, "fix": diagnostic.fix,
        ]
        if diagnostic.severity == .error {
            self.logger.error("Configuration error", metadata: metadata)
        } else {
            self.logger.warning("Configuration warning", metadata: metadata)
        }
    }

    /// Applies a configuration that `requestReload` accepted: builds its clients and notifiers, swaps the jobs the
    /// scheduler uses, and logs what changed. Runs already active keep the job definition they started with.
    ///
    /// A job whose timing settings are unchanged keeps its tracker, so a reload never fires or skips it. A new job,
    /// or one whose timing changed, starts with a fresh tracker, whose first wake counts nothing as missed.
    func applyPendingReload(
        jobs: inout [ScheduledJob],
        trackers: inout [String: ScheduleTracker],
        queued: inout Set<String>
    ) {
        guard
            let configuration = self.serviceState.pendingReload.withLock({ pending in
                defer { pending = nil }
                return pending
            })
        else { return }
        let old = self.runtime
        let replacement: Runtime
        do {
            replacement = try Runtime.make(configuration: configuration, logger: self.logger)
        } catch {
            self.logger.error(
                "Configuration reload failed; the running configuration stays in effect",
                metadata: ["config": configuration.sourcePath, "error": "\(error)"]
            )
            self.service.ready(status: self.statusLine())
            return
        }
        let changes = ConfigurationChanges(from: old.configuration, to: configuration)
        self.replaceRuntime(replacement)

        let oldKeys = ConfigurationChanges.timingKeys(old.configuration)
        let newKeys = ConfigurationChanges.timingKeys(configuration)
        jobs = self.scheduledJobs()
        var trackersAfterReload: [String: ScheduleTracker] = [:]
        for job in jobs {
            if let tracker = trackers[job.name], oldKeys[job.name] == newKeys[job.name] {
                trackersAfterReload[job.name] = tracker
            } else {
                trackersAfterReload[job.name] = ScheduleTracker(timing: job.timing, lastFire: nil)
            }
        }
        trackers = trackersAfterReload
        queued = queued.filter { trackersAfterReload[$0] != nil }

        // The old workers may be in the middle of a delivery, so they stop on their own thread. The new
        // dispatcher resumes every row they leave pending in the same outbox.
        let stopping = Thread {
            if !old.dispatcher.stop(timeout: 30) {
                self.logger.warning("Notifier workers of the previous configuration did not stop within 30 s")
            }
        }
        stopping.name = "reload-dispatcher-stop"
        stopping.start()

        self.logger.notice(
            changes.isEmpty ? "Configuration reloaded; nothing changed" : "Configuration reloaded",
            metadata: [
                "config": configuration.sourcePath,
                "jobs.added": changes.jobsAdded.joined(separator: ","),
                "jobs.removed": changes.jobsRemoved.joined(separator: ","),
                "jobs.changed": changes.jobsChanged.joined(separator: ","),
                "notifiers.added": changes.notifiersAdded.joined(separator: ","),
                "notifiers.removed": changes.notifiersRemoved.joined(separator: ","),
                "notifiers.changed": changes.notifiersChanged.joined(separator: ","),
            ]
        )
        if !changes.needsRestart.isEmpty {
            self.logger.warning(
                "Some changed settings take effect only after a restart",
                metadata: ["settings": changes.needsRestart.joined(separator: ",")]
            )
        }
        // READY=1 follows on the scheduler's next pass, once it has computed the new next fires.
        self.serviceState.readyPending.withLock { $0 = true }
    }

    // MARK: - Status and watchdog

    /// The transition callback given to every run: it passes the transition on and updates the `STATUS=` line.
    var observingTransition: @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void {
        let forward = self.onTransition
        return { [self] record, from, to, reason in
            forward(record, from, to, reason)
            self.serviceState.runStates.withLock { states in
                if to.isTerminal {
                    states[record.runId] = nil
                } else {
                    states[record.runId] = (record.job, to)
                }
            }
            self.service.status(self.statusLine())
        }
    }

    /// Records the earliest next fire of a scheduler pass and sends the status, with `READY=1` when this is the
    /// first pass or the first pass after a reload.
    func reportSchedulerPass(nextFires: [String: Date]) {
        let earliest = nextFires.min { $0.value < $1.value }
        self.serviceState.nextFire.withLock { $0 = earliest.map { (job: $0.key, date: $0.value) } }
        let sendReady = self.serviceState.readyPending.withLock { pending in
            defer { pending = false }
            return pending
        }
        if sendReady {
            self.service.ready(status: self.statusLine())
        } else {
            self.service.status(self.statusLine())
        }
        self.service.pingWatchdogIfDue()
    }

    /// Returns the line for systemd's `STATUS=`: the active runs with their states, then the next fire.
    func statusLine() -> String {
        let states = self.serviceState.runStates.current
        let activeByJob = self.active.current.filter { $0.value > 0 }
        let count = activeByJob.values.reduce(0, +)
        var parts: [String] = []
        for (_, entry) in states.sorted(by: { $0.key < $1.key }) {
            parts.append("\(entry.job) \(entry.state.rawValue)")
        }
        let described = Set(states.values.map(\.job))
        for name in activeByJob.keys.sorted() where !described.contains(name) {
            parts.append("\(name) active")
        }
        var line = count == 0 ? "no active runs" : "\(count) active run\(count == 1 ? "" : "s"): "
        line += parts.joined(separator: ", ")
        if self.stop.isRaised {
            line = "stopping, " + line
        } else if let next = self.serviceState.nextFire.current {
            line += "; next fire \(next.job) at \(Daemon.iso(next.date))"
        } else {
            line += "; no fire scheduled"
        }
        return line
    }

    /// Sleeps up to `seconds` in slices of at most half a second, pinging the watchdog between slices. Returns
    /// true when `stop` is raised, and returns early when a reload is waiting.
    func sleepUntilWake(seconds: Double) -> Bool {
        let deadline = SystemdNotifier.monotonicSeconds() + max(0, seconds)
        while true {
            self.service.pingWatchdogIfDue()
            if self.serviceState.pendingReload.current != nil { return self.stop.isRaised }
            let remaining = deadline - SystemdNotifier.monotonicSeconds()
            if remaining <= 0 { return self.stop.isRaised }
            if self.stop.wait(seconds: min(remaining, 0.5)) { return true }
        }
    }

    /// Sends `STOPPING=1` and waits for every active run's teardown, pinging the watchdog meanwhile: a long
    /// teardown is not a hung daemon, and systemd must not restart the service in the middle of it.
    func waitForTeardowns() {
        self.service.stopping(status: self.statusLine())
        while !self.waitForRuns(timeout: 0.5) {
            self.service.pingWatchdogIfDue()
            self.service.status(self.statusLine())
        }
        self.service.status(self.statusLine())
    }
}
