import Foundation

/// A fault that `PaperspaceStandIn.inject(_:)` arms, so tests can see how a client copes with a misbehaving API.
///
/// The counted request faults apply to the next `count` requests whose method equals `method` and whose path
/// contains `pathContains`; nil matches every request. When several armed faults match, the earliest injected
/// one is used first. Faults apply before authentication, as they would at a load balancer in front of the API.
public enum PaperspaceFault: Sendable {
    /// Answers with HTTP status `code` without handling the request. A status with a tRPC code gets the usual
    /// `{code, message}` body; 502, 503 and 504 get a plain-text body, as a proxy would send. `retryAfter`, in
    /// seconds, adds a `Retry-After` header.
    case status(code: Int, retryAfter: Int?, count: Int, method: String?, pathContains: String?)
    /// Waits `seconds` before handling the request.
    case delay(seconds: Double, count: Int, method: String?, pathContains: String?)
    /// Resets the connection without handling the request.
    case resetConnection(count: Int, method: String?, pathContains: String?)
    /// Handles the request and then resets the connection, so the change takes effect but the client never
    /// receives the response (a create whose answer is lost, for example).
    case dropResponse(count: Int, method: String?, pathContains: String?)
    /// Keeps every machine in `state` (`provisioning`, `starting`, `stopping`, `restarting` or `ready`) whose
    /// name starts with `machineNamePrefix` (nil matches all) until `.clear`. Power calls on such a machine are
    /// accepted as usual, but their effect waits until the fault is cleared.
    case stuck(state: String, machineNamePrefix: String?)
    /// Makes the next `count` calls of `DELETE /machines/{id}` answer 500 INTERNAL_SERVER_ERROR without deleting.
    case deleteFails(count: Int)
    /// Makes the next `count` calls of `DELETE /machines/{id}` on an `off` machine answer 200 with a `deactivate`
    /// event in progress, while the machine stays listed, and readable by id, for `seconds` more. The API returns
    /// an event for a delete, so a delete that completes later is plausible, but its timing is not documented.
    case deleteLags(seconds: Double, count: Int)
    /// Removes every armed fault and releases stuck machines.
    case clear
}

/// A counted request fault with the number of matching requests it still applies to.
struct ArmedRequestFault {
    enum Action {
        case status(code: Int, retryAfter: Int?)
        case delay(seconds: Double)
        case resetConnection
        case dropResponse
    }

    var action: Action
    var remaining: Int
    var method: String?
    var pathContains: String?

    func matches(_ request: HTTPRequest) -> Bool {
        if let method = self.method, method.uppercased() != request.method.uppercased() {
            return false
        }
        if let fragment = self.pathContains, !request.path.contains(fragment) {
            return false
        }
        return true
    }
}

/// A `.stuck` fault: machines in `state` whose name starts with `namePrefix` make no state change.
struct StuckRule {
    var state: String
    var namePrefix: String?

    func applies(to machine: MachineRecord) -> Bool {
        guard machine.state.rawValue == self.state else { return false }
        guard let prefix = self.namePrefix else { return true }
        return machine.name.hasPrefix(prefix)
    }
}
