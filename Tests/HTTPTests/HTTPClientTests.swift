import Foundation
import HTTP
import StandIns
import Support
import Testing

/// Starts a loopback server whose handler returns the responses in `script` in order, then 200.
private func startScripted(_ script: [HTTPResponse]) throws -> (LoopbackHTTPServer, Protected<[HTTPRequest]>) {
    let seen = Protected<[HTTPRequest]>([])
    let remaining = Protected(script)
    let server = LoopbackHTTPServer { request in
        seen.withLock { $0.append(request) }
        return remaining.withLock { queue in
            queue.isEmpty ? HTTPResponse.json(200, ["ok": true]) : queue.removeFirst()
        }
    }
    try server.start()
    return (server, seen)
}

private func makeClient(_ capture: LogCapture = LogCapture(), sleeps: Protected<[Double]> = Protected([])) -> HTTPClient
{
    HTTPClient(
        connectTimeout: 2,
        totalTimeout: 5,
        logger: Logger(label: "test", logLevel: .debug, sink: capture.sink),
        sleep: { seconds, _ in
            sleeps.withLock { $0.append(seconds) }
            return true
        }
    )
}

@Test func getReturnsStatusHeadersAndBody() throws {
    let (server, seen) = try startScripted([.json(200, ["name": "x"], headers: [("X-Test", "1")])])
    defer { server.stop() }
    let response = try makeClient().send(HTTPClientRequest(method: "GET", url: server.baseURL + "/a?b=c"))
    #expect(response.status == 200)
    #expect(response.header("x-test") == "1")
    #expect((response.json as? [String: String])?["name"] == "x")
    #expect(seen.current.first?.rawPath == "/a")
    #expect(seen.current.first?.queryValue("b") == "c")
}

@Test func postSendsJSONBody() throws {
    let (server, seen) = try startScripted([])
    defer { server.stop() }
    let request = try HTTPClientRequest.json("POST", server.baseURL + "/machines", ["name": "m1"])
    _ = try makeClient().send(request)
    let received = try #require(seen.current.first)
    #expect(received.method == "POST")
    #expect(received.header("Content-Type") == "application/json")
    #expect((received.jsonBody as? [String: String])?["name"] == "m1")
}

@Test func patchWithoutBodySendsNone() throws {
    let (server, seen) = try startScripted([])
    defer { server.stop() }
    _ = try makeClient().send(HTTPClientRequest(method: "PATCH", url: server.baseURL + "/machines/x/stop"))
    #expect(seen.current.first?.method == "PATCH")
    #expect(seen.current.first?.body.isEmpty == true)
}

@Test func retriesServerErrorsThenSucceeds() throws {
    let (server, seen) = try startScripted([.text(500, "boom"), .text(503, "busy")])
    defer { server.stop() }
    let sleeps = Protected<[Double]>([])
    let response = try makeClient(sleeps: sleeps).send(HTTPClientRequest(method: "GET", url: server.baseURL + "/x"))
    #expect(response.status == 200)
    #expect(seen.current.count == 3)
    #expect(sleeps.current.count == 2)
}

@Test func honoursRetryAfterOn429() throws {
    let (server, _) = try startScripted([.text(429, "slow down", headers: [("Retry-After", "7")])])
    defer { server.stop() }
    let sleeps = Protected<[Double]>([])
    _ = try makeClient(sleeps: sleeps).send(HTTPClientRequest(method: "GET", url: server.baseURL + "/x"))
    #expect(sleeps.current == [7])
}

@Test func backoffGrowsExponentially() {
    let policy = RetryPolicy(maxAttempts: 10, baseDelay: 1, maxDelay: 100)
    for retry in 1...6 {
        let ceiling = pow(2, Double(retry - 1))
        let delay = policy.delay(beforeRetry: retry, retryAfter: nil)
        #expect(delay >= ceiling / 2)
        #expect(delay <= ceiling)
    }
    #expect(policy.delay(beforeRetry: 30, retryAfter: nil) <= 100)
    #expect(policy.delay(beforeRetry: 1, retryAfter: 1000) == 100)
}

@Test func clientErrorsAreNotRetried() throws {
    let (server, seen) = try startScripted([.json(404, ["code": "NOT_FOUND", "message": "no"])])
    defer { server.stop() }
    let response = try makeClient().send(HTTPClientRequest(method: "GET", url: server.baseURL + "/x"))
    #expect(response.status == 404)
    #expect(seen.current.count == 1)
}

@Test func neverPolicyMakesOneAttempt() throws {
    let (server, seen) = try startScripted([.text(500, "boom")])
    defer { server.stop() }
    let response = try makeClient().send(HTTPClientRequest(method: "POST", url: server.baseURL + "/x"), retry: .never)
    #expect(response.status == 500)
    #expect(seen.current.count == 1)
}

@Test func exhaustedRetriesThrow() throws {
    let (server, seen) = try startScripted(Array(repeating: .text(502, "bad"), count: 5))
    defer { server.stop() }
    let policy = RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.01)
    #expect(throws: HTTPClientError.self) {
        _ = try makeClient().send(HTTPClientRequest(method: "GET", url: server.baseURL + "/x"), retry: policy)
    }
    #expect(seen.current.count == 3)
}

@Test func connectionRefusedIsTransportErrorAndRetried() throws {
    // Bind then stop a server to get a port that refuses connections.
    let (server, _) = try startScripted([])
    let url = server.baseURL + "/x"
    server.stop()
    let sleeps = Protected<[Double]>([])
    let policy = RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.01)
    #expect(throws: HTTPClientError.self) {
        _ = try makeClient(sleeps: sleeps).send(HTTPClientRequest(method: "GET", url: url), retry: policy)
    }
    #expect(sleeps.current.count == 2)
}

@Test func logsNeverContainHeadersOrQuery() throws {
    let (server, _) = try startScripted([.text(500, "x")])
    defer { server.stop() }
    let capture = LogCapture()
    let request = HTTPClientRequest(
        method: "GET",
        url: server.baseURL + "/hook?token=supersecretvalue",
        headers: [("Authorization", "Bearer topsecret-token-123")]
    )
    _ = try makeClient(capture).send(request)
    #expect(!capture.text.contains("supersecretvalue"))
    #expect(!capture.text.contains("topsecret-token-123"))
    #expect(capture.text.contains("HTTP request failed, retrying"))
}

@Test func httpsToPlainServerFailsVerification() throws {
    // TLS is always verified; a plain-HTTP loopback server cannot pass as HTTPS.
    let (server, _) = try startScripted([])
    defer { server.stop() }
    let url = "https://127.0.0.1:\(server.port)/x"
    #expect(throws: HTTPClientError.self) {
        _ = try makeClient().send(HTTPClientRequest(method: "GET", url: url), retry: .never)
    }
}

@Test func retryAfterParsesSecondsAndDates() {
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    #expect(parseRetryAfter("12", now: now) == 12)
    #expect(parseRetryAfter(nil, now: now) == nil)
    #expect(parseRetryAfter("Tue, 14 Nov 2023 22:13:40 GMT", now: now) == 20)
}

@Test func displayURLDropsCredentialsAndQuery() {
    let request = HTTPClientRequest(
        method: "GET",
        url: "https://user:hunter2pass@api.example.invalid/v1/machines?after=x#frag"
    )
    #expect(request.displayURL == "https://api.example.invalid/v1/machines")
}
