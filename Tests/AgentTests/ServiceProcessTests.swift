import Foundation
import Support
import Testing

@testable import Agent

#if canImport(Glibc)
    import Glibc
#endif

/// A datagram socket standing in for systemd's `NOTIFY_SOCKET`, with a thread that collects every message.
final class NotifySocketCollector: @unchecked Sendable {
    let path: String
    private let descriptor: Int32
    private let messages = Protected<[String]>([])
    private let closed = Protected(false)

    init(directory: String) throws {
        self.path = directory + "/notify.sock"
        self.descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(self.path.utf8)
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + 1)
        let result = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(self.descriptor, $0, length) }
        }
        guard result == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(self.descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !self.closed.current {
                let count = recv(self.descriptor, &buffer, buffer.count, 0)
                if count > 0 {
                    let text = String(decoding: buffer[0..<count], as: UTF8.self)
                    self.messages.withLock { $0.append(text) }
                }
            }
        }
        thread.start()
    }

    var received: [String] { self.messages.current }

    /// Waits until some message satisfies `condition`, and returns its index in `received`.
    func waitFor(timeout: Double, after start: Int = 0, _ condition: (String) -> Bool) -> Int? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            let all = self.received
            if all.count > start, let index = all[start...].firstIndex(where: condition) { return index }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    deinit {
        self.closed.withLock { $0 = true }
        Thread.sleep(forTimeInterval: 0.25)
        close(self.descriptor)
        unlink(self.path)
    }
}

@Suite(.serialized)
struct ServiceProcessTests {
    /// Starts `nightshift run` with the collector as its notify socket and a one-second watchdog.
    func launchDaemon(_ harness: DaemonProcessHarness, _ collector: NotifySocketCollector) throws -> Subprocess {
        var environment = ProcessInfo.processInfo.environment.merging(harness.environment.configEnvironment) {
            _,
            new in new
        }
        environment["NIGHTSHIFT_TEST"] = "1"
        environment["NOTIFY_SOCKET"] = collector.path
        environment["WATCHDOG_USEC"] = "1000000"
        return try Subprocess(
            [DaemonProcessHarness.executable, "run", "--config", harness.configPath],
            environment: environment,
            outputPath: harness.root + "/daemon.log"
        )
    }

    /// Returns the config with a second job, `weekly-demo`, copied from `gold-demo` on another schedule, and an
    /// extra ntfy notifier.
    func configWithSecondJob(_ text: String) throws -> String {
        let start = try #require(text.range(of: "  gold-demo:\n"))
        var job = String(text[start.lowerBound...])
        job = job.replacingOccurrences(of: "  gold-demo:\n", with: "  weekly-demo:\n")
        job = job.replacingOccurrences(of: "schedule: \"0 0 1 1 *\"", with: "schedule: \"0 5 * * 1\"")
        var result = text + job
        result = result.replacingOccurrences(
            of: "notifiers:\n",
            with: "notifiers:\n  ntfy-ops:\n    type: ntfy\n    url: http://127.0.0.1:9/nightshift-ops\n"
        )
        return result
    }

    /// Returns the value of `key` in the last log line that contains `marker`.
    func logValue(_ log: String, line marker: String, key: String) -> String? {
        guard let line = log.split(separator: "\n").last(where: { $0.contains(marker) }) else { return nil }
        for field in line.split(separator: " ") where field.hasPrefix(key + "=") {
            return String(field.dropFirst(key.count + 1))
        }
        return nil
    }

