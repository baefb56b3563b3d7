import Foundation
import HTTP
import Support

/// A blocking client for the Paperspace v1 machine and startup-script API.
///
/// Every call runs on the calling thread. Reads, stops and deletes are retried as `retry` allows. The API has no
/// idempotency key, so a create is sent once per attempt and is repeated only after a lookup by name shows that
/// the earlier attempt did not land. Every request is logged at debug level with its operation and ids, never
/// with the API key.
public final class PaperspaceClient: Sendable {
    /// The API base URL without a trailing slash, for example `https://api.paperspace.com/v1`.
    public let endpoint: String
    /// Sent only in the Authorization header; `redact` removes it from any text that leaves the client.
    let apiKey: String
    let http: HTTPClient
    let logger: Logger
    /// The policy for idempotent calls, and the attempt limit and backoff for create-then-look-up loops.
    public let retry: RetryPolicy

    /// The largest page size the list endpoints accept.
    static let pageSize = 120
    /// A bound on pages per listing, so a server that keeps returning new cursors cannot loop forever.
    static let maxPages = 1000

    public init(endpoint: String, apiKey: String, http: HTTPClient, logger: Logger, retry: RetryPolicy = .standard) {
        var trimmed = endpoint
        while trimmed.hasSuffix("/") {
            trimmed.removeLast()
        }
        self.endpoint = trimmed
        self.apiKey = apiKey
        self.http = http
        self.logger = logger
        self.retry = retry
    }

    // MARK: - Machines

    /// Returns the machine with `id`, or nil when Paperspace returns 404 or marks the machine deleted.
    public func getMachine(id: String) throws -> Machine? {
        let call = APICall(
            operation: "get machine \(id)",
            method: "GET",
            path: ["machines", id],
            metadata: ["machine.id": id]
        )
        let response = try self.send(call, retry: self.retry)
        if response.status == 404 {
            return nil
        }
        guard response.isSuccess else {
            throw self.apiError(call.operation, response)
        }
        let machine = try self.decodeMachine(call.operation, response)
        if machine.isDeleted {
            self.logger.debug("Machine is marked deleted", metadata: ["machine.id": id])
            return nil
        }
        return machine
    }

    /// Returns every machine that is not marked deleted, following every page.
    ///
    /// With `name`, only machines whose name is exactly `name` are returned. The name is also sent as a filter,
    /// but the API does not document whether that filter matches exactly, so the result is filtered again here.
    public func listMachines(name: String? = nil) throws -> [Machine] {
        let operation = name.map { "list machines named \($0)" } ?? "list machines"
        let query = name.map { [(name: "name", value: $0)] } ?? []
        let items = try self.listAllPages(
            APICall(operation: operation, method: "GET", path: ["machines"], query: query, metadata: [:])
        )
        var machines: [Machine] = []
        for item in items {
            guard let machine = Machine(json: item) else {
                throw PaperspaceError.invalidResponse(operation: operation, detail: "a list item has no machine id")
            }
            if machine.isDeleted { continue }
            if let name, machine.name != name { continue }
            machines.append(machine)
        }
        return machines
    }

    /// Sends one `POST /machines` and returns the new machine.
    ///
    /// The request is never retried, because a create whose response was lost may still have made a machine.
    /// Use `ensureMachine` for a create that recovers from that case.
    public func createMachine(_ request: MachineCreateRequest) throws -> Machine {
        let operation = "create machine \(request.name)"
        if let problem = request.validationProblem {
            throw PaperspaceError.invalidRequest(operation: operation, detail: problem)
        }
        switch self.postMachine(request) {
        case .created(let machine):
            return machine
        case .failed(let failure):
            throw failure.error
        }
    }

    /// Returns the machine named `request.name`, creating it only when no such machine exists.
    ///
    /// Before every `POST` the machines are listed by exact name and a match is adopted. A create that failed
    /// with a transport error, 429, 5xx or an unreadable success body may still have landed, so another lookup
    /// follows at once. Only when it finds nothing does the client wait with backoff and post again, up to
    /// `retry.maxAttempts` posts. When several machines share the name, the oldest is adopted and a warning lists
    /// every id. `created` is true when this call sent the `POST` that made the machine, including a create whose
    /// response was lost.
    public func ensureMachine(_ request: MachineCreateRequest) throws -> (machine: Machine, created: Bool) {
        let operation = "create machine \(request.name)"
        if let problem = request.validationProblem {
            throw PaperspaceError.invalidRequest(operation: operation, detail: problem)
        }
        let result = try self.createWithoutDuplicates(
            kind: "machine",
            name: request.name,
            lookUpFirst: true,
            metadata: ["machine.name": request.name],
            lookUp: { try self.findMachine(named: request.name) },
            post: { self.postMachine(request) }
        )
        return (result.resource, result.created)
    }

