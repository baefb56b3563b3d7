import Foundation
import Testing

@testable import Support

#if canImport(Glibc)
    import Glibc
#endif

/// A datagram socket bound to a path or an abstract name, standing in for systemd's notification socket.
final class NotifySocketReceiver {
    let address: String
    let descriptor: Int32
    private let path: String?

    init(abstract: Bool) throws {
        let name = "nightshift-notify-\(UUID().uuidString.prefix(8))"
        self.path = abstract ? nil : NSTemporaryDirectory() + name + ".sock"
        self.address = abstract ? "@" + name : self.path!
        self.descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(self.address.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let length = socklen_t(offset + bytes.count + (abstract ? 0 : 1))
        let result = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(self.descriptor, $0, length) }
        }
        guard result == 0 else { throw POSIXError(.EADDRINUSE) }
        // A receive timeout keeps a test from hanging when no datagram comes.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(self.descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Returns the datagrams received until `timeout` seconds pass with nothing new.
    func receiveAll(quietFor timeout: Double = 0.3) -> [String] {
        var messages: [String] = []
        var lastArrival = Date()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date().timeIntervalSince(lastArrival) < timeout {
            let count = recv(self.descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                messages.append(String(decoding: buffer[0..<count], as: UTF8.self))
                lastArrival = Date()
            }
        }
        return messages
    }

    deinit {
        close(self.descriptor)
        if let path { unlink(path) }
    }
}

struct SystemdNotifierTests {
    @Test func readyReachesPathSocket() throws {
        let receiver = try NotifySocketReceiver(abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        notifier.ready(status: "idle\nsecond line")
        let messages = receiver.receiveAll()
        #expect(messages == ["READY=1\nSTATUS=idle second line"])
    }

    @Test func abstractSocketReceivesMessages() throws {
        let receiver = try NotifySocketReceiver(abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        notifier.stopping(status: "tearing down 1 run")
        let messages = receiver.receiveAll()
        #expect(messages == ["STOPPING=1\nSTATUS=tearing down 1 run"])
    }

    @Test func reloadingCarriesMonotonicTime() throws {
        let receiver = try NotifySocketReceiver(abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        let before = SystemdNotifier.monotonicSeconds()
        notifier.reloading()
        let after = SystemdNotifier.monotonicSeconds()
        let message = try #require(receiver.receiveAll().first)
        let lines = message.split(separator: "\n").map(String.init)
        #expect(lines.first == "RELOADING=1")
        let usecText = try #require(lines.last?.split(separator: "=").last)
        let usec = try #require(Double(String(usecText)))
        #expect(usec / 1e6 >= before - 0.001)
        #expect(usec / 1e6 <= after + 0.001)
    }

    @Test func statusSentOnlyWhenChanged() throws {
        let receiver = try NotifySocketReceiver(abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        notifier.status("0 active runs")
        notifier.status("0 active runs")
        notifier.status("1 active run")
        #expect(receiver.receiveAll() == ["STATUS=0 active runs", "STATUS=1 active run"])
    }

    @Test func watchdogPingsEveryHalfInterval() throws {
        let receiver = try NotifySocketReceiver(abstract: false)
        let notifier = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": receiver.address, "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "\(getpid())"]
        )
        #expect(notifier.watchdogInterval == 2)
        #expect(notifier.pingWatchdogIfDue(now: 100))
        #expect(!notifier.pingWatchdogIfDue(now: 101.9))
        #expect(notifier.pingWatchdogIfDue(now: 102))
        #expect(receiver.receiveAll() == ["WATCHDOG=1", "WATCHDOG=1"])
    }

    @Test func watchdogOffForOtherPid() {
        let notifier = SystemdNotifier(
            environment: ["NOTIFY_SOCKET": "/run/none", "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"],
            pid: 4242
        )
        #expect(notifier.watchdogInterval == nil)
        #expect(!notifier.pingWatchdogIfDue(now: 1))
    }

    @Test func watchdogOffForInvalidUsec() {
        for value in ["0", "-5", "abc", ""] {
            let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/none", "WATCHDOG_USEC": value])
            #expect(notifier.watchdogInterval == nil, "WATCHDOG_USEC=\(value)")
        }
    }

    @Test func unsetSocketDisablesEverything() {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000"])
        #expect(!notifier.isEnabled)
        #expect(notifier.watchdogInterval == nil)
        #expect(!notifier.send("READY=1"))
    }

    @Test func missingSocketFailsWithoutBlocking() {
        let path = NSTemporaryDirectory() + "nightshift-absent-\(UUID().uuidString).sock"
        let records = Protected<[LogRecord]>([])
        let logger = Logger(label: "test", sink: LogSink { record in records.withLock { $0.append(record) } })
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path], logger: logger)
        #expect(!notifier.send("READY=1"))
        #expect(!notifier.send("STATUS=x"))
        // The second failure is not logged again.
        #expect(records.current.count == 1)
        #expect(records.current.first?.metadata["socket"] == path)
    }

    @Test func fullReceiverNeverBlocksSender() throws {
        // The receiver never reads, so its queue fills and later sends fail instead of waiting.
        let receiver = try NotifySocketReceiver(abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.address])
        let started = Date()
        var failures = 0
        for index in 0..<5000 where !notifier.send("STATUS=message \(index)") {
            failures += 1
        }
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(failures > 0, "the receive queue never filled")
    }
}
