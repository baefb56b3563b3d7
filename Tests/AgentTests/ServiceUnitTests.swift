import Config
import Foundation
import HTTP
import Support
import Testing

@testable import Agent

/// Checks `systemd/nightshift.service` with the host's `systemd-analyze` and the `make install-files` tree.
@Suite(.serialized)
struct ServiceUnitTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let unitPath = packageRoot + "/systemd/nightshift.service"

    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "nightshift-unit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `arguments` and returns its exit status and combined output.
    func run(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        let outputPath = directory + "/command-\(UUID().uuidString).log"
        let process = try Subprocess(arguments, directory: ServiceUnitTests.packageRoot, outputPath: outputPath)
        let status = process.wait()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: outputPath)
        return (status, output)
    }

    /// Runs `systemd-analyze verify` on `unitText` saved as `nightshift.service`, and returns the lines about it.
    func verify(_ unitText: String, in directory: String) throws -> [String] {
        let copy = directory + "/nightshift.service"
        try unitText.write(toFile: copy, atomically: true, encoding: .utf8)
        let result = try self.run(["systemd-analyze", "verify", copy], in: directory)
        // Messages about other units on this host are not the unit's problem.
        return result.output.split(separator: "\n").map(String.init).filter { $0.contains("nightshift.service") }
    }

    func unitWithBuiltBinary() throws -> String {
        let text = try String(contentsOfFile: ServiceUnitTests.unitPath, encoding: .utf8)
        #expect(FileManager.default.isExecutableFile(atPath: DaemonProcessHarness.executable))
        return text.replacingOccurrences(of: "/usr/local/bin/nightshift", with: DaemonProcessHarness.executable)
    }

    @Test func unitVerifiesWithoutWarnings() throws {
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let problems = try self.verify(try self.unitWithBuiltBinary(), in: directory)
        #expect(problems.isEmpty, "systemd-analyze verify reported:\n\(problems.joined(separator: "\n"))")
    }

    @Test func verifyCatchesBadDirective() throws {
        // Proves the check above can fail: an unknown key is reported against the unit.
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broken = try self.unitWithBuiltBinary().replacingOccurrences(of: "WatchdogSec=", with: "WatchdogSecs=")
        let problems = try self.verify(broken, in: directory)
        #expect(problems.contains { $0.contains("WatchdogSecs") }, "no warning: \(problems)")
    }

    @Test func unitDeclaresServiceContract() throws {
        let text = try String(contentsOfFile: ServiceUnitTests.unitPath, encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
            "StateDirectory=nightshift", "ProtectSystem=strict", "NoNewPrivileges=yes", "DynamicUser=yes",
            "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "PrivateTmp=yes", "ProtectHome=yes",
        ] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
        #expect(lines.contains { $0.hasPrefix("LoadCredential=paperspace-api-key:") })
        #expect(lines.contains { $0.hasPrefix("WatchdogSec=") })
    }

    @Test func stopTimeoutCoversDefaultTeardown() throws {
        let text = try String(contentsOfFile: ServiceUnitTests.unitPath, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("TimeoutStopSec=") })
        let value = String(line.dropFirst("TimeoutStopSec=".count))
        #expect(value.hasSuffix("min"), "expected minutes, got \(value)")
        let minutes = try #require(Double(value.dropLast(3)))

        // The worst case with the defaults, as the unit's comment adds it up.
        let timeouts = StateTimeouts()
        let retry = RetryPolicy.standard
        let call =
            Double(retry.maxAttempts) * HTTPClient(logger: Logger(label: "test", sink: .discard)).totalTimeout
            + Double(retry.maxAttempts - 1) * retry.maxDelay
        let lastBackoff = LifecyclePolicy().teardownRetryDelay(failures: 100)
        let flushAndScript = 60.0
        let worst = call + timeouts.teardown + lastBackoff + timeouts.stop + timeouts.delete + flushAndScript
        #expect(minutes * 60 >= worst, "TimeoutStopSec=\(value) is below the worst-case teardown of \(worst) s")
        // And not wildly above it, so that a stuck stop is noticed within the same order of time.
        #expect(minutes * 60 <= worst + 15 * 60)
    }

    @Test func installStagesTreeWithModes() throws {
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stage = directory + "/root"
        let arguments = [
            "make", "-s", "install-files", "DESTDIR=\(stage)", "PREFIX=/usr/local",
            "BINARY=\(DaemonProcessHarness.executable)",
        ]
        let first = try self.run(arguments, in: directory)
        #expect(first.status == 0, "make install-files failed:\n\(first.output)")

        let expected: [(path: String, mode: Int)] = [
            ("/usr/local/bin/nightshift", 0o755),
            ("/etc/systemd/system/nightshift.service", 0o644),
            ("/etc/nightshift/nightshift.yaml", 0o644),
            ("/etc/nightshift/credentials", 0o700),
            ("/usr/local/share/doc/nightshift/README.md", 0o644),
            ("/usr/local/share/doc/nightshift/operations.md", 0o644),
        ]
        for entry in expected {
            let attributes = try? FileManager.default.attributesOfItem(atPath: stage + entry.path)
            let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == entry.mode, "\(entry.path): mode \(mode.map { String($0, radix: 8) } ?? "missing")")
        }
        let unit = try String(contentsOfFile: stage + "/etc/systemd/system/nightshift.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/nightshift run --config /etc/nightshift/nightshift.yaml"))

        // A second install keeps an edited config.
        let configPath = stage + "/etc/nightshift/nightshift.yaml"
        try "# edited by the operator\n".write(toFile: configPath, atomically: false, encoding: .utf8)
        let second = try self.run(arguments, in: directory)
        #expect(second.status == 0)
        #expect(second.output.contains("Keeping the existing"))
        #expect(try String(contentsOfFile: configPath, encoding: .utf8) == "# edited by the operator\n")
    }

    @Test func installFollowsPrefix() throws {
        let directory = try self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stage = directory + "/root"
        let result = try self.run(
            [
                "make", "-s", "install-files", "DESTDIR=\(stage)", "PREFIX=/opt/nightshift",
                "SYSCONFDIR=/opt/nightshift/etc", "BINARY=\(DaemonProcessHarness.executable)",
            ],
            in: directory
        )
        #expect(result.status == 0, "make install-files failed:\n\(result.output)")
        #expect(FileManager.default.isExecutableFile(atPath: stage + "/opt/nightshift/bin/nightshift"))
        let unit = try String(contentsOfFile: stage + "/etc/systemd/system/nightshift.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/opt/nightshift/bin/nightshift run --config /opt/nightshift/etc/nightshift/"))
        #expect(unit.contains("LoadCredential=hf-token:/opt/nightshift/etc/nightshift/credentials/hf-token"))
        #expect(!unit.contains("/usr/local/"))
    }
}
