import Foundation
import Remote
import Support
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real OpenSSH server on 127.0.0.1 with a throwaway host key and user key in a temporary directory.
///
/// The server accepts only the fixture's user key for root (`PermitRootLogin prohibit-password`, since the tests
/// run as root), reads `authorized_keys` from the temporary directory (`StrictModes no`, because /tmp is
/// world-writable) and never touches ~/.ssh. Clients get `-F /dev/null` and a known-hosts file in the same
/// directory that already contains the host key. `stop()` kills the server and removes the directory.
final class SSHServerFixture: @unchecked Sendable {
    /// The fixture of the enclosing suite, set by the `.sshServer` trait.
    @TaskLocal static var shared: SSHServerFixture?

    let directory: String
    let port: Int
    /// The private key that `authorized_keys` accepts.
    let userKey: String
    /// A known-hosts file that lists the server's host key under `[127.0.0.1]:port`.
    let knownHostsFile: String
    /// The host key's public line, `ssh-ed25519 AAAA...`.
    let hostKeyLine: String
    private let process: Subprocess
    private let stopped = Protected(false)

    /// How long the server may take to report that it listens.
    static let startTimeout = 10.0

    private init(
        directory: String,
        port: Int,
        userKey: String,
        knownHostsFile: String,
        hostKeyLine: String,
        process: Subprocess
    ) {
        self.directory = directory
        self.port = port
        self.userKey = userKey
        self.knownHostsFile = knownHostsFile
        self.hostKeyLine = hostKeyLine
        self.process = process
    }

    deinit {
        self.stop()
    }

    /// Generates keys, writes the config and starts `sshd -D -e` on a free port. `extraConfig` lines are appended
    /// to sshd_config.
    static func start(extraConfig: [String] = []) throws -> SSHServerFixture {
        let directory = NSTemporaryDirectory() + "nightshift-sshd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let hostKey = directory + "/host_ed25519"
        let userKey = directory + "/user_ed25519"
        try generateKey(hostKey)
        try generateKey(userKey)
        try FileManager.default.copyItem(atPath: userKey + ".pub", toPath: directory + "/authorized_keys")
        let hostKeyLine = try publicKeyLine(hostKey + ".pub")
        // sshd refuses to start without its privilege separation directory, which a container may lack.
        if !FileManager.default.fileExists(atPath: "/run/sshd") {
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        }

        var lastLog = ""
        for _ in 1...3 {
            let port = try freePort()
            let config = directory + "/sshd_config"
            let lines =
                [
                    "ListenAddress 127.0.0.1",
                    "Port \(port)",
                    "HostKey \(hostKey)",
                    "AuthorizedKeysFile \(directory)/authorized_keys",
                    "StrictModes no",
                    "PidFile \(directory)/sshd.pid",
                    "UsePAM no",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "Subsystem sftp internal-sftp",
                    // Tests run in parallel; the default MaxStartups of 10 would drop some of their connections.
                    "MaxStartups 100",
                    "LogLevel VERBOSE",
                ] + extraConfig
            try (lines.joined(separator: "\n") + "\n").write(toFile: config, atomically: true, encoding: .utf8)
            let logPath = directory + "/sshd.log"
            try? FileManager.default.removeItem(atPath: logPath)
            let process = try Subprocess(
                ["/usr/sbin/sshd", "-D", "-e", "-f", config, "-p", "\(port)"],
                outputPath: logPath,
                newProcessGroup: true
            )
            let deadline = Date().addingTimeInterval(startTimeout)
            while Date() < deadline {
                lastLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                if lastLog.contains("Server listening on 127.0.0.1 port \(port)") {
                    let knownHosts = directory + "/known_hosts"
                    try "[127.0.0.1]:\(port) \(hostKeyLine)\n".write(
                        toFile: knownHosts,
                        atomically: true,
                        encoding: .utf8
                    )
                    return SSHServerFixture(
                        directory: directory,
                        port: port,
                        userKey: userKey,
                        knownHostsFile: knownHosts,
                        hostKeyLine: hostKeyLine,
                        process: process
                    )
                }
                if process.poll() != nil { break }
                Thread.sleep(forTimeInterval: 0.02)
            }
            process.send(SIGKILL, group: true)
            process.wait()
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw FixtureError("sshd did not start: \(lastLog)")
    }

    /// Kills the server and its session processes and removes the temporary directory. Later calls do nothing.
    func stop() {
        let first = self.stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        self.process.send(SIGTERM, group: true)
        self.process.wait()
        self.process.send(SIGKILL, group: true)
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// Whether the sshd process still runs.
    var isRunning: Bool {
        self.process.poll() == nil
    }

    var pid: pid_t { self.process.pid }

    /// Returns a destination for root on this server, by default with the authorized key and the prepared known_hosts.
    func destination(
        identityFile: String? = nil,
        knownHostsFile: String? = nil,
        hostKeyPolicy: HostKeyPolicy = .strict,
        port: Int? = nil
    ) throws -> SSHDestination {
        try SSHDestination(
            host: "127.0.0.1",
            user: "root",
            port: port ?? self.port,
            identityFile: identityFile ?? self.userKey,
            knownHostsFile: knownHostsFile ?? self.knownHostsFile,
            configFile: "/dev/null",
            hostKeyPolicy: hostKeyPolicy,
            connectTimeout: 5
        )
    }

    /// Creates and returns a new empty directory inside the fixture, for one test's remote or local files.
    func makeDirectory(_ label: String) throws -> String {
        let path = self.directory + "/\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes a new ed25519 key pair without a passphrase at `path` and `path.pub`.
    static func generateKey(_ path: String) throws {
        let result = try Subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fixture", "-f", path])
        guard result.status == 0 else {
            throw FixtureError("ssh-keygen failed: \(result.output)")
        }
    }

    /// Returns `type base64` from a public key file, without the comment.
    static func publicKeyLine(_ path: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// Returns a TCP port on 127.0.0.1 that was free a moment ago, found by binding port 0.
    static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw FixtureError("socket() failed") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Int32 in
                guard bind(socketFD, raw, length) == 0 else { return -1 }
                return getsockname(socketFD, raw, &length)
            }
        }
        guard bound == 0 else { throw FixtureError("bind() on 127.0.0.1 failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Starts one `SSHServerFixture` for a whole suite and stops it when the suite's last test has finished.
struct SSHServerTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try SSHServerFixture.start()
        defer { server.stop() }
        try await SSHServerFixture.$shared.withValue(server) {
            try await function()
        }
    }
}

extension Trait where Self == SSHServerTrait {
    /// Runs the suite against a real sshd on 127.0.0.1.
    static var sshServer: Self { Self() }
}

/// Returns the suite's server, which the `.sshServer` trait provides.
func sharedServer() throws -> SSHServerFixture {
    try #require(SSHServerFixture.shared, "the suite needs the .sshServer trait")
}

/// Returns a logger that records into `capture`.
func captureLogger(_ capture: LogCapture) -> Logger {
    Logger(label: "remote-test", logLevel: .debug, sink: capture.sink)
}

/// Writes `count` random bytes from /dev/urandom to `path` and returns them.
@discardableResult
func writeRandomFile(_ path: String, count: Int) throws -> Data {
    let source = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
    defer { try? source.close() }
    let data = try #require(try source.read(upToCount: count))
    try data.write(to: URL(fileURLWithPath: path))
    return data
}
