import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Errors from starting or waiting for a child process.
public enum SubprocessError: Error, CustomStringConvertible {
    case spawnFailed(executable: String, errno: Int32)

    public var description: String {
        switch self {
        case .spawnFailed(let executable, let code):
            "cannot start \(executable): \(String(cString: strerror(code)))"
        }
    }
}

/// A child process started with `posix_spawn` from an argument vector, never through a shell string.
///
/// Foundation's `Process` lets the child inherit the spawning thread's signal mask, which under some hosts (the
/// Swift test runner among them) blocks SIGTERM in the child. Children started here get an empty signal mask and
/// default signal handlers, and optionally their own process group so that everything they start can be signalled
/// at once.
public final class Subprocess: @unchecked Sendable {
    private typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later). Swift's Glibc module hides it because
    /// it needs `_GNU_SOURCE`, so it is looked up at run time.
    private static let addClosefrom: AddClosefrom? = {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            .map { unsafeBitCast($0, to: AddClosefrom.self) }
    }()

    public let pid: pid_t
    public let executable: String
    private let status = Protected<Int32?>(nil)

    /// Starts `arguments[0]`, looked up on `PATH` when it has no slash, with stdout and stderr appended to
    /// `outputPath` (or inherited when nil), stdin from /dev/null and no other inherited descriptor. With
    /// `errorPath`, stderr is appended to that file instead, so output can be parsed apart from diagnostics.
    public init(
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        outputPath: String? = nil,
        errorPath: String? = nil,
        newProcessGroup: Bool = false
    ) throws {
        precondition(!arguments.isEmpty, "Subprocess needs at least the executable")
        self.executable = arguments[0]

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            if errorPath == nil {
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            }
        }
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        // Descriptors other threads opened without O_CLOEXEC must not leak into the child: a file held open for
        // writing there makes a later exec of it fail with "Text file busy".
        if let addClosefrom = Subprocess.addClosefrom {
            _ = addClosefrom(&actions, 3)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let environmentValues = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let cArguments = arguments.map { strdup($0) } + [nil]
        let cEnvironment = environmentValues.map { strdup($0) } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }

        // posix_spawn has no portable working-directory action, so the child changes directory through `env -C`.
        var finalArguments = cArguments
        if let directory {
            finalArguments = [strdup("/usr/bin/env"), strdup("-C"), strdup(directory)] + cArguments
        }
        defer {
            if directory != nil { finalArguments.prefix(3).forEach { free($0) } }
        }

        var pid: pid_t = 0
        let code = posix_spawnp(&pid, finalArguments[0]!, &actions, &attributes, finalArguments, cEnvironment)
        guard code == 0 else { throw SubprocessError.spawnFailed(executable: arguments[0], errno: code) }
        self.pid = pid
    }

    /// Waits for the process to exit and returns its exit status, or 128 + the signal number if a signal ended it.
    @discardableResult
    public func wait() -> Int32 {
        if let known = self.status.current { return known }
        var raw: Int32 = 0
        while waitpid(self.pid, &raw, 0) < 0 && errno == EINTR {}
        let result = Subprocess.decode(raw)
        self.status.withLock { $0 = result }
        return result
    }

    /// Returns the exit status if the process has exited, without blocking.
    public func poll() -> Int32? {
        if let known = self.status.current { return known }
        var raw: Int32 = 0
        let result = waitpid(self.pid, &raw, WNOHANG)
        guard result == self.pid else { return nil }
        let decoded = Subprocess.decode(raw)
        self.status.withLock { $0 = decoded }
        return decoded
    }

    /// Sends `signal` to the process, or to its whole process group when `group` is true.
    public func send(_ signal: Int32, group: Bool = false) {
        kill(group ? -self.pid : self.pid, signal)
    }

    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        if signal == 0 { return (raw >> 8) & 0xff }
        return 128 + signal
    }

    /// Runs a command to completion and returns its exit status and combined output.
    public static func run(
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil
    ) throws -> (status: Int32, output: String) {
        let outputPath = NSTemporaryDirectory() + "nightshift-subprocess-\(UUID().uuidString).log"
        defer { unlink(outputPath) }
        let process = try Subprocess(
            arguments,
            environment: environment,
            directory: directory,
            outputPath: outputPath,
            newProcessGroup: true
        )
        let status = process.wait()
        // Anything the command left running in the background belongs to its process group.
        process.send(SIGKILL, group: true)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (status, output)
    }
}
