import Agent
import Config
import Foundation
import Schedules
import Support

/// The implementations of the `nightshift` commands. Each returns the process exit code.
enum Commands {
    /// Loads the config, printing every diagnostic to stderr; returns nil when it has errors.
    static func loadConfiguration(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> Configuration?
    {
        do {
            let configuration = try ConfigLoader.load(
                path: path,
                environment: environment,
                scheduleValidator: Schedule.validate
            )
            if !configuration.warnings.isEmpty {
                printError(ConfigLoader.format(configuration.warnings))
            }
            return configuration
        } catch {
            printError(ConfigLoader.format(error.diagnostics))
            return nil
        }
    }

    static func makeLogger(_ configuration: Configuration?, level: Logger.Level? = nil) -> Logger {
        Logger(label: "nightshift", logLevel: level ?? configuration?.logLevel ?? .info)
    }

    static func validate(_ arguments: ParsedArguments) -> Int32 {
        guard let configuration = self.loadConfiguration(arguments.configPath) else {
            return ExitCode.dataError.rawValue
        }
        let jobCount = configuration.jobs.count + configuration.uploads.count
        writeLine(
            "\(arguments.configPath): valid, \(jobCount) job(s) (\(configuration.jobs.count) training, "
                + "\(configuration.uploads.count) hub_upload), \(configuration.notifiers.count) notifier(s)"
        )
        return ExitCode.success.rawValue
    }

    static func next(_ arguments: ParsedArguments) -> Int32 {
        guard let configuration = self.loadConfiguration(arguments.configPath) else {
            return ExitCode.dataError.rawValue
        }
        var jobs =
            configuration.jobs.map { (name: $0.name, schedule: $0.schedule, timeZone: $0.timeZone, jitter: $0.firePolicy.jitter) }
            + configuration.uploads.map {
                (name: $0.name, schedule: $0.schedule, timeZone: $0.timeZone, jitter: $0.firePolicy.jitter)
            }
        if let name = arguments.positional.first {
            guard let job = jobs.first(where: { $0.name == name }) else {
                printError(
                    "nightshift: no job named \(name) in \(arguments.configPath); "
                        + "jobs are \(jobs.map(\.name).joined(separator: ", "))"
                )
                return ExitCode.usage.rawValue
            }
            jobs = [job]
        }
        let now = Date()
        let seed = Jitter.seed(from: ProcessInfo.processInfo.hostName)
        for (index, job) in jobs.enumerated() {
            guard let schedule = try? Schedule(parsing: job.schedule), let jobZone = TimeZone(identifier: job.timeZone)
            else {
                continue
            }
            let zone = schedule.effectiveTimeZone(default: jobZone)
            if index > 0 { writeLine("") }
            writeLine("\(job.name): \"\(job.schedule)\" (\(schedule.syntax.rawValue)) in \(zone.identifier)")
            let fires = schedule.fireTimes(after: now, in: zone, count: arguments.count)
            if fires.isEmpty { writeLine("  never fires") }
            for fire in fires {
                var line = "  " + FireTimeFormatter.format(fire, in: zone)
                if job.jitter.limit > 0, job.jitter.mode == .stable {
                    let delay = job.jitter.delay(jobName: job.name, scheduled: fire.date, seed: seed)
                    line += "  starts \(ProgressMeter.formatDuration(delay)) later"
                } else if job.jitter.limit > 0 {
                    line += "  starts up to \(ProgressMeter.formatDuration(job.jitter.limit)) later"
                }
                writeLine(line)
            }
        }
        return ExitCode.success.rawValue
    }

    /// Runs the daemon until SIGTERM or SIGINT. Under systemd it reports READY, STATUS, WATCHDOG and STOPPING
    /// on `NOTIFY_SOCKET`, and SIGHUP reloads the config without interrupting active runs.
    static func run(_ arguments: ParsedArguments) -> Int32 {
        guard let configuration = self.loadConfiguration(arguments.configPath) else {
            return ExitCode.dataError.rawValue
        }
        let logger = self.makeLogger(configuration)
        let service = SystemdNotifier.fromProcessEnvironment(logger: logger.with(["component": "systemd"]))
        let stop = Signal()
        let daemonBox = Protected<Daemon?>(nil)
        let configPath = arguments.configPath
        SignalWatcher.install(stop: stop, logger: logger) {
            guard let daemon = daemonBox.current else {
                logger.warning("SIGHUP ignored because nightshift is still starting; send it again once it is ready")
                return
            }
            daemon.requestReload(configPath: configPath, environment: ProcessInfo.processInfo.environment)
        }
        logger.notice(
            "nightshift starting",
            metadata: [
                "version": NightshiftVersion.current, "config": arguments.configPath, "pid": "\(getpid())",
                "systemd": service.isEnabled ? "notify" : "off",
                "watchdog_interval_s": service.watchdogInterval.map { String(format: "%g", $0) } ?? "off",
            ]
        )
        let runtime: Runtime
        do {
            runtime = try Runtime.make(configuration: configuration, logger: logger)
        } catch {
            logger.critical("Cannot open the state directory or journal", metadata: ["error": "\(error)"])
            return ExitCode.cannotCreate.rawValue
        }
        let daemon = Daemon(runtime: runtime, logger: logger, stop: stop, service: service)
        do {
            let recovered = try daemon.recover()
            logger.notice("Journal recovery finished", metadata: ["runs": "\(recovered)"])
        } catch {
            logger.critical("Cannot read the journal", metadata: ["error": "\(error)"])
            return ExitCode.software.rawValue
        }
        daemonBox.withLock { $0 = daemon }
        // READY=1 goes out from the scheduler's first pass, once every job's next fire is known.
        daemon.runScheduler()
        logger.notice("nightshift stopped")
        return ExitCode.success.rawValue
    }

    static func start(_ arguments: ParsedArguments) -> Int32 {
        guard let configuration = self.loadConfiguration(arguments.configPath) else {
            return ExitCode.dataError.rawValue
        }
        let name = arguments.positional[0]
        if let upload = configuration.uploadJob(named: name) {
            return self.startUpload(upload, configuration: configuration, arguments: arguments)
        }
        guard let job = configuration.job(named: name) else {
            printError(
                "nightshift: no job named \(name) in \(arguments.configPath); "
                    + "jobs are \(configuration.jobNames.joined(separator: ", "))"
            )
            return ExitCode.usage.rawValue
        }

        let logger = self.makeLogger(configuration, level: .warning)
        let stop = Signal()
        SignalWatcher.install(stop: stop, logger: logger)
        let runtime: Runtime
        do {
            runtime = try Runtime.make(configuration: configuration, logger: logger)
        } catch {
            printError("nightshift: cannot open the state directory \(configuration.stateDirectory): \(error)")
            return ExitCode.cannotCreate.rawValue
        }

        let daemon = Daemon(
            runtime: runtime,
            logger: logger,
            stop: stop,
            onTransition: StatePrinter.print,
            onPoll: StatePrinter.progress
        )
        if let orphans = try? daemon.unownedRuns(), !orphans.isEmpty {
            // `start` does not adopt them: resuming a run that is still training could keep it busy for hours.
            printError(
                "nightshift: warning: \(orphans.count) run(s) in the journal were interrupted "
                    + "and no nightshift process "
                    + "owns them (\(orphans.map(\.runId).joined(separator: ", "))); a running `nightshift run` adopts "
                    + "them within a minute, otherwise start one to finish their teardown"
            )
        }

        guard let record = daemon.startRun(of: job) else {
            printError("nightshift: no run of \(name) was started; the log line above gives the reason")
            return ExitCode.temporaryFailure.rawValue
        }
        writeLine("run \(record.runId) of \(name) started; machine name \(record.machineName)")

        daemon.waitForRuns()
        _ = runtime.dispatcher.flush(timeout: 30)
        let final = (try? runtime.journal.run(id: record.runId)) ?? record
        return self.exitCode(for: final)
    }

    /// Runs one `hub_upload` job now and prints its result; exits 0 when it succeeded and 1 when it failed.
    static func startUpload(_ job: UploadJob, configuration: Configuration, arguments: ParsedArguments) -> Int32 {
        let logger = self.makeLogger(configuration, level: .warning)
        let stop = Signal()
        SignalWatcher.install(stop: stop, logger: logger)
        let runtime: Runtime
        do {
            runtime = try Runtime.make(configuration: configuration, logger: logger)
        } catch {
            printError("nightshift: cannot open the state directory \(configuration.stateDirectory): \(error)")
            return ExitCode.cannotCreate.rawValue
        }
        let outcome = Protected<UploadRunResult?>(nil)
        let daemon = Daemon(
            runtime: runtime,
            logger: logger,
            stop: stop,
            onUploadFinished: { _, _, result in outcome.withLock { $0 = result } }
        )
        guard let runId = daemon.startUpload(of: job) else {
            printError("nightshift: no upload of \(job.name) was started; the log line above gives the reason")
            return ExitCode.temporaryFailure.rawValue
        }
        writeLine("upload \(runId) of \(job.name) started: \(job.localDirectory) to \(job.repo)/\(job.pathInRepo)")
        daemon.waitForRuns()
        _ = runtime.dispatcher.flush(timeout: 30)
        guard let result = outcome.withLock({ $0 }) else { return ExitCode.software.rawValue }
        if let summary = result.summary {
            writeLine(
                "\(summary.filesUploaded) uploaded, \(summary.filesUnchanged) unchanged, "
                    + "\(ProgressMeter.formatBytes(summary.bytesSent)) sent"
                    + (summary.commitURL.map { ", commit \($0)" } ?? "")
            )
        }
        if let reason = result.reason { writeLine((result.succeeded ? "" : "failed: ") + reason) }
        return result.succeeded ? ExitCode.success.rawValue : ExitCode.failure.rawValue
    }

    static func exitCode(for record: RunRecord) -> Int32 {
        switch record.state {
        case .succeeded: return ExitCode.success.rawValue
        case .needsAttention: return ExitCode.unavailable.rawValue
        default: return ExitCode.failure.rawValue
        }
    }
}

/// Prints state changes for `start` and `demo`: time, new state and reason, one line each. On a terminal it also
/// keeps a progress line under them with the machine's last reported state and the time in the current state.
enum StatePrinter {
    static let isTerminal = isatty(1) == 1
    /// Whether the last thing written was a progress line that the next write must clear.
    private static let progressShown = Protected(false)

