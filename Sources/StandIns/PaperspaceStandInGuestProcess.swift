import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts a startup script as `/bin/bash <script>` with `posix_spawn` and reports its exit.
///
/// Foundation's `Process` passes on the spawning thread's signal mask. Under `swift test` that mask blocks SIGTERM
/// (it comes from the Dispatch worker that started the thread), so such a script never sees a stop's SIGTERM.
/// This spawner gives the child an empty signal mask, default signal handlers, a new process group whose id is
/// its pid, `directory` as working directory, stdin from /dev/null and no inherited descriptor above 2.
enum PaperspaceGuestProcess {
    private typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>)
        -> Int32
    private typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+) and `_addclosefrom_np` (2.34+). Swift's Glibc
    /// module hides them because they need `_GNU_SOURCE`, so they are looked up at run time.
    private static let addChdir: AddChdir? = {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
            .map { unsafeBitCast($0, to: AddChdir.self) }
    }()
    private static let addClosefrom: AddClosefrom? = {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            .map { unsafeBitCast($0, to: AddClosefrom.self) }
    }()

    /// Starts `/bin/bash scriptPath` and returns its pid, which is also its process group id. `onExit` runs on a
    /// new thread with the exit status (128 + N when signal N ended the script).
    static func spawn(
        scriptPath: String,
        directory: String,
        logPath: String,
        environment: [String: String],
        onExit: @escaping @Sendable (pid_t, Int32) -> Void
    ) throws -> pid_t {
        guard let addChdir = PaperspaceGuestProcess.addChdir, let addClosefrom = PaperspaceGuestProcess.addClosefrom
        else {
            throw StandInError.setup("this C library lacks posix_spawn_file_actions_addchdir_np or addclosefrom_np")
        }
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard log >= 0 else {
            throw StandInError.setup("cannot open \(logPath): \(String(cString: strerror(errno)))")
        }
        defer { close(log) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        _ = addClosefrom(&actions, 3)
        _ = addChdir(&actions, directory)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in 1..<32 where signal != SIGKILL && signal != SIGSTOP {
            sigaddset(&defaults, Int32(signal))
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)
        )

        let argumentText = ["/bin/bash", scriptPath]
        let variableText = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let arguments: [UnsafeMutablePointer<CChar>?] = argumentText.map { text in strdup(text) } + [nil]
        let variables: [UnsafeMutablePointer<CChar>?] = variableText.map { text in strdup(text) } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/bash", &actions, &attributes, arguments, variables)
        guard result == 0 else {
            throw StandInError.setup("posix_spawn of /bin/bash failed: \(String(cString: strerror(result)))")
        }

        let child = pid
        let waiter = Thread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 {
                if errno != EINTR {
                    onExit(child, -1)
                    return
                }
            }
            let signal = status & 0x7f
            onExit(child, signal == 0 ? (status >> 8) & 0xff : 128 + signal)
        }
        waiter.name = "paperspace-standin-script-\(child)"
        waiter.start()
        return child
    }
}
