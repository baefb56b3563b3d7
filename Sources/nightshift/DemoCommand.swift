import Agent
import Config
import Demo
import Foundation
import Schedules
import Support

/// `nightshift demo`: one scheduled training cycle against local stand-ins, checked at the end.
enum DemoCommand {
    static func run(_ arguments: ParsedArguments) -> Int32 {
        let root = arguments.directory ?? (NSTemporaryDirectory() + "nightshift-demo-\(getpid())")
        say("nightshift demo: starting local stand-ins for Paperspace, the Hugging Face Hub and two chat webhooks")
        let environment: DemoEnvironment
        do {
            environment = try DemoEnvironment(root: root)
        } catch {
            printError("nightshift demo: \(error)")
            return ExitCode.unavailable.rawValue
        }
        defer { environment.shutdown() }
        say("  Paperspace v1 stand-in   \(environment.paperspace.baseURL)")
        say("  Hub stand-in             \(environment.hub.baseURL)  (dataset \(DemoEnvironment.datasetRepo) seeded)")
        say("  Slack-style receiver     \(environment.slack.baseURL)")
        say("  signed webhook receiver  \(environment.webhook.baseURL)")
        say("  training repository      \(environment.repositoryPath)")

        let configPath = root + "/nightshift.yaml"
        let text = environment.configText(stateDirectory: root + "/state")
        do {
            try text.write(toFile: configPath, atomically: true, encoding: .utf8)
            chmod(configPath, 0o600)
        } catch {
            printError("nightshift demo: cannot write \(configPath): \(error)")
            return ExitCode.cannotCreate.rawValue
        }
        let processEnvironment = ProcessInfo.processInfo.environment.merging(environment.configEnvironment) { _, demo in
            demo
        }
        guard let configuration = Commands.loadConfiguration(configPath, environment: processEnvironment) else {
            return ExitCode.software.rawValue
        }
        say("config: \(configPath) (secrets come from environment variables)")

        let logger = Commands.makeLogger(configuration, level: arguments.verbose ? .info : .warning)
        let stop = Signal()
        SignalWatcher.install(stop: stop, logger: logger)
        let runtime: Runtime
        do {
            runtime = try Runtime.make(configuration: configuration, logger: logger)
        } catch {
            printError("nightshift demo: \(error)")
            return ExitCode.cannotCreate.rawValue
        }
        let job = configuration.jobs[0]
        if let schedule = try? Schedule(parsing: job.schedule),
            let next = schedule.nextFire(after: Date(), in: TimeZone(identifier: job.timeZone) ?? .gmt)?.date
        {
            say(
                "job \(job.name): schedule \"\(job.schedule)\" fires next at \(formatUTC(next)), "
                    + "in \(Int(next.timeIntervalSinceNow.rounded(.up))) s"
            )
        }

        let finishedRun = Protected<String?>(nil)
        let daemon = Daemon(
            runtime: runtime,
            logger: logger,
            stop: stop,
            onTransition: { record, from, to, reason in
                StatePrinter.print(record, from, to, reason)
                if to.isTerminal {
                    finishedRun.withLock { $0 = record.runId }
                    stop.raise()
                }
            },
            onPoll: StatePrinter.progress
        )
        // The scheduler returns once the first run reached a terminal state and raised `stop`.
        daemon.runScheduler()

        return self.report(runtime: runtime, environment: environment, runId: finishedRun.current)
    }

    /// Prints what happened and returns 0 only when the run succeeded, nothing was left behind and both
    /// receivers got both notifications.
    static func report(runtime: Runtime, environment: DemoEnvironment, runId: String?) -> Int32 {
        guard let runId, let record = try? runtime.journal.run(id: runId) else {
            printError("nightshift demo: no run finished")
            return ExitCode.failure.rawValue
        }
        _ = environment.slack.waitForDeliveries(count: 2, timeout: 15)
        _ = environment.webhook.waitForDeliveries(count: 2, timeout: 15)
        let machinesLeft = environment.paperspace.machines.count
        let scriptsLeft = environment.paperspace.startupScripts.count
        let slack = environment.slack.deliveries.count
        let webhook = environment.webhook.deliveries.count
        let signed = environment.webhook.deliveries.allSatisfy { $0.signatureValid == true }
        let files = environment.hub.files(repo: DemoEnvironment.modelRepo, type: .model) ?? [:]

        say("")
        say("run \(record.runId): \(record.state.rawValue)\(record.outcome?.reason.map { " (\($0))" } ?? "")")
        say("machines left on Paperspace stand-in: \(machinesLeft); startup scripts left: \(scriptsLeft)")
        say("model repo \(DemoEnvironment.modelRepo): \(files.keys.sorted().joined(separator: ", "))")
        if let metrics = files["metrics.json"], let object = try? JSONSerialization.jsonObject(with: metrics),
            let compact = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        {
            say("metrics.json: \(String(decoding: compact, as: UTF8.self))")
        }
        say(
            "notifications: Slack receiver got \(slack), signed webhook receiver got \(webhook) "
                + "(signatures \(signed ? "valid" : "INVALID"))"
        )
        let ok =
            record.state == .succeeded && machinesLeft == 0 && scriptsLeft == 0 && slack >= 2 && webhook >= 2 && signed
        say("demo files (config, journal, machine logs) are kept in \(environment.root)")
        say(ok ? "demo passed" : "demo FAILED")
        return ok ? ExitCode.success.rawValue : ExitCode.failure.rawValue
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
