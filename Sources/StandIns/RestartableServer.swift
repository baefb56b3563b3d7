import Foundation
import Support

/// A `LoopbackHTTPServer` that can be stopped and started again on the same port, so a receiver can go down and
/// come back at the same URL.
final class RestartableServer: @unchecked Sendable {
    private let slot = Protected<(server: LoopbackHTTPServer?, port: UInt16)>((nil, 0))

    /// Starts listening with `handler`: on a free port the first time, and on that same port after `stop()`.
    /// Does nothing while it is already listening.
    func start(handler: @escaping LoopbackHTTPServer.Handler) throws {
        try self.slot.withLock { slot in
            guard slot.server == nil else { return }
            let server = LoopbackHTTPServer(port: slot.port, handler: handler)
            try server.start()
            slot = (server, server.port)
        }
    }

    /// Stops listening, so clients get "connection refused", and closes open connections.
    func stop() {
        let server = self.slot.withLock { slot -> LoopbackHTTPServer? in
            let server = slot.server
            slot.server = nil
            return server
        }
        server?.stop()
    }

    var isUp: Bool { self.slot.withLock { $0.server != nil } }

    /// `http://127.0.0.1:<port>`; valid after the first `start()`.
    var baseURL: String { "http://127.0.0.1:\(self.slot.withLock { $0.port })" }
}
