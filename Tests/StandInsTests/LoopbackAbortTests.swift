import Foundation
import StandIns
import Support
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A client that hangs up in the middle of a file-backed response, as a download stopped by Ctrl-C or a full
/// disk does, must not take the server's process down.
@Suite struct LoopbackAbortTests {
    @Test func abortedFileBodyKeepsServerUp() throws {
        let directory = NSTemporaryDirectory() + "nightshift-loopback-abort-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/body.bin"
        let length = 64 << 20
        try Data(count: length).write(to: URL(fileURLWithPath: path))
        let server = LoopbackHTTPServer { request in
            guard request.path == "/file" else { return HTTPResponse.text(200, "alive") }
            var response = HTTPResponse(status: 200)
            response.bodyFile = (path: path, offset: 0, length: length)
            return response
        }
        try server.start()
        defer { server.stop() }

        for _ in 1...3 {
            let socketFD = try connectedSocket(port: server.port)
            let request = "GET /file HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            _ = request.withCString { send(socketFD, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let received = recv(socketFD, &buffer, buffer.count, 0)
            #expect(received > 0)
            // A zero linger time makes close() send a reset, so the server's next write fails at once.
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(socketFD, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            close(socketFD)
        }
        Thread.sleep(forTimeInterval: 0.3)

        let result = try Subprocess.run(["curl", "-s", "--max-time", "5", server.baseURL + "/alive"])
        #expect(result.status == 0)
        #expect(result.output == "alive")
    }

    private func connectedSocket(port: UInt16) throws -> Int32 {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(socketFD >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)
        return socketFD
    }
}
