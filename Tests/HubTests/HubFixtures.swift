import Foundation
import HTTP
import Hub
import StandIns
import Support

/// The token every test client sends; tests assert that it never leaves the Authorization header.
let testToken = "hf_loopbackTestToken7Qz2Xw9Kp4Lm"

let headSHA = "9f1c2e3d4b5a69788796a5b4c3d2e1f0a9b8c7d6"
let newSHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"

/// A loopback server with a test-written handler that records every request it receives.
final class ScriptedServer: @unchecked Sendable {
    let server: LoopbackHTTPServer
    let requests = Protected<[HTTPRequest]>([])
    /// The server's own base URL, readable from inside the handler once the server has started.
    let base = Protected("")

    init(_ handler: @escaping @Sendable (HTTPRequest, String) -> HTTPResponse) throws {
        let requests = self.requests
        let base = self.base
        self.server = LoopbackHTTPServer { request in
            requests.withLock { $0.append(request) }
            return handler(request, base.current)
        }
        try self.server.start()
        self.base.withLock { $0 = self.server.baseURL }
    }

    var baseURL: String { self.server.baseURL }

    func received(_ method: String, _ path: String) -> [HTTPRequest] {
        self.requests.current.filter { $0.method == method && $0.path == path }
    }

    /// Every request as `METHOD rawPath`, in arrival order.
    var log: [String] {
        self.requests.current.map { "\($0.method) \($0.rawPath)" }
    }

    func stop() {
        self.server.stop()
    }
}

struct HubHarness {
    let client: HubClient
    let capture: LogCapture
    let sleeps: Protected<[Double]>
}

/// Returns a client for `server` whose sleep hook records delays instead of waiting.
func makeHub(_ server: ScriptedServer, token: String? = testToken) -> HubHarness {
    let capture = LogCapture()
    let sleeps = Protected<[Double]>([])
    let logger = Logger(label: "hub-test", logLevel: .trace, sink: capture.sink)
    let http = HTTPClient(
        connectTimeout: 2,
        totalTimeout: 5,
        logger: logger,
        sleep: { seconds, _ in
            sleeps.withLock { $0.append(seconds) }
            return true
        }
    )
    let retry = RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 30)
    let client = HubClient(endpoint: server.baseURL, token: token, http: http, logger: logger, retry: retry)
    return HubHarness(client: client, capture: capture, sleeps: sleeps)
}

/// Returns the body of `GET /api/{type}s/{id}/revision/{rev}` for a private model repo.
func revisionInfo(repo: String, sha: String) -> HTTPResponse {
    .json(
        200,
        [
            "_id": "65e1f0c2a7b3d4e5f6a7b8c9",
            "id": repo,
            "author": repo.split(separator: "/").first.map(String.init) ?? repo,
            "sha": sha,
            "lastModified": "2026-03-01T22:10:04.000Z",
            "createdAt": "2026-02-11T08:00:00.000Z",
            "private": true,
            "disabled": false,
            "gated": false,
            "downloads": 0,
            "likes": 0,
            "tags": ["region:us"],
            "siblings": [["rfilename": ".gitattributes"], ["rfilename": "config.json"]],
        ]
    )
}

/// Returns a Hub error response with the `X-Error-Code` and `X-Error-Message` headers the Hub sets.
func hubErrorResponse(_ status: Int, code: String?, message: String) -> HTTPResponse {
    var headers: [(name: String, value: String)] = [("X-Error-Message", message), ("X-Request-Id", "Root=1-65e1f0c2")]
    if let code {
        headers.append(("X-Error-Code", code))
    }
    return .json(status, ["error": message], headers: headers)
}

/// Returns every string the log records contain, before any redaction: message, label and metadata values.
func rawText(_ capture: LogCapture) -> String {
    capture.records.map { record in
        ([record.message, record.label] + record.metadata.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
    }.joined(separator: "\n")
}
