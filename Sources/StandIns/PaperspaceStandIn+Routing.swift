import Foundation

extension PaperspaceStandIn {
    /// Dispatches an authenticated request on its method and path.
    func route(_ request: HTTPRequest) throws -> HTTPResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let method = request.method.uppercased()
        func unsupported() -> PaperspaceAPIError {
            PaperspaceAPIError(
                status: 405,
                code: "METHOD_NOT_SUPPORTED",
                message: "\(method) is not supported on \(request.path)."
            )
        }
        switch (parts.first, parts.count) {
        case ("machines", 1):
            switch method {
            case "GET": return try self.listMachines(request)
            case "POST": return try self.createMachine(request)
            default: throw unsupported()
            }
        case ("machines", 2):
            switch method {
            case "GET": return try self.getMachine(id: parts[1])
            case "PUT": return try self.updateMachine(id: parts[1], request)
            case "DELETE": return try self.deleteMachine(id: parts[1])
            default: throw unsupported()
            }
        case ("machines", 3) where ["start", "stop", "restart"].contains(parts[2]):
            guard method == "PATCH" else { throw unsupported() }
            return try self.changePower(id: parts[1], action: parts[2], request)
        case ("machine-events", 1):
            guard method == "GET" else { throw unsupported() }
            return try self.listEvents(request)
        case ("machine-events", 2):
            guard method == "GET" else { throw unsupported() }
            return try self.getEvent(id: parts[1])
        case ("machine-availability", 1):
            guard method == "GET" else { throw unsupported() }
            return try self.machineAvailability(request)
        case ("startup-scripts", 1):
            switch method {
            case "GET": return try self.listScripts(request)
            case "POST": return try self.createScript(request)
            default: throw unsupported()
            }
        case ("startup-scripts", 2):
            switch method {
            case "GET": return try self.getScript(id: parts[1])
            case "PUT": return try self.updateScript(id: parts[1], request)
            case "DELETE": return try self.deleteScript(id: parts[1])
            default: throw unsupported()
            }
        case ("startup-scripts", 3) where parts[2] == "assign" || parts[2] == "unassign":
            guard method == "POST" else { throw unsupported() }
            return try self.assignScript(id: parts[1], assign: parts[2] == "assign", request)
        case ("auth", 2) where parts[1] == "session":
            guard method == "GET" else { throw unsupported() }
            return self.session()
        default:
            throw PaperspaceAPIError.notFound("No such endpoint: \(method) \(request.path).")
        }
    }

    /// `GET /machine-availability?machineType&region`: every type is available in every known region.
    private func machineAvailability(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let machineType = request.queryValue("machineType"), !machineType.isEmpty else {
            throw PaperspaceAPIError.badRequest("Invalid input: `machineType` is required.")
        }
        guard let region = request.queryValue("region") else {
            throw PaperspaceAPIError.badRequest("Invalid input: `region` is required.")
        }
        guard PaperspaceRegion(spelling: region) != nil else {
            throw PaperspaceAPIError.badRequest(
                "Invalid input: unknown region \"\(region)\"; use one of \(PaperspaceRegion.acceptedSpellings)."
            )
        }
        return .json(200, ["available": true])
    }

    /// `GET /auth/session`: the user and team that the API key belongs to.
    private func session() -> HTTPResponse {
        let user: [String: Any] = [
            "id": "ustandin1", "email": "standin@example.invalid", "firstName": "Stand", "lastName": "In",
            "teamMemberships": [["teamId": "tstandin1", "isOwner": true, "isAdmin": true]],
        ]
        let team: [String: Any] = ["id": "tstandin1", "namespace": "standin", "isPrivate": true, "maxMachines": 100]
        return .json(200, ["user": user, "team": team])
    }

    /// Returns a random id of `prefix` and `length` lower-case letters and digits, like `psm9u09bwu5i`.
    static func makeID(prefix: String, length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + String((0..<length).map { _ in alphabet.randomElement()! })
    }
}
