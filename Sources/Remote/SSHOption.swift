import Foundation

/// One extra `-o Name=value` option for ssh, limited to options that cannot run commands, turn off host key
/// checking or change which account is used.
public struct SSHOption: Sendable, Equatable {
    /// The option name as `allowedNames` spells it.
    public let name: String
    public let value: String

    /// The options that may be passed, with the values each accepts. `ProxyCommand`, `LocalCommand`,
    /// `StrictHostKeyChecking`, `User`, `Port` and the like are left out on purpose: they run programs, weaken host
    /// key checking or duplicate a field of `SSHDestination`.
    public static let allowedNames: [String: AllowedValues] = [
        "AddressFamily": .oneOf(["any", "inet", "inet6"]),
        "Compression": .oneOf(["yes", "no"]),
        "ConnectionAttempts": .count,
        "HostKeyAlias": .word,
        "IPQoS": .word,
        "ServerAliveCountMax": .count,
    ]

    /// The values one option accepts.
    public enum AllowedValues: Sendable, Equatable {
        case oneOf([String])
        /// A whole number from 1 to 100.
        case count
        /// Letters, digits and `.`, `_`, `-`, `:`, not starting with `-`.
        case word
    }

    /// Creates an option; the name is matched without regard to case, as ssh does.
    public init(name: String, value: String) throws {
        guard let known = SSHOption.allowedNames.keys.first(where: { $0.lowercased() == name.lowercased() }) else {
            let names = SSHOption.allowedNames.keys.sorted().joined(separator: ", ")
            throw RemoteTransferError.invalidOption(
                "\(name)=\(value)",
                reason: "\(name) is not an allowed ssh option; allowed are \(names)"
            )
        }
        let accepted = SSHOption.allowedNames[known]!
        if let problem = SSHOption.problem(value, accepted) {
            throw RemoteTransferError.invalidOption("\(name)=\(value)", reason: problem)
        }
        self.name = known
        self.value = value
    }

    /// Parses `Name=value` or `Name value`, the two forms ssh accepts after `-o`.
    public init(parsing text: String) throws {
        let separator = text.firstIndex { $0 == "=" || $0 == " " }
        guard let separator else {
            throw RemoteTransferError.invalidOption(text, reason: "write the option as Name=value")
        }
        let name = String(text[..<separator]).trimmingCharacters(in: .whitespaces)
        let value = String(text[text.index(after: separator)...]).trimmingCharacters(in: .whitespaces)
        try self.init(name: name, value: value)
    }

    /// The option as ssh reads it after `-o`.
    var text: String { "\(self.name)=\(self.value)" }

    private static func problem(_ value: String, _ accepted: AllowedValues) -> String? {
        switch accepted {
        case .oneOf(let values):
            return values.contains(value.lowercased())
                ? nil : "the value must be one of \(values.joined(separator: ", "))"
        case .count:
            guard let number = Int(value), (1...100).contains(number) else {
                return "the value must be a whole number from 1 to 100"
            }
            return nil
        case .word:
            let allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:"
            if value.isEmpty || value.hasPrefix("-") || !value.allSatisfy({ allowed.contains($0) }) {
                return "the value must be letters, digits, ., _, - or :, and must not begin with -"
            }
            return nil
        }
    }
}