    static let print: @Sendable (RunRecord, LifecycleState, LifecycleState, String) -> Void = { record, _, to, reason in
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        let machine = record.machineId.map { " machine=\($0)" } ?? ""
        let state = to.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)
        let line = "\(formatter.string(from: Date()))  \(state)\(reason)\(machine)\n"
        StatePrinter.write(line, isProgress: false)
    }

    static let progress: @Sendable (RunRecord, String?) -> Void = { record, machineState in
        guard StatePrinter.isTerminal else { return }
        let inState = formatDuration(Date().timeIntervalSince(record.stateEnteredAt))
        var line =
            "  \(record.state.rawValue): machine \(record.machineId ?? "?") is \(machineState ?? "gone"), "
            + "\(inState) in this state"
        if !record.state.isTeardown {
            line += ", \(formatDuration(max(0, record.deadline.timeIntervalSinceNow))) until the maximum duration"
        }
        StatePrinter.write(line, isProgress: true)
    }

    private static func write(_ text: String, isProgress: Bool) {
        progressShown.withLock { shown in
            var output = shown ? "\r\u{1B}[K" : ""
            output += text
            shown = isProgress
            FileHandle.standardOutput.write(Data(output.utf8))
        }
    }
}

/// Writes one line to stdout without buffering, so that it stays in order with the state lines when stdout is a
/// file or the journal.
func writeLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// `2027-03-14 03:00 EDT (-04:00)`: the local time, the zone's abbreviation and its UTC offset.
func formatLocal(_ date: Date, _ zone: TimeZone) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = zone
    formatter.dateFormat = "yyyy-MM-dd HH:mm zzz '('xxx')'"
    return formatter.string(from: date)
}

/// `2027-03-14T07:00:00Z`.
func formatUTC(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
}
