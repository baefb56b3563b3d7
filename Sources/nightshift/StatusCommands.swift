import Agent
import Config
import Foundation
import Schedules
import Support

/// `nightshift status` and `nightshift history`: what the journal shows, as text or JSON.
enum StatusCommands {
    static let specs: [CommandSpec] = [
        CommandSpec(
            path: ["status"],
            summary: """
                Show the active runs (state, time in it, estimated cost so far) and each job's next fire time.
                Reads the journal in the state directory, so it works while the daemon runs.
                """,
            options: [.flag("--json", "Print one JSON object instead of text."), .config],
            run: StatusCommands.status
        ),
        CommandSpec(
            path: ["history"],
            arguments: "[JOB]",
            positional: 0...1,
            summary: """
                Show past runs, newest first: outcome, duration, estimated cost, machine and reason.
                """,
            options: [
                .value("--limit", "N", "How many runs to show (1 to 1000, default 20)."),
                .flag("--json", "Print a JSON array instead of text."),
                .config,
            ],
            run: StatusCommands.history
        ),
    ]

    /// Opens the journal of `configuration`, or prints why it cannot and returns nil.
    private static func openJournal(_ configuration: Configuration) -> (journal: Journal?, failed: Bool) {
        let path = configuration.stateDirectory + "/journal.sqlite"
        guard FileManager.default.fileExists(atPath: path) else { return (nil, false) }
        do {
            return (try Journal(path: path), false)
        } catch {
            printError(
                "nightshift: cannot read the journal \(path): \(error); run as the user the daemon runs as, "
                    + "or with sudo"
            )
            return (nil, true)
        }
    }

    static func status(_ arguments: ParsedArguments) -> Int32 {
        guard let configuration = Commands.loadConfiguration(arguments.configPath) else {
            return ExitCode.dataError.rawValue
        }
        let opened = self.openJournal(configuration)
        if opened.failed { return ExitCode.unavailable.rawValue }
        let now = Date()
        let active: [RunRecord]
        let lastFires: [String: Date]
        do {
            active = try opened.journal?.activeRuns() ?? []
            lastFires = try opened.journal?.lastFireTimes() ?? [:]
        } catch {
            printError("nightshift: reading the journal failed: \(error)")
            return ExitCode.unavailable.rawValue
        }
        let jobs = self.jobRows(configuration, lastFires: lastFires, now: now)

        if arguments.flag("--json") {
            let object: [String: Any] = [
                "state_directory": configuration.stateDirectory,
                "active_runs": active.map { self.runObject($0, configuration, now: now) },
                "jobs": jobs.map(\.json),
            ]
            writeLine(self.json(object))
            return ExitCode.success.rawValue
        }

        writeLine(active.isEmpty ? "No active runs." : "Active runs:")
        for record in active {
            let inState = ProgressMeter.formatDuration(now.timeIntervalSince(record.stateEnteredAt))
            let running = ProgressMeter.formatDuration(now.timeIntervalSince(record.startedAt))
            var line = "  \(record.runId)  \(record.job)  \(record.state.rawValue) for \(inState) (run \(running))"
            line += "  machine \(record.machineId ?? record.machineName) (\(record.machineType))"
            if let cost = self.cost(record, configuration, now: now) {
                line += String(format: "  est. $%.2f so far", cost)
            }
            writeLine(line)
        }
        writeLine("")
        writeLine("Jobs:")
        for job in jobs {
            writeLine("  \(job.text)")
        }
        return ExitCode.success.rawValue
    }

    static func history(_ arguments: ParsedArguments) -> Int32 {
        guard let configuration = Commands.loadConfiguration(arguments.configPath) else {
            return ExitCode.dataError.rawValue
        }
        let limit = arguments.value("--limit").flatMap(Int.init) ?? 20
        let job = arguments.positional.first
        let opened = self.openJournal(configuration)
        if opened.failed { return ExitCode.unavailable.rawValue }

        var rows: [(startedAt: Date, json: [String: Any], text: String)] = []
        do {
            let now = Date()
            for record in try opened.journal?.runs(job: job, limit: limit) ?? [] {
                let object = self.runObject(record, configuration, now: now)
                rows.append((record.startedAt, object, self.runLine(record, configuration, now: now)))
            }
            for upload in try opened.journal?.uploads(job: job, limit: limit) ?? [] {
                rows.append((upload.startedAt, self.uploadObject(upload), self.uploadLine(upload)))
            }
        } catch {
            printError("nightshift: reading the journal failed: \(error)")
            return ExitCode.unavailable.rawValue
        }
        rows.sort { $0.startedAt > $1.startedAt }
        rows = Array(rows.prefix(limit))

        if arguments.flag("--json") {
            writeLine(self.json(rows.map(\.json)))
            return ExitCode.success.rawValue
        }
        if rows.isEmpty {
            writeLine(job.map { "No runs of \($0) recorded." } ?? "No runs recorded.")
        }
        for row in rows {
            writeLine(row.text)
        }
        return ExitCode.success.rawValue
    }

    // MARK: Rows

    private struct JobRow {
        var json: [String: Any]
        var text: String
    }

