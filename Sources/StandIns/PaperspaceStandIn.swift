import Foundation
import Support

#if canImport(Glibc)
    import Glibc
#endif

/// A stand-in for the Paperspace v1 machine API on 127.0.0.1, for tests and `nightshift demo`.
///
/// It serves `/machines`, `/machine-events`, `/startup-scripts`, `/machine-availability` and `/auth/session` with
/// Bearer authentication, `{code, message}` errors with tRPC codes, status 200 for every mutation,
/// `{data, event}` wrappers on machine mutations, a bare Machine on GET and `{hasMore, items, nextPage}` cursor
/// pages. A machine that reaches `ready` runs its startup script as a local `/bin/bash` process in its own
/// scratch directory and process group. There `poweroff`, `shutdown`, `halt`, `reboot` and the power verbs of
/// `systemctl` are shims that record the call and end the process group. Through PATH or `NIGHTSHIFT_POWEROFF` a
/// script never reaches the host's own commands, but one that runs them by absolute path (`/sbin/poweroff`) would.
///
/// Choices where the API reference leaves the live behaviour unverified (options marked * can be changed):
/// - *DELETE on a machine that is not `off` answers 400 BAD_REQUEST (`deleteRequiresOff`).
/// - GET of a deleted machine answers 404 NOT_FOUND, and lists leave deleted machines and scripts out.
/// - *`start` on a running machine and `stop` on an `off` one answer 400 BAD_REQUEST
///   (`rejectRedundantPowerCalls`); `start` during `starting` answers 400 "This machine is currently starting."
/// - `stop` is accepted in `provisioning`, `starting`, `restarting` and `ready`; `restart` only in `ready`.
/// - *Machines come back with `region` spelled `East Coast (NY2)` (`regionSpelling`). Requests may use any of
///   `ny2`, `NY2` and `East Coast (NY2)`, and the same forms for ams1 and ca1.
/// - *`startOnCreate` defaults to true (`startOnCreateDefault`), so a new machine goes `provisioning` → `ready`.
/// - `diskSize` must be an integer from 50 to 2000 (GB); `autoShutdownTimeout` a number of hours from 1 to 168.
/// - *`PUT /machines/{id}` rejects auto-shutdown fields with 400 (`rejectAutoShutdownUpdate`), as the limits page
///   says the API cannot change auto-shutdown on an existing machine. Type and disk changes require `off`.
/// - *Script text longer than 16 KiB (16,384 UTF-8 bytes) answers 400 BAD_REQUEST (`scriptSizeLimit`).
/// - A run-once script runs at most once per machine, at the first boot after it was attached.
/// - A machine has at most one startup script; assigning another one replaces it.
/// - The `name` filter of the lists matches whole names exactly.
/// - The default page size is 20 (`pageLimitDefault`); a last page has `"nextPage": null`.
/// - Auto-shutdown counts from the moment the machine reached `ready`.
/// - Delete keeps the machine's scratch directory so tests can read its logs.
/// - Events: create → `create`, start → `start`, stop and auto-shutdown → `stop`, restart → `restart`,
///   delete → `deactivate`. Events start `in progress` and end `done`, or `cancelled` when a later operation
///   overrides them.
public final class PaperspaceStandIn: @unchecked Sendable {
    /// The settings of a stand-in. Delays are in seconds.
    public struct Options: Sendable {
        /// The only key accepted in `Authorization: Bearer <key>`.
        public var apiKey: String
        /// The time a new machine spends in `provisioning`.
        public var provisioningDelay: Double
        /// The time a machine spends in `starting` after a start call.
        public var startingDelay: Double
        /// The time a machine spends in `stopping`; a restart spends stoppingDelay + startingDelay in `restarting`.
        public var stoppingDelay: Double
        /// The real seconds that one API hour lasts; it scales `autoShutdownTimeout` so tests can run it.
        public var secondsPerHour: Double
        /// The directory in which each machine gets its scratch directory, `<scratchDirectory>/<machine id>`.
        public var scratchDirectory: String
        /// Extra environment for startup scripts. A PATH here comes after the machine's shim directory.
        public var scriptEnvironment: [String: String]
        public var deleteRequiresOff: Bool
        public var pageLimitDefault: Int
        public var rejectRedundantPowerCalls: Bool
        public var regionSpelling: PaperspaceRegionSpelling
        public var startOnCreateDefault: Bool
        public var rejectAutoShutdownUpdate: Bool
        /// The maximum script text size in UTF-8 bytes.
        public var scriptSizeLimit: Int
        public var logger: Logger

