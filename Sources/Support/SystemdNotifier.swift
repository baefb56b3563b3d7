import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Sends service state to systemd with the `sd_notify` protocol, without libsystemd: one datagram per message to
/// the `AF_UNIX` socket that `NOTIFY_SOCKET` names.
///
/// With `NOTIFY_SOCKET` unset every call does nothing. The socket is non-blocking and sends use `MSG_DONTWAIT`, so
/// a full or missing receiver costs one failed system call and never stalls the caller.
public final class SystemdNotifier: @unchecked Sendable {
    /// The socket address from `NOTIFY_SOCKET`: a path, or an abstract name when it starts with `@`.
    public let socketAddress: String?
    /// Seconds between watchdog pings: half of `WATCHDOG_USEC`, or nil when the watchdog is off for this process.
    public let watchdogInterval: Double?
    private let logger: Logger?
    private let state = Protected(State())

    private struct State {
        var descriptor: Int32 = -1
        var lastStatus: String?
        /// `CLOCK_MONOTONIC` seconds of the last watchdog ping.
        var lastPing: Double?
        var failedSends = 0
    }

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`. The watchdog is on only when
    /// `WATCHDOG_USEC` is a positive integer and `WATCHDOG_PID`, when set, is `pid`.
    public init(environment: [String: String], pid: pid_t = getpid(), logger: Logger? = nil) {
        let address = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.socketAddress = address
        self.logger = logger
        var interval: Double? = nil
        if address != nil, let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            let owner = environment["WATCHDOG_PID"].flatMap { pid_t($0) }
            if owner == nil || owner == pid {
                interval = Double(usec) / 2_000_000
            }
        }
        self.watchdogInterval = interval
    }

    /// Reads the process environment, then removes the three variables from it so that child processes (git,
    /// ssh, training tools) do not send messages on this service's behalf.
    public static func fromProcessEnvironment(logger: Logger? = nil) -> SystemdNotifier {
        let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment, logger: logger)
        unsetenv("NOTIFY_SOCKET")
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
        return notifier
    }

    /// Whether messages go anywhere, which is when `NOTIFY_SOCKET` was set.
    public var isEnabled: Bool {
        self.socketAddress != nil
    }

    deinit {
        let descriptor = self.state.withLock { $0.descriptor }
        if descriptor >= 0 { close(descriptor) }
    }

    // MARK: - Messages

    /// Sends `READY=1`, with a status line when one is given.
    public func ready(status: String? = nil) {
        var lines = ["READY=1"]
        if let status {
            lines.append("STATUS=" + SystemdNotifier.oneLine(status))
            self.state.withLock { $0.lastStatus = status }
        }
        self.send(lines.joined(separator: "\n"))
    }

    /// Sends `RELOADING=1` with `MONOTONIC_USEC`, which systemd 253 and later require for `Type=notify-reload`.
    /// A `READY=1` must follow once the reload is done.
    public func reloading() {
        let usec = UInt64(SystemdNotifier.monotonicSeconds() * 1_000_000)
        self.send("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }

    public func stopping(status: String? = nil) {
        var message = "STOPPING=1"
        if let status { message += "\nSTATUS=" + SystemdNotifier.oneLine(status) }
        self.send(message)
    }

    /// Sends `STATUS=` when `text` differs from the last status sent, so a loop may call it on every wake.
    public func status(_ text: String) {
        let changed = self.state.withLock { state in
            guard state.lastStatus != text else { return false }
            state.lastStatus = text
            return true
        }
        if changed { self.send("STATUS=" + SystemdNotifier.oneLine(text)) }
    }

    /// Sends `WATCHDOG=1` when the watchdog is on and `watchdogInterval` has passed since the last ping; returns
    /// whether it sent one.
    @discardableResult
    public func pingWatchdogIfDue(now: Double = SystemdNotifier.monotonicSeconds()) -> Bool {
        guard let interval = self.watchdogInterval else { return false }
        let due = self.state.withLock { state in
            if let last = state.lastPing, now - last < interval { return false }
            state.lastPing = now
            return true
        }
        if due { self.send("WATCHDOG=1") }
        return due
    }

    /// Sends one datagram; returns whether the kernel accepted it. A failure is logged once per run of failures.
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let address = self.socketAddress else { return false }
        let result: (sent: Bool, errno: Int32, firstFailure: Bool, recovered: Int) = self.state.withLock { state in
            if state.descriptor < 0 {
                state.descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                if state.descriptor >= 0 {
                    _ = fcntl(state.descriptor, F_SETFL, fcntl(state.descriptor, F_GETFL) | O_NONBLOCK)
                }
            }
            guard state.descriptor >= 0 else {
                state.failedSends += 1
                return (false, errno, state.failedSends == 1, 0)
            }
            let sent = SystemdNotifier.sendDatagram(message, to: address, descriptor: state.descriptor)
            let code = errno
            if sent {
                let recovered = state.failedSends
                state.failedSends = 0
                return (true, 0, false, recovered)
            }
            state.failedSends += 1
            return (false, code, state.failedSends == 1, 0)
        }
        if result.firstFailure {
            self.logger?.warning(
                "systemd notification failed; later failures are not logged until one succeeds",
                metadata: ["socket": address, "error": String(cString: strerror(result.errno))]
            )
        } else if result.recovered > 0 {
            self.logger?.notice(
                "systemd notifications are reaching the socket again",
                metadata: ["socket": address, "failed.count": "\(result.recovered)"]
            )
        }
        return result.sent
    }

    // MARK: - Helpers

    /// Replaces line breaks, because a status line that contained one would end the `STATUS=` assignment early.
    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    public static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Fills a `sockaddr_un` for `address` and sends `message` to it. An abstract name (leading `@`) becomes a
    /// leading NUL byte, and its address length covers only the name, as the kernel compares every byte.
    private static func sendDatagram(_ message: String, to address: String, descriptor: Int32) -> Bool {
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(address.utf8)
        let isAbstract = pathBytes.first == UInt8(ascii: "@")
        if isAbstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: storage.sun_path)
        // A path needs room for its terminating NUL, an abstract name does not.
        guard pathBytes.count + (isAbstract ? 0 : 1) <= capacity else {
            errno = ENAMETOOLONG
            return false
        }
        withUnsafeMutableBytes(of: &storage.sun_path) { buffer in
            buffer.copyBytes(from: pathBytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2
        let length = socklen_t(pathOffset + pathBytes.count + (isAbstract ? 0 : 1))
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bytes.withUnsafeBytes { body in
                    let flags = Int32(MSG_DONTWAIT | MSG_NOSIGNAL)
                    return sendto(descriptor, body.baseAddress, body.count, flags, address, length)
                }
            }
        }
        return sent == bytes.count
    }
}