    /// Asks Paperspace to stop the machine with `id`.
    ///
    /// `PATCH /machines/{id}/stop` is sent without a body. Paperspace rejects a stop when the machine is not
    /// running, with a status the API does not document (observed: 400 `BAD_REQUEST`). A 400, 409, 412 or 422 is
    /// therefore treated as success only when a `GET` then shows the machine `off` or `stopping`. Throws
    /// `PaperspaceError.notFound` when the machine does not exist.
    public func stopMachine(id: String) throws {
        let call = APICall(
            operation: "stop machine \(id)",
            method: "PATCH",
            path: ["machines", id, "stop"],
            metadata: ["machine.id": id]
        )
        let response = try self.send(call, retry: self.retry)
        if response.isSuccess {
            self.logger.info("Machine stop requested", metadata: ["machine.id": id])
            return
        }
        if response.status == 404 {
            throw PaperspaceError.notFound(operation: call.operation, id: id)
        }
        let rejection = self.apiError(call.operation, response)
        guard [400, 409, 412, 422].contains(response.status) else {
            throw rejection
        }
        guard let machine = try self.getMachine(id: id) else {
            throw PaperspaceError.notFound(operation: call.operation, id: id)
        }
        guard machine.state.isOffOrStopping else {
            throw rejection
        }
        self.logger.info(
            "Machine is already off or stopping",
            metadata: ["machine.id": id, "machine.state": machine.state.description]
        )
    }

    /// Deletes the machine with `id`. A 404 means the machine is already gone and counts as success.
    ///
    /// Paperspace documents that a machine must be off before it is deleted, so stop it and wait for `off` first.
    public func deleteMachine(id: String) throws {
        let call = APICall(
            operation: "delete machine \(id)",
            method: "DELETE",
            path: ["machines", id],
            metadata: ["machine.id": id]
        )
        let response = try self.send(call, retry: self.retry)
        if response.status == 404 {
            self.logger.info("Machine was already deleted", metadata: ["machine.id": id])
            return
        }
        guard response.isSuccess else {
            throw self.apiError(call.operation, response)
        }
        self.logger.info("Machine deleted", metadata: ["machine.id": id])
    }

    /// Returns the machine named exactly `name`, the oldest when several share it, or nil.
    private func findMachine(named name: String) throws -> Machine? {
        let matches = try self.listMachines(name: name)
        guard let oldest = matches.min(by: PaperspaceClient.isOlder) else { return nil }
        if matches.count > 1 {
            self.logger.warning(
                "Several machines share one name; adopting the oldest",
                metadata: [
                    "machine.name": name, "machine.id": oldest.id,
                    "machine.ids": matches.map(\.id).joined(separator: ","),
                ]
            )
        }
        return oldest
    }

    /// Orders by creation time, machines without one last, then by id so the choice is stable.
    private static func isOlder(_ first: Machine, _ second: Machine) -> Bool {
        let firstDate = first.dtCreated ?? .distantFuture
        let secondDate = second.dtCreated ?? .distantFuture
        if firstDate != secondDate {
            return firstDate < secondDate
        }
        return first.id < second.id
    }

    /// Sends exactly one create and sorts the result into what `createWithoutDuplicates` needs to decide.
    private func postMachine(_ request: MachineCreateRequest) -> CreateOutcome<Machine> {
        let call = APICall(
            operation: "create machine \(request.name)",
            method: "POST",
            path: ["machines"],
            body: request.body,
            metadata: ["machine.name": request.name, "machine.type": request.machineType]
        )
        return self.postOnce(call) { response in
            let machine = try self.decodeMachine(call.operation, response)
            self.logger.info(
                "Machine created",
                metadata: [
                    "machine.id": machine.id, "machine.name": machine.name, "machine.state": machine.state.description,
                ]
            )
            return machine
        }
    }

    private func decodeMachine(_ operation: String, _ response: HTTPClientResponse) throws -> Machine {
        // Mutations wrap the machine in `data`; GET returns it bare.
        let json = response.json
        let wrapped = (json as? [String: Any])?["data"]
        guard let machine = Machine(json: wrapped) ?? Machine(json: json) else {
            throw PaperspaceError.invalidResponse(
                operation: operation,
                detail: "expected a machine object with an id, got: \(self.snippet(response.body))"
            )
        }
        return machine
    }
}
