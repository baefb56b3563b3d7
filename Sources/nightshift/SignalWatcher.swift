import Foundation
import Support

#if canImport(Glibc)
    import Glibc
#endif

/// The write end of the self-pipe. A signal handler may only make async-signal-safe calls, so it writes the
/// signal number here and a normal thread does the rest.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

private let handleSignal: @convention(c) (Int32) -> Void = { signal in
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipeWriteEnd, &byte, 1)
}

/// Turns SIGINT and SIGTERM into a raised `Signal`, SIGHUP into a call of `reload`, and logs every signal that
/// arrives. `reload` runs on the watcher's thread, so a second SIGHUP waits until the first reload returns.
enum SignalWatcher {
    /// What a signal interrupts, which decides what the log lines promise.
    enum Work {
        /// Runs with machines, whose teardown the journal lets the next start finish.
        case runs
        /// A Hub or SSH transfer, which stops and leaves what a rerun continues.
        case transfer
    }

    static func install(
        stop: Signal,
        logger: Logger,
        work: Work = .runs,
        reload: (@Sendable () -> Void)? = nil
    ) {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else {
            logger.error("Signal handling is unavailable because pipe failed", metadata: ["errno": "\(errno)"])
            return
        }
        signalPipeWriteEnd = descriptors[1]
        for number in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = handleSignal
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
        signal(SIGPIPE, SIG_IGN)
        let readEnd = descriptors[0]
        let thread = Thread {
            var received = 0
            while true {
                var byte: UInt8 = 0
                let count = read(readEnd, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                guard count == 1 else { return }
                let name = byte == UInt8(SIGINT) ? "SIGINT" : byte == UInt8(SIGTERM) ? "SIGTERM" : "SIGHUP"
                if Int32(byte) == SIGHUP {
                    if let reload, received == 0 {
                        reload()
                    } else {
                        logger.warning(
                            "SIGHUP ignored because this command does not reload its configuration or is stopping",
                            metadata: ["signal": name]
                        )
                    }
                    continue
                }
                received += 1
                if received == 1 {
                    logger.warning(
                        work == .runs
                            ? "Shutdown requested; tearing down active runs before exit"
                            : "Stop requested; stopping the transfer, run the command again to continue it",
                        metadata: ["signal": name]
                    )
                    stop.raise()
                    continue
                }
                // A second signal means a person wants out now. Every step is journaled before it runs, so the next
                // `nightshift run` resumes the unfinished teardown where this one stopped.
                logger.critical(
                    work == .runs
                        ? "Second shutdown signal; exiting before teardown finished, "
                            + "the next nightshift run finishes it"
                        : "Second stop signal; exiting at once",
                    metadata: ["signal": name]
                )
                exit(ExitCode.temporaryFailure.rawValue)
            }
        }
        thread.name = "signals"
        thread.start()
    }
}
