import Foundation
import HTTP
import Support

extension PaperspaceClient {
    /// Creates a startup script and returns it.
    ///
    /// The create is never repeated blindly: after a failure that may have landed, the scripts are listed by exact
    /// name and a match is adopted, as `ensureMachine` does. Paperspace never returns script text, so an adopted
    /// script cannot be checked against `script`; give each run's script a unique name. The script text is not
    /// logged, because it may carry credentials.
    public func createStartupScript(name: String, script: String, runOnce: Bool) throws -> StartupScript {
        let operation = "create startup script \(name)"
        if name.trimmingCharacters(in: .whitespaces).isEmpty {
            throw PaperspaceError.invalidRequest(operation: operation, detail: "the script name is empty")
        }
        if script.isEmpty {
            throw PaperspaceError.invalidRequest(operation: operation, detail: "the script text is empty")
        }
        let call = APICall(
            operation: operation,
            method: "POST",
            path: ["startup-scripts"],
            body: ["name": name, "script": script, "isRunOnce": runOnce],
            metadata: ["script.name": name, "script.bytes": "\(script.utf8.count)"]
        )
        let result = try self.createWithoutDuplicates(
            kind: "startup script",
            name: name,
            lookUpFirst: false,
            metadata: ["script.name": name],
            lookUp: { try self.findStartupScript(named: name) },
            post: {
                self.postOnce(call) { response in
                    let created = try self.decodeStartupScript(operation, response)
                    self.logger.info(
                        "Startup script created",
                        metadata: ["script.id": created.id, "script.name": name]
                    )
                    return created
                }
            }
        )
        return result.resource
    }

    /// Returns every startup script that is not marked deleted, following every page; with `name`, only the
    /// scripts named exactly `name`.
    public func listStartupScripts(name: String? = nil) throws -> [StartupScript] {
        let operation = name.map { "list startup scripts named \($0)" } ?? "list startup scripts"
        let query = name.map { [(name: "name", value: $0)] } ?? []
        let items = try self.listAllPages(
            APICall(operation: operation, method: "GET", path: ["startup-scripts"], query: query)
        )
        var scripts: [StartupScript] = []
        for item in items {
            guard let script = StartupScript(json: item) else {
                throw PaperspaceError.invalidResponse(operation: operation, detail: "a list item has no script id")
            }
            if script.isDeleted { continue }
            if let name, script.name != name { continue }
            scripts.append(script)
        }
        return scripts
    }

    /// Deletes the startup script with `id`. A 404 means it is already gone and counts as success.
    public func deleteStartupScript(id: String) throws {
        let call = APICall(
            operation: "delete startup script \(id)",
            method: "DELETE",
            path: ["startup-scripts", id],
            metadata: ["script.id": id]
        )
        let response = try self.send(call, retry: self.retry)
        if response.status == 404 {
            self.logger.info("Startup script was already deleted", metadata: ["script.id": id])
            return
        }
        guard response.isSuccess else {
            throw self.apiError(call.operation, response)
        }
        self.logger.info("Startup script deleted", metadata: ["script.id": id])
    }

    /// Returns the script named exactly `name`, the oldest when several share it, or nil.
    private func findStartupScript(named name: String) throws -> StartupScript? {
        let matches = try self.listStartupScripts(name: name)
        let oldest = matches.min { first, second in
            let firstDate = first.dtCreated ?? .distantFuture
            let secondDate = second.dtCreated ?? .distantFuture
            return firstDate != secondDate ? firstDate < secondDate : first.id < second.id
        }
        if let oldest, matches.count > 1 {
            self.logger.warning(
                "Several startup scripts share one name; adopting the oldest",
                metadata: [
                    "script.name": name, "script.id": oldest.id,
                    "script.ids": matches.map(\.id).joined(separator: ","),
                ]
            )
        }
        return oldest
    }

    private func decodeStartupScript(_ operation: String, _ response: HTTPClientResponse) throws -> StartupScript {
        // The documented response is the bare script; a `data` wrapper like the machine mutations use is accepted.
        let json = response.json
        let wrapped = (json as? [String: Any])?["data"]
        guard let script = StartupScript(json: wrapped) ?? StartupScript(json: json) else {
            throw PaperspaceError.invalidResponse(
                operation: operation,
                detail: "expected a startup script with an id, got: \(self.snippet(response.body))"
            )
        }
        return script
    }
}
