import Config
import Foundation
import Notifiers
import Schedules
import Support

/// The nightshift daemon: recovers runs from the journal, sleeps until the next fire time, and starts training
/// runs on their own threads, at most one active run per job.
///
/// `stop` is raised by SIGINT or SIGTERM. The daemon then stops scheduling, cancels every active run (which
/// starts its teardown), waits until every teardown has finished, flushes notifications, and returns.
/// `requestReload` swaps in a new config between scheduler wakes, and `service` reports to systemd.
public final class Daemon: @unchecked Sendable {
    /// The clients and configuration in effect; a reload replaces them.
    public var runtime: Runtime { self.currentRuntime.current }
    private let currentRuntime: Protected<Runtime>
    let logger: Logger
    let stop: Signal
    /// Receives READY, STATUS, WATCHDOG and STOPPING; does nothing outside systemd.
    let service: SystemdNotifier
    let serviceState = DaemonServiceState()
    /// The number of active runs per job in this process.
    let active = Protected<[String: Int]>([:])
    /// The ids of the runs this process is driving.
    let ownedRuns = Protected<Set<String>>([])
    private let finished = NSCondition()
    private var runningCount = 0
    let onTransition: @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void
    let onPoll: @Sendable (RunRecord, String?) -> Void
    /// Called when a `hub_upload` run ends, after its notification is queued.
    let onUploadFinished: @Sendable (UploadJob, String, UploadRunResult) -> Void
    /// Makes run ids; replaced in tests.
    let makeRunId: @Sendable (Date) -> String

    public init(
        runtime: Runtime,
        logger: Logger,
        stop: Signal,
        service: SystemdNotifier = SystemdNotifier(environment: [:]),
        makeRunId: @escaping @Sendable (Date) -> String = Daemon.defaultRunId,
        onTransition: @escaping @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void = { _, _, _, _ in
        },
        onPoll: @escaping @Sendable (RunRecord, String?) -> Void = { _, _ in },
        onUploadFinished: @escaping @Sendable (UploadJob, String, UploadRunResult) -> Void = { _, _, _ in }
    ) {
        self.currentRuntime = Protected(runtime)
        self.logger = logger
        self.stop = stop
        self.service = service
        self.makeRunId = makeRunId
        self.onTransition = onTransition
        self.onPoll = onPoll
        self.onUploadFinished = onUploadFinished
    }

