import Foundation
import Support

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 request as received by a stand-in server.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as sent, with its percent-encoding intact and without the query string.
    public var rawPath: String
    /// The query string without the leading `?`, still percent-encoded.
    public var rawQuery: String
    public var headers: [(name: String, value: String)]
    /// The body, empty when it was spooled to `bodyFile`.
    public var body: Data
    /// A file that contains the body when the server's spool rule chose to stream it to disk. The server removes
    /// the file after the handler returns, so a handler that keeps the content moves the file elsewhere.
    public var bodyFile: String? = nil

    /// The request path with percent-encoding removed.
    public var path: String {
        self.rawPath.removingPercentEncoding ?? self.rawPath
    }

    /// The query parameters, decoded, in the order they were sent. `+` is read as a space.
    public var query: [(name: String, value: String)] {
        decodeFormEncoded(self.rawQuery)
    }

    /// Returns the first value of query parameter `name`.
    public func queryValue(_ name: String) -> String? {
        self.query.first { $0.name == name }?.value
    }

    /// Returns the first value of header `name`, compared without regard to case.
    public func header(_ name: String) -> String? {
        self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body parsed as a JSON value, or nil when it is not JSON.
    public var jsonBody: Any? {
        guard !self.body.isEmpty else { return nil }
        return try? JSONSerialization.jsonObject(with: self.body, options: [.fragmentsAllowed])
    }
}

/// Returns the pairs of an `application/x-www-form-urlencoded` string, decoded.
public func decodeFormEncoded(_ text: String) -> [(name: String, value: String)] {
    guard !text.isEmpty else { return [] }
    return text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func decode(_ part: Substring) -> String {
            let spaced = part.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
    }
}

/// One HTTP response from a stand-in server.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// A file region sent as the body in place of `body`, so large content never has to be in memory.
    public var bodyFile: (path: String, offset: Int, length: Int)? = nil
    /// When set, the server sends the headers and this many body bytes, then resets the connection, as a peer
    /// that dropped mid-transfer would.
    public var dropAfterBodyBytes: Int? = nil

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Returns a response whose body is `object` serialized as JSON.
    public static func json(_ status: Int, _ object: Any, headers: [(name: String, value: String)] = []) -> HTTPResponse
    {
        let body =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]))
            ?? Data("null".utf8)
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    /// A marker response: the server resets the connection instead of answering, as a crashed peer would.
    public static let resetConnection = HTTPResponse(status: -1)

    /// Returns a plain-text response.
    public static func text(_ status: Int, _ text: String, headers: [(name: String, value: String)] = [])
        -> HTTPResponse
    {
        HTTPResponse(
            status: status,
            headers: [("Content-Type", "text/plain; charset=utf-8")] + headers,
            body: Data(text.utf8)
        )
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 206: "Partial Content"
        case 302: "Found"
        case 307: "Temporary Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Payload Too Large"
        case 416: "Range Not Satisfiable"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Status \(status)"
        }
    }
}

