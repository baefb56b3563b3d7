import Foundation
import Support

/// A TCP relay on 127.0.0.1 that forwards every connection to another loopback port and counts the bytes each way,
/// so a benchmark can tell how much a client sent, protocol overhead included.
///
/// The Hub stand-in puts its own origin in the LFS `verify` links, and the client sends its token only to its
/// endpoint's origin. So in replies the relay replaces `127.0.0.1:<target port>` with `127.0.0.1:<relay port>`,
/// which has the same length, so `Content-Length` stays right.
final class CountingRelay: @unchecked Sendable {
    /// Bytes from clients to the target, and from the target back to clients.
    let counts = Protected<(up: Int64, down: Int64)>((0, 0))
    private let targetPort: UInt16
    private let listener: Int32
    let port: UInt16

    /// Binds a free port on 127.0.0.1 that forwards to `targetPort` on 127.0.0.1.
    init(targetPort: UInt16) throws {
        self.targetPort = targetPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw RelayError.socket(operation: "socket", errno: errno) }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 128) == 0 else {
            let code = errno
            close(listener)
            throw RelayError.socket(operation: "bind", errno: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        self.port = UInt16(bigEndian: actual.sin_port)
        self.targetOrigin = Array("127.0.0.1:\(targetPort)".utf8)
        self.relayOrigin = Array("127.0.0.1:\(self.port)".utf8)
        guard self.targetOrigin.count == self.relayOrigin.count else {
            close(listener)
            throw RelayError.portLength(target: targetPort, relay: self.port)
        }
    }

    private let targetOrigin: [UInt8]
    private let relayOrigin: [UInt8]

    var baseURL: String { "http://127.0.0.1:\(self.port)" }

    /// Accepts connections on a background thread until the process exits.
    func start() {
        let thread = Thread { [self] in
            while true {
                let client = accept(self.listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                self.relay(client)
            }
        }
        thread.name = "bench-relay-accept"
        thread.start()
    }

    private func relay(_ client: Int32) {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: self.targetPort)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard server >= 0, connected == 0 else {
            if server >= 0 { close(server) }
            close(client)
            return
        }
        for socketPair in [client, server] {
            var noDelay: Int32 = 1
            setsockopt(socketPair, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        }
        // Each direction shuts its half down when its source ends, and the second pump to finish closes both sockets.
        let finished = Protected(0)
        let done: @Sendable () -> Void = {
            if finished.withLock({ count -> Int in
                count += 1
                return count
            }) == 2 {
                close(client)
                close(server)
            }
        }
        self.pump(from: client, to: server, upward: true, done: done)
        self.pump(from: server, to: client, upward: false, done: done)
    }

    private func pump(from source: Int32, to sink: Int32, upward: Bool, done: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 256 * 1024)
            loop: while true {
                let received = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
                if received < 0 && errno == EINTR { continue }
                if received <= 0 { break }
                self.counts.withLock { counts in
                    if upward { counts.up += Int64(received) } else { counts.down += Int64(received) }
                }
                if !upward {
                    self.replaceOrigin(in: &buffer, count: received)
                }
                var offset = 0
                while offset < received {
                    let sent = buffer.withUnsafeBytes {
                        send(sink, $0.baseAddress! + offset, received - offset, Int32(MSG_NOSIGNAL))
                    }
                    if sent < 0 && errno == EINTR { continue }
                    if sent <= 0 { break loop }
                    offset += sent
                }
            }
            shutdown(sink, Int32(SHUT_WR))
            shutdown(source, Int32(SHUT_RD))
            done()
        }
        thread.name = "bench-relay-pump"
        thread.start()
    }

    /// Replaces the target's origin with the relay's in `buffer[0..<count]`. An origin split across two reads is
    /// missed, which makes the client's verify call fail with 401 rather than skew a count.
    private func replaceOrigin(in buffer: inout [UInt8], count: Int) {
        let pattern = self.targetOrigin
        guard count >= pattern.count else { return }
        var index = 0
        while index <= count - pattern.count {
            if buffer[index] == pattern[0], buffer[index..<(index + pattern.count)].elementsEqual(pattern) {
                buffer.replaceSubrange(index..<(index + pattern.count), with: self.relayOrigin)
                index += pattern.count
            } else {
                index += 1
            }
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A relay socket call that failed, with the errno it returned.
enum RelayError: Error, CustomStringConvertible {
    case socket(operation: String, errno: Int32)
    case portLength(target: UInt16, relay: UInt16)

    var description: String {
        switch self {
        case .socket(let operation, let code):
            "relay \(operation) on 127.0.0.1 failed: \(String(cString: strerror(code))); check that loopback is up"
        case .portLength(let target, let relay):
            "relay port \(relay) and stand-in port \(target) differ in length, so replies cannot be rewritten; "
                + "run the command again for other ports"
        }
    }
}
