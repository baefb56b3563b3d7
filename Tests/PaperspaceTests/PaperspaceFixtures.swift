import Foundation
import HTTP
import Paperspace
import StandIns
import Support

/// The API key every test client sends; tests assert that it never leaves the Authorization header.
let testAPIKey = "ps-key-5f2c9a7e1b3d4c6a8e0f"

/// A loopback server with a test-written handler that records every request it receives.
final class ScriptedServer: @unchecked Sendable {
    let server: LoopbackHTTPServer
    let requests = Protected<[HTTPRequest]>([])

    init(_ handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) throws {
        let requests = self.requests
        self.server = LoopbackHTTPServer { request in
            requests.withLock { $0.append(request) }
            return handler(request)
        }
        try self.server.start()
    }

    /// The endpoint a client is given, with the `/v1` prefix of the real API.
    var endpoint: String { self.server.baseURL + "/v1" }

    func received(_ method: String, _ path: String) -> [HTTPRequest] {
        self.requests.current.filter { $0.method == method && $0.path == path }
    }

    /// Every request as `METHOD path`, in arrival order.
    var log: [String] {
        self.requests.current.map { "\($0.method) \($0.path)" }
    }

    func stop() {
        self.server.stop()
    }
}

/// A client wired to a log capture and to a sleep hook that records delays instead of waiting.
struct Harness {
    let client: PaperspaceClient
    let capture: LogCapture
    let sleeps: Protected<[Double]>
}

func makeHarness(
    _ server: ScriptedServer,
    retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 30),
    totalTimeout: Double = 5
) -> Harness {
    let capture = LogCapture()
    let sleeps = Protected<[Double]>([])
    let logger = Logger(label: "paperspace-test", logLevel: .trace, sink: capture.sink)
    let http = HTTPClient(
        connectTimeout: 2,
        totalTimeout: totalTimeout,
        logger: logger,
        sleep: { seconds, _ in
            sleeps.withLock { $0.append(seconds) }
            return true
        }
    )
    let client = PaperspaceClient(
        endpoint: server.endpoint,
        apiKey: testAPIKey,
        http: http,
        logger: logger,
        retry: retry
    )
    return Harness(client: client, capture: capture, sleeps: sleeps)
}

/// A machine object with every field the v1 API documents, as `GET /machines/{id}` returns it.
func machineJSON(
    id: String,
    name: String,
    state: String = "ready",
    dtCreated: String = "2026-03-02T09:15:42.118Z",
    dtDeleted: String? = nil
) -> [String: Any] {
    [
        "id": id,
        "name": name,
        "os": "Ubuntu 22.04",
        "machineType": "A4000",
        "agentType": "LinuxHeadless",
        "state": state,
        "cpus": 8,
        "ram": 48_318_382_080,
        "storageTotal": 53_687_091_200,
        "storageUsed": 9_663_676_416,
        "accelerators": [["name": "A4000", "memory": 16, "count": 1]],
        "region": "East Coast (NY2)",
        "privateIp": "10.41.0.7",
        "publicIp": "184.105.6.21",
        "networkId": "nk2ho8cg",
        "publicIpType": "dynamic",
        "autoShutdownEnabled": true,
        "autoShutdownTimeout": 8,
        "autoShutdownForce": true,
        "autoSnapshotEnabled": false,
        "autoSnapshotFrequency": NSNull(),
        "autoSnapshotSaveCount": NSNull(),
        "restorePointEnabled": false,
        "restorePointFrequency": NSNull(),
        "restorePointSnapshotId": NSNull(),
        "updatesPending": false,
        "usageRate": 0.76,
        "storageRate": 0.0,
        "dtCreated": dtCreated,
        "dtModified": dtCreated,
        "dtDeleted": dtDeleted.map { $0 as Any } ?? NSNull(),
        "reservation": NSNull(),
    ]
}

/// The `event` object that every machine mutation returns next to `data`.
func eventJSON(name: String, machineId: String) -> [String: Any] {
    [
        "id": "evt-\(name)-\(machineId)",
        "name": name,
        "state": "new",
        "machineId": machineId,
        "dtCreated": "2026-03-02T09:15:42.300Z",
        "dtStarted": NSNull(),
        "dtFinished": NSNull(),
        "error": NSNull(),
    ]
}

/// Returns a mutation response: `{data: Machine, event: MachineEvent}`.
func mutationResponse(_ machine: [String: Any], event: String) -> HTTPResponse {
    .json(200, ["data": machine, "event": eventJSON(name: event, machineId: machine["id"] as? String ?? "")])
}

/// Returns one page of a list endpoint, with `nextPage` null on the last page.
func pageResponse(_ items: [[String: Any]], nextPage: String?) -> HTTPResponse {
    .json(200, ["hasMore": nextPage != nil, "items": items, "nextPage": nextPage.map { $0 as Any } ?? NSNull()])
}

/// Returns the documented error body `{code, message}`.
func errorResponse(_ status: Int, _ code: String, _ message: String, headers: [(name: String, value: String)] = [])
    -> HTTPResponse
{
    .json(status, ["code": code, "message": message], headers: headers)
}

/// A startup script object as the v1 API returns it.
func scriptJSON(id: String, name: String, isRunOnce: Bool = true, dtCreated: String = "2026-03-02T09:10:00.000Z")
    -> [String: Any]
{
    [
        "id": id,
        "name": name,
        "description": NSNull(),
        "isEnabled": true,
        "isRunOnce": isRunOnce,
        "assignedMachineIds": [],
        "dtCreated": dtCreated,
        "dtDeleted": NSNull(),
    ]
}

/// A machine a stateful test server keeps, rendered with `machineJSON`.
struct StoredMachine: Sendable {
    var id: String
    var name: String
    var state: String = "provisioning"
    var dtCreated: String = "2026-03-02T09:15:42.118Z"

    var json: [String: Any] {
        machineJSON(id: self.id, name: self.name, state: self.state, dtCreated: self.dtCreated)
    }
}

/// Returns a one-page listing of `machines`, filtered by the `name` query parameter when it is present.
func listing(_ machines: [StoredMachine], for request: HTTPRequest) -> HTTPResponse {
    let name = request.queryValue("name")
    let matching = machines.filter { name == nil || $0.name == name }
    return pageResponse(matching.map(\.json), nextPage: nil)
}

/// Returns every string the log records contain, before any redaction: message, label and metadata values.
func rawText(_ capture: LogCapture) -> String {
    capture.records.map { record in
        ([record.message, record.label] + record.metadata.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
    }.joined(separator: "\n")
}