/// A small blocking HTTP/1.1 server bound to 127.0.0.1, with one thread per connection.
///
/// The stand-ins for Paperspace, the Hub and chat receivers are built on it. It reads bodies sent with
/// `Content-Length` or chunked transfer encoding, answers `Expect: 100-continue`, and serves keep-alive
/// connections until the client closes them. It is made for tests and demos on loopback, not for production.
public final class LoopbackHTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse
    /// Decides from the method, the raw path and the `Content-Length` whether a body is streamed to a file in
    /// `spoolDirectory` instead of memory.
    public typealias SpoolRule = @Sendable (_ method: String, _ rawPath: String, _ length: Int) -> Bool

    private let handler: Handler
    private let spoolDirectory: String?
    private let spoolRule: SpoolRule?
    private let requestedPort: UInt16
    /// Signalled when the accept thread has closed the listener.
    private let acceptorDone = Protected<DispatchSemaphore?>(nil)
    private let state = Protected<(socket: Int32, port: UInt16, running: Bool, connections: Set<Int32>)>(
        (socket: -1, port: 0, running: false, connections: [])
    )

    public init(port: UInt16 = 0, handler: @escaping Handler) {
        self.requestedPort = port
        self.handler = handler
        self.spoolDirectory = nil
        self.spoolRule = nil
    }

    /// A server that streams the bodies `spoolRule` selects into files under `spoolDirectory`.
    public init(port: UInt16 = 0, spoolDirectory: String, spoolRule: @escaping SpoolRule, handler: @escaping Handler) {
        self.requestedPort = port
        self.handler = handler
        self.spoolDirectory = spoolDirectory
        self.spoolRule = spoolRule
    }

    /// The port the server listens on; valid after `start()`.
    public var port: UInt16 { self.state.current.port }

    /// The base URL, `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(self.port)" }

    /// Binds to 127.0.0.1 and starts accepting connections on a background thread.
    public func start() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw StandInError.socket("socket", errno) }
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = self.requestedPort.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(listener)
            throw StandInError.socket("bind", code)
        }
        guard listen(listener, 128) == 0 else {
            let code = errno
            close(listener)
            throw StandInError.socket("listen", code)
        }

        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = UInt16(bigEndian: actual.sin_port)
        self.state.withLock { $0 = (socket: listener, port: port, running: true, connections: []) }

        let done = DispatchSemaphore(value: 0)
        self.acceptorDone.withLock { $0 = done }
        let thread = Thread { [self] in
            self.acceptLoop(listener)
            done.signal()
        }
        thread.name = "standin-accept-\(port)"
        thread.start()
    }

    /// Stops accepting and closes every open connection.
    public func stop() {
        // The connections are shut down while the lock is held, and a serving thread closes its descriptor only
        // under the same lock, so a descriptor number here can never belong to a socket opened since.
        let listener = self.state.withLock { state -> Int32 in
            state.running = false
            let listener = state.socket
            state.socket = -1
            for connection in state.connections {
                shutdown(connection, Int32(SHUT_RDWR))
            }
            return listener
        }
        // Shutting the listener down ends the blocked accept(). The accept thread then closes it, so its number is
        // not reused while that thread may still call accept() on it.
        if listener >= 0 {
            shutdown(listener, Int32(SHUT_RDWR))
            // Waiting for the close lets a caller start a server on the same port right after this returns.
            if let done = self.acceptorDone.withLock({ $0 }) {
                _ = done.wait(timeout: .now() + 5)
            }
        }
    }

    private func acceptLoop(_ listener: Int32) {
        defer { close(listener) }
        while self.state.current.running {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            var noDelay: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            let accepted = self.state.withLock { state -> Bool in
                guard state.running else { return false }
                state.connections.insert(connection)
                return true
            }
            guard accepted else {
                close(connection)
                return
            }
            let thread = Thread { [self] in
                self.serve(connection)
                self.state.withLock { state in
                    state.connections.remove(connection)
                    close(connection)
                }
            }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        let reader = SocketReader(socket: connection, spoolDirectory: self.spoolDirectory, spoolRule: self.spoolRule)
        while self.state.current.running {
            guard let request = reader.readRequest() else { return }
            let response = self.handler(request)
            if let spooled = request.bodyFile {
                unlink(spooled)
            }
            if response.status == HTTPResponse.resetConnection.status {
                // A zero linger time makes the close that follows send RST instead of FIN.
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            }
            let keepAlive = (request.header("Connection")?.lowercased() != "close")
            guard write(response, to: connection, keepAlive: keepAlive, isHead: request.method == "HEAD") else {
                return
            }
            if !keepAlive { return }
        }
    }

    private func write(_ response: HTTPResponse, to connection: Int32, keepAlive: Bool, isHead: Bool) -> Bool {
        var head = "HTTP/1.1 \(response.status) \(HTTPResponse.reasonPhrase(response.status))\r\n"
        var hasLength = false
        for header in response.headers {
            if header.name.lowercased() == "content-length" { hasLength = true }
            head += "\(header.name): \(header.value)\r\n"
        }
        let bodyLength = response.bodyFile?.length ?? response.body.count
        if !hasLength {
            head += "Content-Length: \(bodyLength)\r\n"
        }
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        var bytes = Data(head.utf8)
        let limit = response.dropAfterBodyBytes.map { min($0, bodyLength) } ?? bodyLength
        if !isHead && response.bodyFile == nil {
            bytes.append(response.body.prefix(limit))
        }
        guard sendAll(connection, bytes) else { return false }
        if !isHead, let file = response.bodyFile {
            guard sendFile(connection, path: file.path, offset: file.offset, length: limit) else { return false }
        }
        if response.dropAfterBodyBytes != nil {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            return false
        }
        return true
    }
}

/// Writes every byte of `bytes` to the file descriptor `descriptor`.
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return false
        }
        offset += written
    }
    return true
}