    func waitForLog(_ harness: DaemonProcessHarness, _ text: String, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if harness.output("daemon.log").contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    @Test func daemonNotifiesAndReloadsOnSighup() throws {
        let harness = try DaemonProcessHarness()
        let collector = try NotifySocketCollector(directory: harness.root)
        let original = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        let daemon = try self.launchDaemon(harness, collector)
        defer { if daemon.poll() == nil { daemon.send(SIGKILL) } }

        // READY=1 comes after recovery, with the status of the first scheduler pass.
        let ready = collector.waitFor(timeout: 30) { $0.hasPrefix("READY=1") }
        let readyIndex = try #require(ready, "no READY=1; log:\n\(harness.output("daemon.log"))")
        let readyMessage = collector.received[readyIndex]
        #expect(readyMessage.contains("STATUS=no active runs; next fire gold-demo at 2"))
        #expect(harness.output("daemon.log").contains("Journal recovery finished"))

        // An invalid file is rejected and the old config stays: one log line per diagnostic, with its position.
        let invalid =
            original.replacingOccurrences(of: "schedule: \"0 0 1 1 *\"", with: "schedule: \"0 0 31 2 *x\"")
            + "unknown_top_level_key: 1\n"
        try invalid.write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        let beforeBadReload = collector.received.count
        daemon.send(SIGHUP)
        #expect(self.waitForLog(harness, "Configuration reload failed", timeout: 20))
        let log = harness.output("daemon.log")
        let errorLines = log.split(separator: "\n").filter { $0.contains("Configuration error") }
        #expect(errorLines.count >= 2, "log:\n\(log)")
        for line in errorLines {
            #expect(line.contains("file=\(harness.configPath)"))
            #expect(line.contains(" line="))
            #expect(line.contains(" column="))
        }
        #expect(!log.contains("Configuration reloaded"))
        let reloading = collector.waitFor(timeout: 5, after: beforeBadReload) { $0.hasPrefix("RELOADING=1") }
        #expect(reloading != nil)
        #expect(collector.received[beforeBadReload...].contains { $0.contains("MONOTONIC_USEC=") })
        let readyAgain = collector.waitFor(timeout: 5, after: (reloading ?? 0) + 1) { $0.hasPrefix("READY=1") }
        #expect(readyAgain != nil, "no READY=1 after the failed reload: \(collector.received)")
        #expect(daemon.poll() == nil, "the daemon exited after a bad reload")

        // A valid file with a new job and a new notifier is applied without a restart.
        try self.configWithSecondJob(original).write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        let beforeGoodReload = collector.received.count
        daemon.send(SIGHUP)
        #expect(self.waitForLog(harness, "Configuration reloaded", timeout: 20))
        #expect(self.waitForLog(harness, "Job scheduled job=weekly-demo", timeout: 10))
        let reloaded = harness.output("daemon.log")
        #expect(self.logValue(reloaded, line: "Configuration reloaded", key: "jobs.added") == "weekly-demo")
        #expect(self.logValue(reloaded, line: "Configuration reloaded", key: "notifiers.added") == "ntfy-ops")
        #expect(self.logValue(reloaded, line: "Configuration reloaded", key: "jobs.removed") == "\"\"")
        let daemonNext = try #require(self.logValue(reloaded, line: "job=weekly-demo", key: "next_fire"))
        let newReady = collector.waitFor(timeout: 10, after: beforeGoodReload) {
            $0.hasPrefix("READY=1") && $0.contains("weekly-demo")
        }
        #expect(newReady != nil, "no READY=1 naming the new job: \(collector.received[beforeGoodReload...])")

        // `nightshift status --json` reads the same file and must agree with the daemon on the next fire.
        let statusPath = harness.root + "/status.json"
        let status = try Subprocess(
            [DaemonProcessHarness.executable, "status", "--json", "--config", harness.configPath],
            environment: ProcessInfo.processInfo.environment.merging(harness.environment.configEnvironment) { $1 },
            outputPath: statusPath,
            errorPath: harness.root + "/status.err"
        )
        #expect(status.wait() == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: statusPath))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let jobs = try #require(object["jobs"] as? [[String: Any]])
        let weekly = try #require(jobs.first { $0["name"] as? String == "weekly-demo" })
        #expect(weekly["next_fire"] as? String == daemonNext)

        // The watchdog interval is half of WATCHDOG_USEC, so a few pings have gone out by now.
        #expect(collector.received.filter { $0 == "WATCHDOG=1" }.count >= 2)

        let beforeStop = collector.received.count
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 30) == 0)
        let stopping = collector.waitFor(timeout: 2, after: beforeStop) { $0.hasPrefix("STOPPING=1") }
        #expect(stopping != nil, "no STOPPING=1: \(collector.received[beforeStop...])")
    }

    @Test func sighupDuringRunKeepsActiveRun() throws {
        // A run that is active during a reload that removes its job goes on with its old definition.
        let harness = try DaemonProcessHarness(maxDuration: "20s")
        let collector = try NotifySocketCollector(directory: harness.root)
        let daemon = try self.launchDaemon(harness, collector)
        defer { if daemon.poll() == nil { daemon.send(SIGKILL) } }
        #expect(collector.waitFor(timeout: 30) { $0.hasPrefix("READY=1") } != nil)

        let start = try harness.launch(["start", "gold-demo"], log: "start.log")
        let running = try harness.waitForRun(timeout: 60) { $0.state == .running }
        #expect(running != nil, "run never reached running:\n\(harness.output("start.log"))")
        start.send(SIGKILL)
        start.wait()
        // The daemon adopts the run of the killed `start` within a minute. Then the job leaves the config.
        let adopted = collector.waitFor(timeout: 90) { $0.contains("gold-demo running") }
        #expect(adopted != nil, "no STATUS naming the adopted run:\n\(harness.output("daemon.log"))")

        let original = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        let jobsStart = try #require(original.range(of: "jobs:\n"))
        let withoutJobs = String(original[..<jobsStart.lowerBound]) + "jobs: {}\n"
        try withoutJobs.write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        daemon.send(SIGHUP)
        #expect(self.waitForLog(harness, "Configuration reloaded", timeout: 20), "\(harness.output("daemon.log"))")
        #expect(
            self.logValue(harness.output("daemon.log"), line: "Configuration reloaded", key: "jobs.removed")
                == "gold-demo"
        )

        // The run still ends through its own max_duration and teardown, with nothing left behind.
        let finished = try harness.waitForRun(timeout: 90) { $0.state.isTerminal }
        #expect(finished?.state == .failed, "daemon log:\n\(harness.output("daemon.log"))")
        #expect(finished?.outcome?.reason?.contains("maximum duration") == true)
        harness.expectNothingLeft()
        daemon.send(SIGTERM)
        #expect(DaemonProcessHarness.waitForExit(daemon, timeout: 30) == 0)
    }
}