    private static func jobRows(_ configuration: Configuration, lastFires: [String: Date], now: Date) -> [JobRow] {
        let jobs =
            configuration.jobs.map { ($0.name, "training", $0.schedule, $0.timeZone) }
            + configuration.uploads.map { ($0.name, "hub_upload", $0.schedule, $0.timeZone) }
        return jobs.map { name, kind, expression, zoneName in
            let zone = TimeZone(identifier: zoneName) ?? TimeZone(identifier: "UTC")!
            let next = (try? Schedule(parsing: expression))?.nextFire(after: now, in: zone)?.date
            var json: [String: Any] = ["name": name, "kind": kind, "schedule": expression, "time_zone": zoneName]
            json["next_fire"] = next.map(formatUTC) ?? NSNull()
            json["last_fire"] = lastFires[name].map(formatUTC) ?? NSNull()
            var text = "\(name) (\(kind)) \"\(expression)\": next "
            if let next {
                text += "\(formatLocal(next, zone)), in \(ProgressMeter.formatDuration(next.timeIntervalSince(now)))"
            } else {
                text += "never"
            }
            if let last = lastFires[name] { text += "; last fired for \(formatLocal(last, zone))" }
            return JobRow(json: json, text: text)
        }
    }

    private static func cost(_ record: RunRecord, _ configuration: Configuration, now: Date) -> Double? {
        guard let rate = configuration.job(named: record.job)?.machine.hourlyRate else { return nil }
        let end = record.finishedAt ?? now
        return rate * max(0, end.timeIntervalSince(record.startedAt)) / 3600
    }

    private static func runObject(_ record: RunRecord, _ configuration: Configuration, now: Date) -> [String: Any] {
        let end = record.finishedAt ?? now
        var object: [String: Any] = [
            "run_id": record.runId,
            "job": record.job,
            "kind": "training",
            "state": record.state.rawValue,
            "state_since": formatUTC(record.stateEnteredAt),
            "started_at": formatUTC(record.startedAt),
            "duration_seconds": Int(end.timeIntervalSince(record.startedAt)),
            "machine_name": record.machineName,
            "machine_type": record.machineType,
        ]
        object["finished_at"] = record.finishedAt.map(formatUTC) ?? NSNull()
        object["machine_id"] = record.machineId ?? NSNull()
        let cost = self.cost(record, configuration, now: now)
        object["estimated_cost_usd"] = cost.map { ($0 * 100).rounded() / 100 } ?? NSNull()
        object["outcome"] = record.state.isTerminal ? record.state.rawValue : "active"
        object["reason"] = record.outcome?.reason ?? NSNull()
        object["failed_state"] = record.outcome?.failedState?.rawValue ?? NSNull()
        object["model_commit_url"] = record.modelCommitURL ?? NSNull()
        return object
    }

    private static func runLine(_ record: RunRecord, _ configuration: Configuration, now: Date) -> String {
        let duration = ProgressMeter.formatDuration((record.finishedAt ?? now).timeIntervalSince(record.startedAt))
        let outcome = record.state.isTerminal ? record.state.rawValue : "active (\(record.state.rawValue))"
        var line = "\(formatUTC(record.startedAt))  \(record.runId)  \(record.job)  \(outcome)  \(duration)"
        line += "  \(record.machineType) \(record.machineId ?? "-")"
        if let cost = self.cost(record, configuration, now: now) { line += String(format: "  $%.2f", cost) }
        if record.state != .succeeded, let reason = record.outcome?.reason { line += "  \(reason)" }
        if let url = record.modelCommitURL { line += "  \(url)" }
        return line
    }

    private static func uploadObject(_ upload: UploadRecord) -> [String: Any] {
        var object: [String: Any] = [
            "run_id": upload.runId,
            "job": upload.job,
            "kind": "hub_upload",
            "started_at": formatUTC(upload.startedAt),
            "finished_at": formatUTC(upload.result.finishedAt),
            "duration_seconds": Int(upload.result.finishedAt.timeIntervalSince(upload.startedAt)),
            "outcome": upload.result.succeeded ? "succeeded" : "failed",
        ]
        object["reason"] = upload.result.reason ?? NSNull()
        if let summary = upload.result.summary {
            object["files_considered"] = summary.filesConsidered
            object["files_uploaded"] = summary.filesUploaded
            object["files_unchanged"] = summary.filesUnchanged
            object["bytes_sent"] = summary.bytesSent
            object["commit_url"] = summary.commitURL ?? NSNull()
        }
        return object
    }

    private static func uploadLine(_ upload: UploadRecord) -> String {
        let duration = ProgressMeter.formatDuration(upload.result.finishedAt.timeIntervalSince(upload.startedAt))
        var line = "\(formatUTC(upload.startedAt))  \(upload.runId)  \(upload.job)  "
        line += "\(upload.result.succeeded ? "succeeded" : "failed")  \(duration)  upload"
        if let summary = upload.result.summary {
            line += " \(summary.filesUploaded) files, \(ProgressMeter.formatBytes(summary.bytesSent))"
        }
        if let reason = upload.result.reason { line += "  \(reason)" }
        if let url = upload.result.summary?.commitURL { line += "  \(url)" }
        return line
    }

    private static func json(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted])
        else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