func sendAll(_ socket: Int32, _ data: Data) -> Bool {
    data.withUnsafeBytes { buffer -> Bool in
        var offset = 0
        while offset < buffer.count {
            let sent = send(socket, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }
}

/// Sends `length` bytes of the file at `path` from `offset` with sendfile(2).
///
/// sendfile(2) has no `MSG_NOSIGNAL`, so a client that hung up would raise SIGPIPE and kill the whole process.
/// SIGPIPE is blocked on this thread while it sends, and a pending one is taken before the mask is restored.
func sendFile(_ socket: Int32, path: String, offset: Int, length: Int) -> Bool {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var pipeSignal = sigset_t()
    sigemptyset(&pipeSignal)
    sigaddset(&pipeSignal, SIGPIPE)
    var previousMask = sigset_t()
    pthread_sigmask(SIG_BLOCK, &pipeSignal, &previousMask)
    defer {
        var noWait = timespec(tv_sec: 0, tv_nsec: 0)
        while sigtimedwait(&pipeSignal, nil, &noWait) == SIGPIPE {}
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
    }
    var position = off_t(offset)
    var remaining = length
    while remaining > 0 {
        let sent = Glibc.sendfile(socket, descriptor, &position, min(remaining, 1 << 30))
        if sent < 0 {
            if errno == EINTR || errno == EAGAIN { continue }
            return false
        }
        if sent == 0 { return false }
        remaining -= sent
    }
    return true
}

/// Reads HTTP/1.1 requests from a connected socket.
final class SocketReader {
    private let socket: Int32
    private var buffer = Data()
    private let spoolDirectory: String?
    private let spoolRule: LoopbackHTTPServer.SpoolRule?

    init(socket: Int32, spoolDirectory: String? = nil, spoolRule: LoopbackHTTPServer.SpoolRule? = nil) {
        self.socket = socket
        self.spoolDirectory = spoolDirectory
        self.spoolRule = spoolRule
    }

    /// Streams `count` body bytes into a new file under the spool directory and returns its path.
    private func spool(_ count: Int, directory: String) -> String? {
        let path = directory + "/spool-\(UUID().uuidString)"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var remaining = count
        let buffered = min(remaining, self.buffer.count)
        if buffered > 0 {
            let head = self.buffer.prefix(buffered)
            guard head.withUnsafeBytes({ writeAll(descriptor, $0) }) else {
                unlink(path)
                return nil
            }
            self.buffer.removeFirst(buffered)
            remaining -= buffered
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while remaining > 0 {
            let received = chunk.withUnsafeMutableBytes {
                recv(self.socket, $0.baseAddress, min($0.count, remaining), 0)
            }
            if received < 0 && errno == EINTR { continue }
            guard received > 0,
                chunk.withUnsafeBytes({ writeAll(descriptor, UnsafeRawBufferPointer(rebasing: $0[0..<received])) })
            else {
                unlink(path)
                return nil
            }
            remaining -= received
        }
        return path
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(self.socket, &chunk, chunk.count, 0)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return false }
            self.buffer.append(contentsOf: chunk[0..<count])
            return true
        }
    }

    private func readLine() -> String? {
        while true {
            if let range = self.buffer.firstRange(of: Data("\r\n".utf8)) {
                let line = String(decoding: self.buffer[self.buffer.startIndex..<range.lowerBound], as: UTF8.self)
                self.buffer.removeSubrange(self.buffer.startIndex..<range.upperBound)
                return line
            }
            if self.buffer.count > 1 << 20 { return nil }
            guard self.fill() else { return nil }
        }
    }

    private func readBytes(_ count: Int) -> Data? {
        while self.buffer.count < count {
            guard self.fill() else { return nil }
        }
        let result = Data(self.buffer.prefix(count))
        self.buffer.removeFirst(count)
        return result
    }

    func readRequest() -> HTTPRequest? {
        guard let requestLine = self.readLine(), !requestLine.isEmpty else { return nil }
        let parts = requestLine.split(separator: " ")
        guard parts.count >= 2 else { return nil }
        var headers: [(name: String, value: String)] = []
        while let line = self.readLine() {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
        if header("expect")?.lowercased() == "100-continue" {
            _ = sendAll(self.socket, Data("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        var body = Data()
        var bodyFile: String? = nil
        let method = String(parts[0])
        let target = String(parts[1])
        let pathAndQuery = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        if let length = header("content-length").flatMap({ Int($0) }), length > 0, let directory = self.spoolDirectory,
            self.spoolRule?(method, String(pathAndQuery[0]), length) == true
        {
            guard let path = self.spool(length, directory: directory) else { return nil }
            bodyFile = path
        } else if header("transfer-encoding")?.lowercased().contains("chunked") == true {
            while let sizeLine = self.readLine() {
                let sizeText = sizeLine.split(separator: ";").first.map(String.init) ?? "0"
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
                if size == 0 {
                    // Skip trailers up to the blank line.
                    while let trailer = self.readLine(), !trailer.isEmpty {}
                    break
                }
                guard let chunk = self.readBytes(size) else { return nil }
                body.append(chunk)
                _ = self.readLine()
            }
        } else if let length = header("content-length").flatMap({ Int($0) }), length > 0 {
            guard let data = self.readBytes(length) else { return nil }
            body = data
        }
        return HTTPRequest(
            method: method,
            rawPath: String(pathAndQuery[0]),
            rawQuery: pathAndQuery.count > 1 ? String(pathAndQuery[1]) : "",
            headers: headers,
            body: body,
            bodyFile: bodyFile
        )
    }
}

/// Errors raised while starting a stand-in.
public enum StandInError: Error, CustomStringConvertible {
    case socket(String, Int32)
    case setup(String)

    public var description: String {
        switch self {
        case .socket(let call, let code): "stand-in server: \(call) failed: \(String(cString: strerror(code)))"
        case .setup(let message): "stand-in setup failed: \(message)"
        }
    }
}