        public init(
            apiKey: String,
            scratchDirectory: String,
            provisioningDelay: Double = 0.5,
            startingDelay: Double = 0.5,
            stoppingDelay: Double = 0.5,
            secondsPerHour: Double = 3600,
            scriptEnvironment: [String: String] = [:],
            deleteRequiresOff: Bool = true,
            pageLimitDefault: Int = 20,
            rejectRedundantPowerCalls: Bool = true,
            regionSpelling: PaperspaceRegionSpelling = .label,
            startOnCreateDefault: Bool = true,
            rejectAutoShutdownUpdate: Bool = true,
            scriptSizeLimit: Int = 16 * 1024,
            logger: Logger = Logger(label: "paperspace-standin", logLevel: .warning)
        ) {
            self.apiKey = apiKey
            self.scratchDirectory = scratchDirectory
            self.provisioningDelay = provisioningDelay
            self.startingDelay = startingDelay
            self.stoppingDelay = stoppingDelay
            self.secondsPerHour = secondsPerHour
            self.scriptEnvironment = scriptEnvironment
            self.deleteRequiresOff = deleteRequiresOff
            self.pageLimitDefault = pageLimitDefault
            self.rejectRedundantPowerCalls = rejectRedundantPowerCalls
            self.regionSpelling = regionSpelling
            self.startOnCreateDefault = startOnCreateDefault
            self.rejectAutoShutdownUpdate = rejectAutoShutdownUpdate
            self.scriptSizeLimit = scriptSizeLimit
            self.logger = logger
        }
    }

    /// Everything the stand-in stores. Guarded by `lock`.
    final class World {
        var machines: [String: MachineRecord] = [:]
        var scripts: [String: ScriptRecord] = [:]
        var events: [String: EventRecord] = [:]
        var requestFaults: [ArmedRequestFault] = []
        var stuckRules: [StuckRule] = []
        var deleteFailuresLeft = 0
        var deleteLag: (seconds: Double, remaining: Int)?
        var requests: [PaperspaceStandInRequest] = []
        var nextSequence = 1
        var stoppedAt: Date?

        func takeSequence() -> Int {
            defer { self.nextSequence += 1 }
            return self.nextSequence
        }
    }

    /// The oldest requests are dropped beyond this many, so a long demo does not grow without bound.
    static let maxRecordedRequests = 10_000
    /// The period of the thread that moves machines through timed states.
    static let tickInterval = 0.01

    let options: Options
    let logger: Logger
    private let lock = NSLock()
    private let world = World()
    private let server = Protected<LoopbackHTTPServer?>(nil)
    private let stopped = Signal()

    public init(options: Options) {
        self.options = options
        self.logger = options.logger
    }

