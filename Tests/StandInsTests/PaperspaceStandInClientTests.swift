import Foundation
import StandIns
import Support
import Testing

/// One response as received by `curl`.
struct PaperspaceCurlResponse {
    /// The HTTP status, or 0 when no response arrived.
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data
    var curlExitCode: Int32

    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: self.body)) as? [String: Any]
    }

    var text: String { String(decoding: self.body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        self.headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A client that sends each request with the `curl` program, so the stand-in is tested over real HTTP.
struct PaperspaceCurlClient {
    var baseURL: String
    var apiKey: String?

    /// Sends one request. `body` is sent as is; nil sends no body at all.
    func send(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) throws
        -> PaperspaceCurlResponse
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bodyOut = directory.appendingPathComponent("body").path
        let headersOut = directory.appendingPathComponent("headers").path
        var arguments = [
            "-s", "-S", "--max-time", "20", "-X", method, "-o", bodyOut, "-D", headersOut, "-w", "%{http_code}",
        ]
        if let apiKey {
            arguments += ["-H", "Authorization: Bearer \(apiKey)"]
        }
        for header in headers {
            arguments += ["-H", header]
        }
        if let body {
            let bodyIn = directory.appendingPathComponent("request").path
            try Data(body.utf8).write(to: URL(fileURLWithPath: bodyIn))
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@" + bodyIn]
        }
        arguments.append(self.baseURL + path)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()

        let headerText = (try? String(contentsOfFile: headersOut, encoding: .utf8)) ?? ""
        let parsedHeaders: [(name: String, value: String)] = headerText.components(separatedBy: "\r\n").compactMap {
            guard let colon = $0.firstIndex(of: ":") else { return nil }
            return (String($0[..<colon]), String($0[$0.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        return PaperspaceCurlResponse(
            status: Int(String(decoding: output, as: UTF8.self)) ?? 0,
            headers: parsedHeaders,
            body: (try? Data(contentsOf: URL(fileURLWithPath: bodyOut))) ?? Data(),
            curlExitCode: process.terminationStatus
        )
    }

    func get(_ path: String) throws -> PaperspaceCurlResponse {
        try self.send("GET", path)
    }

    func send(_ method: String, _ path: String, json: [String: Any]) throws -> PaperspaceCurlResponse {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        return try self.send(method, path, body: String(decoding: data, as: UTF8.self))
    }
}

/// A running stand-in with a scratch directory and a client holding the right key.
final class PaperspaceStandInFixture {
    static let apiKey = "test-key-0123"

    let standIn: PaperspaceStandIn
    let client: PaperspaceCurlClient
    let scratch: String

    init(_ configure: (inout PaperspaceStandIn.Options) -> Void = { _ in }) throws {
        self.scratch =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("ps-standin-\(UUID().uuidString)").path
        var options = PaperspaceStandIn.Options(
            apiKey: PaperspaceStandInFixture.apiKey,
            scratchDirectory: self.scratch,
            provisioningDelay: 0.1,
            startingDelay: 0.1,
            stoppingDelay: 0.1
        )
        configure(&options)
        self.standIn = PaperspaceStandIn(options: options)
        try self.standIn.start()
        self.client = PaperspaceCurlClient(baseURL: self.standIn.baseURL, apiKey: PaperspaceStandInFixture.apiKey)
    }

    deinit {
        self.standIn.stop()
        try? FileManager.default.removeItem(atPath: self.scratch)
    }

    /// Creates a machine with the required fields plus `extra` and returns the create response.
    func createMachine(_ name: String = "job-1", extra: [String: Any] = [:]) throws -> PaperspaceCurlResponse {
        var body: [String: Any] = [
            "name": name, "machineType": "A4000", "templateId": "t0nspur5", "diskSize": 50, "region": "ny2",
        ]
        body.merge(extra) { _, new in new }
        return try self.client.send("POST", "/machines", json: body)
    }

    /// Creates a machine and returns its id, failing the test when the create is not accepted.
    func createMachineID(_ name: String = "job-1", extra: [String: Any] = [:]) throws -> String {
        let response = try self.createMachine(name, extra: extra)
        #expect(response.status == 200, "create failed: \(response.text)")
        let data = try #require(response.json?["data"] as? [String: Any])
        return try #require(data["id"] as? String)
    }

    /// Creates a startup script and returns its id.
    func createScript(_ text: String, name: String = "job-script", runOnce: Bool = false) throws -> String {
        let response = try self.client.send(
            "POST",
            "/startup-scripts",
            json: ["name": name, "script": text, "isRunOnce": runOnce]
        )
        #expect(response.status == 200, "script create failed: \(response.text)")
        return try #require(response.json?["id"] as? String)
    }

    /// Polls `condition` until it holds, returning false after `timeout` seconds.
    static func waitUntil(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    func machine(_ id: String) -> PaperspaceStandInMachine? {
        self.standIn.allMachinesEverCreated.first { $0.id == id }
    }

    /// Polls the API until machine `id` is in `state`, returning false after `timeout` seconds.
    func waitForState(_ id: String, _ state: String, timeout: Double = 5) throws -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if try self.client.get("/machines/\(id)").json?["state"] as? String == state {
                return true
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }
}

@Suite struct PaperspaceStandInAuthTests {
    @Test func missingAuthorizationIsRejected() throws {
        let fixture = try PaperspaceStandInFixture()
        let anonymous = PaperspaceCurlClient(baseURL: fixture.standIn.baseURL, apiKey: nil)
        let response = try anonymous.get("/machines")
        #expect(response.status == 401)
        #expect(response.json?["code"] as? String == "UNAUTHORIZED")
        #expect((response.json?["message"] as? String)?.isEmpty == false)
    }

    @Test func wrongKeyIsRejected() throws {
        let fixture = try PaperspaceStandInFixture()
        let wrong = PaperspaceCurlClient(baseURL: fixture.standIn.baseURL, apiKey: "other-key")
        #expect(try wrong.get("/machines").status == 401)
        #expect(try wrong.get("/machines").json?["code"] as? String == "UNAUTHORIZED")

        let legacy = PaperspaceCurlClient(baseURL: fixture.standIn.baseURL, apiKey: nil)
        let legacyResponse = try legacy.send(
            "GET",
            "/machines",
            headers: ["x-api-key: \(PaperspaceStandInFixture.apiKey)"]
        )
        #expect(legacyResponse.status == 401)

        let basic = try legacy.send(
            "GET",
            "/machines",
            headers: ["Authorization: Basic \(PaperspaceStandInFixture.apiKey)"]
        )
        #expect(basic.status == 401)
    }

    @Test func rightKeyIsAccepted() throws {
        let fixture = try PaperspaceStandInFixture()
        let response = try fixture.client.get("/machines")
        #expect(response.status == 200)
        #expect(response.json?["hasMore"] as? Bool == false)
        #expect((response.json?["items"] as? [Any])?.isEmpty == true)
        #expect(response.json?["nextPage"] is NSNull)

        let session = try fixture.client.get("/auth/session")
        #expect(session.status == 200)
        #expect((session.json?["team"] as? [String: Any])?["id"] is String)
    }

    @Test func unknownPathAndMethod() throws {
        let fixture = try PaperspaceStandInFixture()
        let missing = try fixture.client.get("/nothing-here")
        #expect(missing.status == 404)
        #expect(missing.json?["code"] as? String == "NOT_FOUND")
        let wrongMethod = try fixture.client.send("PATCH", "/machines", body: "{}")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.json?["code"] as? String == "METHOD_NOT_SUPPORTED")
    }

    @Test func requestsAreRecorded() throws {
        let fixture = try PaperspaceStandInFixture()
        _ = try fixture.client.get("/machines?limit=5")
        _ = try PaperspaceCurlClient(baseURL: fixture.standIn.baseURL, apiKey: nil).get("/machines")
        let recorded = fixture.standIn.requests
        #expect(recorded.count == 2)
        #expect(recorded.first?.method == "GET")
        #expect(recorded.first?.path == "/machines")
        #expect(recorded.first?.query == "limit=5")
        #expect(recorded.first?.status == 200)
        #expect(recorded.last?.status == 401)
    }
}