    /// Returns a run id such as `20271204-030000-3fa2`: the UTC start time and four random hex digits.
    public static func defaultRunId(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: date) + "-" + Digest.randomBytes(2).hexString
    }

    func lockPath(run runId: String) -> String {
        self.runtime.configuration.stateDirectory + "/locks/run-\(runId).lock"
    }

    func lockPath(job name: String) -> String {
        self.runtime.configuration.stateDirectory + "/locks/job-\(name).lock"
    }

    /// Returns whether this process drives the run with `runId`.
    func drives(_ runId: String) -> Bool {
        self.ownedRuns.current.contains(runId)
    }

    /// Returns the runs the journal shows in flight that no live nightshift process owns.
    public func unownedRuns() throws -> [RunRecord] {
        try self.runtime.journal.activeRuns().filter { record in
            // Taking the lock and dropping it at once only tests whether someone holds it.
            (try? FileLock.tryAcquire(self.lockPath(run: record.runId))) != nil
        }
    }

    /// Resumes or tears down every run the journal shows in flight that no other live nightshift process owns;
    /// returns how many it started. The scheduler calls it again on every wake, so runs left by a `nightshift
    /// start` that died are adopted while the daemon runs, not only when it starts.
    @discardableResult
    public func recover() throws -> Int {
        try self.adoptUnownedRuns(quiet: false)
    }

    @discardableResult
    private func adoptUnownedRuns(quiet: Bool) throws -> Int {
        let inFlight = try self.runtime.journal.activeRuns()
        var started = 0
        for candidate in inFlight where !self.ownedRuns.current.contains(candidate.runId) {
            let runLock: FileLock
            do {
                guard let lock = try FileLock.tryAcquire(self.lockPath(run: candidate.runId)) else {
                    self.logger.log(
                        level: quiet ? .debug : .notice,
                        "Run in journal is owned by another nightshift process; leaving it alone",
                        metadata: ["run.id": candidate.runId, "job": candidate.job, "state": candidate.state.rawValue]
                    )
                    continue
                }
                runLock = lock
            } catch {
                self.logger.error(
                    "Run lock cannot be taken, so the run is not recovered now",
                    metadata: ["run.id": candidate.runId, "job": candidate.job, "error": "\(error)"]
                )
                continue
            }
            // The owner may have finished the run between the journal read and the lock, so read it again.
            let current = (try? self.runtime.journal.activeRuns().first { $0.runId == candidate.runId }) ?? nil
            guard let record = current else {
                runLock.release()
                continue
            }
            // The job lock keeps other processes from starting a new run of this job during the recovery. Another
            // recovered run of the same job may hold it already; the teardown goes ahead regardless.
            let jobLock = try? FileLock.tryAcquire(self.lockPath(job: record.job))
            let job = self.runtime.configuration.job(named: record.job) ?? Daemon.placeholderJob(for: record)
            self.logger.notice(
                "Recovering run from journal",
                metadata: ["run.id": record.runId, "job": record.job, "state": record.state.rawValue]
            )
            self.launch(
                job: job,
                record: record,
                resume: true,
                locks: [runLock] + ((jobLock ?? nil).map { [$0] } ?? [])
            )
            started += 1
        }
        return started
    }

    /// Starts one run of `job` now on a background thread; returns nil when the job already has an active run.
    @discardableResult
    public func startRun(of job: TrainingJob, at now: Date = Date()) -> RunRecord? {
        if self.isActive(job.name) {
            self.logger.warning("Run skipped because the previous run is still active", metadata: ["job": job.name])
            return nil
        }
        let jobLock: FileLock
        let runLock: FileLock
        let runId = self.makeRunId(now)
        do {
            guard let lock = try FileLock.tryAcquire(self.lockPath(job: job.name)) else {
                self.logger.warning(
                    "Run skipped because another nightshift process is running this job",
                    metadata: ["job": job.name]
                )
                return nil
            }
            jobLock = lock
            guard let ownLock = try FileLock.tryAcquire(self.lockPath(run: runId)) else {
                self.logger.error(
                    "Run not started because its run id is already locked",
                    metadata: ["job": job.name, "run.id": runId]
                )
                return nil
            }
            runLock = ownLock
        } catch {
            self.logger.error(
                "Run not started because its lock file cannot be opened",
                metadata: ["job": job.name, "error": "\(error)"]
            )
            return nil
        }
        let record = RunRecord(
            runId: runId,
            job: job.name,
            machineName: "\(self.runtime.configuration.paperspace.namePrefix)-\(job.name)-\(runId)",
            machineType: job.machine.type,
            startedAt: now,
            maxDuration: job.maxDuration,
            hourlyRate: job.machine.hourlyRate
        )
        if let reason = self.budgetRejection(for: job, at: now) {
            self.rejectRun(record, of: job, reason: reason)
            return nil
        }
        do {
            try self.runtime.journal.save(record, transitions: [])
        } catch {
            // Without a journal entry a crash could leak the machine, so the run does not start.
            self.logger.error(
                "Run not started because the journal write failed",
                metadata: ["job": job.name, "error": "\(error)"]
            )
            return nil
        }
        self.launch(job: job, record: record, resume: false, locks: [runLock, jobLock])
        self.sendBudgetWarnings(job: job, at: now)
        return record
    }

    /// Starts one run of a `hub_upload` job now on a background thread and returns its run id. Returns nil when
    /// the job is still running or has no uploader.
    @discardableResult
    public func startUpload(of job: UploadJob, at now: Date = Date()) -> String? {
        guard let uploader = self.runtime.uploader else {
            self.logger.error("Upload not started because no Hub client is configured", metadata: ["job": job.name])
            return nil
        }
        if self.isActive(job.name) {
            self.logger.warning(
                "Upload skipped because the previous upload is still running",
                metadata: ["job": job.name]
            )
            return nil
        }
        let lock: FileLock
        do {
            guard let acquired = try FileLock.tryAcquire(self.lockPath(job: job.name)) else {
                self.logger.warning(
                    "Upload skipped because another nightshift process is running this job",
                    metadata: ["job": job.name]
                )
                return nil
            }
            lock = acquired
        } catch {
            self.logger.error(
                "Upload not started because its lock file cannot be opened",
                metadata: ["job": job.name, "error": "\(error)"]
            )
            return nil
        }
        let runId = self.makeRunId(now)
        let events = CurrentRuntimeEventSink(daemon: self)
        let runner = UploadRunner(uploader: uploader, events: events, logger: self.logger)
        self.begin(job: job.name)
        let thread = Thread { [self] in
            let result = runner.run(job, runId: runId, stop: self.stop, now: now)
            do {
                try self.runtime.journal.saveUpload(
                    UploadRecord(runId: runId, job: job.name, startedAt: now, result: result)
                )
            } catch {
                self.logger.error(
                    "Journal write of the upload failed",
                    metadata: ["job": job.name, "run.id": runId, "error": "\(error)"]
                )
            }
            self.onUploadFinished(job, runId, result)
            lock.release()
            self.end(job: job.name)
        }
        thread.name = "upload-\(runId)"
        thread.start()
        return runId
    }

    func replaceRuntime(_ runtime: Runtime) {
        self.currentRuntime.withLock { $0 = runtime }
    }

    /// Counts a run of `job` as active, so that `waitForRuns` waits for it.
    private func begin(job name: String) {
        self.finished.lock()
        self.runningCount += 1
        self.finished.unlock()
        self.active.withLock { $0[name, default: 0] += 1 }
    }

    private func end(job name: String) {
        self.active.withLock { $0[name] = max(0, ($0[name] ?? 1) - 1) }
        self.finished.lock()
        self.runningCount -= 1
        self.finished.broadcast()
        self.finished.unlock()
    }

    public func isActive(_ job: String) -> Bool {
        self.active.withLock { ($0[job] ?? 0) > 0 }
    }

    /// Waits until no run is active, or `timeout` seconds have passed; returns true when none is.
    @discardableResult
    public func waitForRuns(timeout: Double = .infinity) -> Bool {
        // NSCondition.wait(until:) traps on dates as far away as `distantFuture`, so an unlimited wait uses wait().
        let deadline = timeout.isFinite ? Date(timeIntervalSinceNow: timeout) : nil
        self.finished.lock()
        defer { self.finished.unlock() }
        while self.runningCount > 0 {
            if let deadline {
                if !self.finished.wait(until: deadline) { return self.runningCount == 0 }
            } else {
                self.finished.wait()
            }
        }
        return true
    }

    /// Runs `record` on a new thread and releases `locks` when it reaches a terminal state.
    private func launch(job: TrainingJob, record: RunRecord, resume: Bool, locks: [FileLock]) {
        let configuration = self.runtime.configuration
        let token = configuration.hub.token?.value ?? ""
        let supervisor = RunSupervisor(
            job: job,
            machines: self.runtime.machines,
            results: self.runtime.results,
            journal: self.runtime.journal,
            events: CurrentRuntimeEventSink(daemon: self),
            logger: self.logger,
            cancel: self.stop,
            scriptText: {
                StartupScriptTemplate.render(
                    job: job,
                    runId: record.runId,
                    hubEndpoint: configuration.hub.endpoint,
                    hubToken: token
                )
            },
            onTransition: self.observingTransition,
            onPoll: self.onPoll
        )
        let thread = Thread { [self] in
            let final: RunRecord
            if !resume, let step = job.trainingDataUpload, let failed = self.uploadTrainingData(step, record, job) {
                final = failed
            } else {
                final = resume ? supervisor.resume(record) : supervisor.run(record)
            }
            self.logger.notice(
                "Run finished",
                metadata: ["run.id": final.runId, "job": final.job, "state": final.state.rawValue]
            )
            locks.forEach { $0.release() }
            self.ownedRuns.withLock { _ = $0.remove(record.runId) }
            self.end(job: job.name)
        }
        thread.name = "run-\(record.runId)"
        self.begin(job: job.name)
        self.ownedRuns.withLock { _ = $0.insert(record.runId) }
        thread.start()
    }

    /// Uploads the prepared training data before the run creates anything. Returns the failed record when the
    /// upload fails, so that no machine is created for stale data; returns nil when the run may go on.
    private func uploadTrainingData(_ step: TrainingDataUpload, _ record: RunRecord, _ job: TrainingJob) -> RunRecord? {
        let logger = self.logger.with(["job": job.name, "run.id": record.runId])
        logger.notice("Training data upload started", metadata: ["root": step.root, "repo": step.repo])
        let failure: String
        if let uploader = self.runtime.uploader {
            do {
                let summary = try uploader.uploadTrainingData(step, cancel: self.stop)
                logger.notice(
                    "Training data upload finished",
                    metadata: [
                        "files.uploaded": "\(summary.filesUploaded)", "files.unchanged": "\(summary.filesUnchanged)",
                        "bytes": "\(summary.bytesSent)", "commit": summary.commitURL ?? "none",
                    ]
                )
                return nil
            } catch {
                failure = "training data upload failed: \(error)"
            }
        } else {
            failure = "training data upload failed: no Hub client is configured"
        }
        var failed = record
        let now = Date()
        failed.state = .failed
        failed.stateEnteredAt = now
        failed.finishedAt = now
        failed.machineMayExist = false
        failed.scriptMayExist = false
        failed.outcome = RunRecord.Outcome(succeeded: false, failedState: .pending, reason: failure)
        do {
            try self.runtime.journal.save(failed, transitions: [(.pending, .failed, failure)])
        } catch {
            logger.error("Journal write failed", metadata: ["error": "\(error)"])
        }
        logger.error(
            "Run state changed",
            metadata: ["state.from": "pending", "state.to": "failed", "reason": failure]
        )
        self.onTransition(failed, .pending, .failed, failure)
        self.runtime.events.publish(.failed, record: failed, job: job)
        return failed
    }

    /// Runs the scheduler until `stop` is raised, then waits for every active run's teardown.
    ///
    /// Each wake gets from every job's `ScheduleTracker` what is due, so a wall-clock jump or a resume from suspend
    /// neither doubles a run nor skips one silently: missed fires go through the job's catch-up policy and are
    /// logged. Each sleep lasts at most `maxSleep` seconds, so that a jump is noticed and runs left behind by a
    /// dead `nightshift start` are adopted within a minute.
    public func runScheduler(maxSleep: Double = 60) {
        var jobs = self.scheduledJobs()
        let lastFires: [String: Date]
        do {
            lastFires = try self.runtime.journal.lastFireTimes()
        } catch {
            self.logger.error(
                "Reading the last fire times failed; no missed run is caught up",
                metadata: ["error": "\(error)"]
            )
            lastFires = [:]
        }
        var trackers: [String: ScheduleTracker] = [:]
        for job in jobs {
            trackers[job.name] = ScheduleTracker(timing: job.timing, lastFire: lastFires[job.name])
        }
        var queued: Set<String> = []
        self.logger.notice("Scheduler started", metadata: ["jobs": "\(jobs.count)"])
        let sweepsDone = self.startPeriodicSweeps()

        while !self.stop.isRaised {
            self.applyPendingReload(jobs: &jobs, trackers: &trackers, queued: &queued)
            do {
                try self.adoptUnownedRuns(quiet: true)
            } catch {
                self.logger.error("Reading the journal for unowned runs failed", metadata: ["error": "\(error)"])
            }
            let reading = ClockReading.now()
            var earliest: Date? = nil
            var nextFires: [String: Date] = [:]
            var clockEventLogged = false
            for job in jobs {
                guard var tracker = trackers[job.name] else { continue }
                let firstWake = tracker.previous == nil
                let step = tracker.wake(at: reading)
                trackers[job.name] = tracker
                if !clockEventLogged {
                    self.logClockEvent(step.clockEvent)
                    clockEventLogged = true
                }
                if firstWake {
                    self.logger.info(
                        "Job scheduled",
                        metadata: [
                            "job": job.name, "next_fire": step.decision.nextDue.map(Daemon.iso) ?? "never",
                            "last_fire": lastFires[job.name].map(Daemon.iso) ?? "none",
                        ]
                    )
                }
                self.handle(step.decision, of: job, at: reading.wall, queued: &queued)
                if queued.contains(job.name), !self.isActive(job.name) {
                    queued.remove(job.name)
                    self.logger.notice("Queued run starting", metadata: ["job": job.name])
                    job.start(reading.wall)
                }
                if let next = step.decision.nextDue {
                    earliest = min(earliest ?? next, next)
                    nextFires[job.name] = next
                }
            }
            self.reportSchedulerPass(nextFires: nextFires)
            var sleep = min(maxSleep, max(0, (earliest ?? .distantFuture).timeIntervalSinceNow))
            if !queued.isEmpty { sleep = min(sleep, 5) }
            if self.sleepUntilWake(seconds: sleep) { break }
        }

        self.logger.notice("Scheduler stopping; waiting for active runs to finish teardown")
        self.waitForTeardowns()
        _ = sweepsDone.wait(seconds: .infinity)
        if !self.runtime.dispatcher.flush(timeout: 30) {
            self.logger.warning("Some notifications were still undelivered at exit")
        }
        self.logger.notice("Scheduler stopped")
    }

    /// One job as the scheduler handles it: its timing, its overlap policy and how to start a run of it.
    struct ScheduledJob {
        var name: String
        var timing: JobTiming
        var overlap: OverlapPolicy
        var start: (Date) -> Void
    }

    /// Returns every job with a valid schedule; a stable jitter is seeded from the host name, a random one once
    /// per daemon start.
    func scheduledJobs() -> [ScheduledJob] {
        let configuration = self.runtime.configuration
        let stableSeed = Jitter.seed(from: ProcessInfo.processInfo.hostName)
        let randomSeed = UInt64.random(in: .min ... .max)
        var result: [ScheduledJob] = []
        func add(
            _ name: String,
            _ expression: String,
            _ zoneName: String,
            _ policy: FirePolicy,
            _ start: @escaping (Date) -> Void
        ) {
            guard let schedule = try? Schedule(parsing: expression), let zone = TimeZone(identifier: zoneName) else {
                self.logger.error(
                    "Job has an invalid schedule and will not run",
                    metadata: ["job": name, "schedule": expression]
                )
                return
            }
            let timing = JobTiming(
                name: name,
                schedule: schedule,
                timeZone: schedule.effectiveTimeZone(default: zone),
                catchUp: policy.catchUp,
                startingDeadline: policy.startingDeadline,
                jitter: policy.jitter,
                jitterSeed: policy.jitter.mode == .stable ? stableSeed : randomSeed
            )
            result.append(ScheduledJob(name: name, timing: timing, overlap: policy.overlap, start: start))
        }
        for job in configuration.jobs {
            add(job.name, job.schedule, job.timeZone, job.firePolicy) {
                [self] now in self.startRun(of: job, at: now)
            }
        }
        for job in configuration.uploads {
            add(job.name, job.schedule, job.timeZone, job.firePolicy) {
                [self] now in self.startUpload(of: job, at: now)
            }
        }
        return result
    }

    /// Starts, queues or skips the fire a decision names, logs missed fires, and journals what was handled.
    private func handle(_ decision: CatchUpDecision, of job: ScheduledJob, at now: Date, queued: inout Set<String>) {
        if let missed = decision.missed {
            let count = missed.countIsLowerBound ? "at least \(missed.count)" : "\(missed.count)"
            self.logger.warning(
                "Scheduled runs missed",
                metadata: [
                    "job": job.name, "count": count, "first": Daemon.iso(missed.first.date),
                    "last": Daemon.iso(missed.last.date), "catch_up": job.timing.catchUp.rawValue,
                ]
            )
            self.scheduleEvent(
                .missed,
                job: job.name,
                scheduled: missed.last.date,
                reason: "\(count) scheduled run(s) missed while nightshift could not start them, from "
                    + "\(Daemon.iso(missed.first.date)) to \(Daemon.iso(missed.last.date))"
            )
        }
        if let fire = decision.fire {
            var metadata: Logger.Metadata = ["job": job.name, "fire_time": Daemon.iso(fire.date)]
            let due = job.timing.dueDate(of: fire)
            if due != fire.date { metadata["jitter_seconds"] = "\(Int(due.timeIntervalSince(fire.date)))" }
            if let moved = fire.movedFrom { metadata["moved_from"] = "\(moved)" }
            self.logger.notice("Schedule fired", metadata: metadata)
            switch job.overlap.decide(runIsActive: self.isActive(job.name), runIsQueued: queued.contains(job.name)) {
            case .start:
                job.start(now)
            case .enqueue:
                queued.insert(job.name)
                self.logger.notice("Run queued until the previous run ends", metadata: ["job": job.name])
            case .skip(let reason):
                self.logger.warning(
                    "Run skipped because the previous run is still active",
                    metadata: ["job": job.name, "reason": reason.rawValue]
                )
                self.scheduleEvent(
                    .skipped,
                    job: job.name,
                    scheduled: fire.date,
                    reason: "the run due at \(Daemon.iso(fire.date)) was skipped because the previous run of "
                        + "\(job.name) is still active"
                )
            }
        }
        guard let handled = decision.fire?.date ?? decision.handledThrough else { return }
        do {
            try self.runtime.journal.recordFire(job: job.name, scheduledAt: handled, firedAt: now)
        } catch {
            self.logger.error(
                "Journal write of the fire time failed",
                metadata: ["job": job.name, "error": "\(error)"]
            )
        }
    }

    /// Sends a missed or skipped alert to the job's notifiers. Its run id is derived from the scheduled time, so
    /// the event id stays the same if a restart reports the same fire again.
    private func scheduleEvent(_ kind: RunEventKind, job name: String, scheduled: Date, reason: String) {
        let configuration = self.runtime.configuration
        let notify = configuration.job(named: name)?.notify ?? configuration.uploadJob(named: name)?.notify ?? []
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let notification = RunNotification(
            kind: kind,
            job: name,
            runId: "\(formatter.string(from: scheduled))-scheduled",
            occurredAt: Date(),
            machineId: nil,
            machineType: configuration.job(named: name)?.machine.type,
            durationSeconds: nil,
            estimatedCostUSD: nil,
            failedState: nil,
            reason: reason,
            modelCommitURL: nil
        )
        self.runtime.dispatcher.enqueue(notification, to: notify.isEmpty ? nil : notify)
    }

    private func logClockEvent(_ event: ClockEvent) {
        switch event {
        case .normal:
            return
        case .backwardJump(let seconds):
            self.logger.warning("Wall clock jumped backwards", metadata: ["seconds": "\(Int(seconds))"])
        case .forwardJump(let seconds):
            self.logger.warning("Wall clock jumped forwards", metadata: ["seconds": "\(Int(seconds))"])
        case .resumed(let seconds):
            self.logger.notice("Resumed from suspend", metadata: ["seconds": "\(Int(seconds))"])
        case .forwardJumpOrResume(let seconds):
            self.logger.warning(
                "Wall clock moved forwards, by a jump or a suspend",
                metadata: ["seconds": "\(Int(seconds))"]
            )
        }
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    /// Returns a job definition for a recovered run whose job is no longer in the config, with enough to tear it down.
    static func placeholderJob(for record: RunRecord) -> TrainingJob {
        TrainingJob(
            name: record.job,
            schedule: "@yearly",
            machine: MachineSpec(type: record.machineType, template: "", region: ""),
            repositoryURL: "",
            datasetRepo: "",
            trainCommand: "",
            modelRepo: "",
            outputs: [],
            maxDuration: 1
        )
    }
}

extension ClockReading {
    /// Reads the wall clock, `CLOCK_MONOTONIC` (which stops during suspend) and `CLOCK_BOOTTIME` (which does not).
    static func now() -> ClockReading {
        func seconds(_ clock: clockid_t) -> TimeInterval {
            var spec = timespec()
            clock_gettime(clock, &spec)
            return TimeInterval(spec.tv_sec) + TimeInterval(spec.tv_nsec) / 1e9
        }
        return ClockReading(wall: Date(), monotonic: seconds(CLOCK_MONOTONIC), boottime: seconds(CLOCK_BOOTTIME))
    }
}