    /// Runs `body` with exclusive access to the stored state.
    func locked<Result>(_ body: (World) throws -> Result) rethrows -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(self.world)
    }

    /// Creates the scratch directory, binds 127.0.0.1 on a free port and starts the state thread. A stand-in
    /// cannot be started again after `stop()`.
    public func start() throws {
        do {
            try FileManager.default.createDirectory(
                atPath: self.options.scratchDirectory,
                withIntermediateDirectories: true
            )
        } catch {
            throw StandInError.setup(
                "cannot create scratch directory \(self.options.scratchDirectory): \(error); choose a writable path"
            )
        }
        let server = LoopbackHTTPServer { [weak self] request in
            guard let self else { return PaperspaceAPIError.internalError("The stand-in is gone.").response }
            return self.respond(to: request)
        }
        try server.start()
        self.server.withLock { $0 = server }
        let thread = Thread { [weak self] in
            while let self, !self.stopped.wait(seconds: PaperspaceStandIn.tickInterval) {
                self.tick(now: Date())
            }
        }
        thread.name = "paperspace-standin-states"
        thread.start()
    }

    /// Stops the server and the state thread and kills the process group of every machine.
    public func stop() {
        self.stopped.raise()
        self.server.current?.stop()
        self.locked { world in
            if world.stoppedAt == nil {
                world.stoppedAt = Date()
            }
            for machine in world.machines.values {
                self.signalGuest(machine, SIGKILL)
                machine.processGroup = nil
            }
        }
    }

    /// The v1 base URL, `http://127.0.0.1:<port>`; clients append `/machines` and the other paths.
    public var baseURL: String {
        self.server.current?.baseURL ?? "http://127.0.0.1:0"
    }

    private var snapshotTime: Date {
        self.world.stoppedAt ?? Date()
    }

    /// The machines not deleted, oldest first.
    public var machines: [PaperspaceStandInMachine] {
        self.locked { world in
            let now = self.snapshotTime
            return world.machines.values.filter { $0.dtDeleted == nil }.sorted { $0.sequence < $1.sequence }
                .map { $0.snapshot(at: now) }
        }
    }

    /// Every machine created since start, deleted ones included, oldest first.
    public var allMachinesEverCreated: [PaperspaceStandInMachine] {
        self.locked { world in
            let now = self.snapshotTime
            return world.machines.values.sorted { $0.sequence < $1.sequence }.map { $0.snapshot(at: now) }
        }
    }

    /// The startup scripts not deleted, oldest first.
    public var startupScripts: [PaperspaceStandInScript] {
        self.locked { world in
            world.scripts.values.filter { $0.dtDeleted == nil }.sorted { $0.sequence < $1.sequence }
                .map(\.snapshot)
        }
    }

    /// The machine-seconds of every machine ever created: the time machines were billed for, summed.
    public var totalMachineSeconds: Double {
        self.allMachinesEverCreated.reduce(0) { $0 + $1.secondsOn }
    }

    /// The requests received, oldest first.
    public var requests: [PaperspaceStandInRequest] {
        self.locked { $0.requests }
    }

    /// Returns the scratch directory of machine `id`, deleted or not, or nil for an unknown id.
    public func machineDirectory(id: String) -> String? {
        self.locked { $0.machines[id]?.directory }
    }

    /// Arms `fault`; `.clear` disarms every fault.
    public func inject(_ fault: PaperspaceFault) {
        self.locked { world in
            switch fault {
            case .status(let code, let retryAfter, let count, let method, let fragment):
                world.requestFaults.append(
                    ArmedRequestFault(
                        action: .status(code: code, retryAfter: retryAfter),
                        remaining: count,
                        method: method,
                        pathContains: fragment
                    )
                )
            case .delay(let seconds, let count, let method, let fragment):
                world.requestFaults.append(
                    ArmedRequestFault(
                        action: .delay(seconds: seconds),
                        remaining: count,
                        method: method,
                        pathContains: fragment
                    )
                )
            case .resetConnection(let count, let method, let fragment):
                world.requestFaults.append(
                    ArmedRequestFault(
                        action: .resetConnection,
                        remaining: count,
                        method: method,
                        pathContains: fragment
                    )
                )
            case .dropResponse(let count, let method, let fragment):
                world.requestFaults.append(
                    ArmedRequestFault(action: .dropResponse, remaining: count, method: method, pathContains: fragment)
                )
            case .stuck(let state, let prefix):
                world.stuckRules.append(StuckRule(state: state, namePrefix: prefix))
            case .deleteFails(let count):
                world.deleteFailuresLeft += count
            case .deleteLags(let seconds, let count):
                world.deleteLag = (seconds, count)
            case .clear:
                world.requestFaults.removeAll()
                world.stuckRules.removeAll()
                world.deleteFailuresLeft = 0
                world.deleteLag = nil
            }
        }
    }

    /// Applies any armed request fault, then authenticates and routes `request`, and records the outcome.
    private func respond(to request: HTTPRequest) -> HTTPResponse {
        let action = self.locked { world -> ArmedRequestFault.Action? in
            guard let index = world.requestFaults.firstIndex(where: { $0.remaining > 0 && $0.matches(request) }) else {
                return nil
            }
            world.requestFaults[index].remaining -= 1
            let action = world.requestFaults[index].action
            if world.requestFaults[index].remaining <= 0 {
                world.requestFaults.remove(at: index)
            }
            return action
        }
        var response: HTTPResponse
        var recordedStatus: Int?
        switch action {
        case .status(let code, let retryAfter):
            response = PaperspaceStandIn.faultResponse(status: code, retryAfter: retryAfter)
            recordedStatus = code
        case .resetConnection:
            response = .resetConnection
        case .delay(let seconds):
            Thread.sleep(forTimeInterval: seconds)
            response = self.authenticateAndRoute(request)
            recordedStatus = response.status
        case .dropResponse:
            _ = self.authenticateAndRoute(request)
            response = .resetConnection
        case nil:
            response = self.authenticateAndRoute(request)
            recordedStatus = response.status
        }
        let record = PaperspaceStandInRequest(
            method: request.method,
            path: request.path,
            query: request.rawQuery,
            body: request.body,
            status: recordedStatus,
            date: Date()
        )
        self.locked { world in
            world.requests.append(record)
            if world.requests.count > PaperspaceStandIn.maxRecordedRequests {
                world.requests.removeFirst(world.requests.count - PaperspaceStandIn.maxRecordedRequests)
            }
        }
        return response
    }

    private static func faultResponse(status: Int, retryAfter: Int?) -> HTTPResponse {
        let headers = retryAfter.map { [("Retry-After", String($0))] } ?? []
        if let code = PaperspaceAPIError.trpcCode(forStatus: status) {
            let message = status == 429 ? "Too many requests. Slow down and try again later." : "Injected failure."
            return .json(status, ["code": code, "message": message], headers: headers)
        }
        return .text(status, HTTPResponse.reasonPhrase(status), headers: headers)
    }

    private func authenticateAndRoute(_ request: HTTPRequest) -> HTTPResponse {
        do {
            try self.authenticate(request)
            return try self.route(request)
        } catch let error as PaperspaceAPIError {
            self.logger.debug(
                "Request rejected",
                metadata: [
                    "http.method": request.method, "http.path": request.path, "http.status": "\(error.status)",
                    "error": error.message,
                ]
            )
            return error.response
        } catch {
            self.logger.error("Stand-in request failed", metadata: ["error": "\(error)", "http.path": request.path])
            return PaperspaceAPIError.internalError("Unexpected error: \(error)").response
        }
    }

    private func authenticate(_ request: HTTPRequest) throws {
        guard let header = request.header("Authorization"), !header.isEmpty else {
            throw PaperspaceAPIError.unauthorized("Missing API key. Send the header `Authorization: Bearer <API key>`.")
        }
        let parts = header.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw PaperspaceAPIError.unauthorized("The Authorization header must use the Bearer scheme.")
        }
        guard parts[1].trimmingCharacters(in: .whitespaces) == self.options.apiKey else {
            throw PaperspaceAPIError.unauthorized("Invalid API key.")
        }
    }
}
