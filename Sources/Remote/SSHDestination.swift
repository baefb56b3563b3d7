/// An SSH account to copy files to and from: host, user, port, key and the client settings that OpenSSH gets.
///
/// Every value is checked when the destination is made, because each one ends up in an argument vector of `ssh`,
/// `scp` or `rsync`: a host or user that begins with `-` would be read as an option.
public struct SSHDestination: Sendable, Equatable {
    /// A host name, an IPv4 address or an IPv6 address (without brackets).
    public let host: String
    public let user: String
    /// The TCP port, or nil for the port that ssh picks (22 unless an ssh config file sets another).
    public let port: Int?
    /// The private key passed with `-i`; with it, `IdentitiesOnly=yes` keeps ssh from offering other keys.
    public let identityFile: String?
    /// The known-hosts file, or nil for ssh's default (`~/.ssh/known_hosts`).
    public let knownHostsFile: String?
    /// The ssh config file passed with `-F`, or nil for ssh's default. Tests pass `/dev/null`.
    public let configFile: String?
    public let hostKeyPolicy: HostKeyPolicy
    /// Extra `-o` options, each from `SSHOption.allowedNames`.
    public let options: [SSHOption]
    /// Seconds ssh waits for the TCP connection and the SSH banner.
    public let connectTimeout: Int

    /// The directory uploads go to when no remote path is given: the persistent storage of a Paperspace machine.
    public static let defaultRemoteDirectory = "/storage/"

    /// Seconds between keepalive probes; with `ServerAliveCountMax=4` a dead connection fails after about a minute.
    static let serverAliveInterval = 15

    public init(
        host: String,
        user: String,
        port: Int? = nil,
        identityFile: String? = nil,
        knownHostsFile: String? = nil,
        configFile: String? = nil,
        hostKeyPolicy: HostKeyPolicy = .acceptNew,
        options: [SSHOption] = [],
        connectTimeout: Int = 15
    ) throws {
        try SSHDestination.validateHost(host)
        try SSHDestination.validateUser(user)
        if let port, !(1...65535).contains(port) {
            throw RemoteTransferError.invalidDestination(
                field: "port",
                value: "\(port)",
                reason: "a TCP port is 1 to 65535"
            )
        }
        for (field, path) in [
            ("identity file", identityFile), ("known hosts file", knownHostsFile),
            ("config file", configFile),
        ] {
            guard let path else { continue }
            if path.isEmpty || path.hasPrefix("-") || path.contains(where: \.isNewline) {
                throw RemoteTransferError.invalidDestination(
                    field: field,
                    value: path,
                    reason: "give a non-empty path that does not begin with - and has no line break"
                )
            }
        }
        if !(1...600).contains(connectTimeout) {
            throw RemoteTransferError.invalidDestination(
                field: "connect timeout",
                value: "\(connectTimeout)",
                reason: "give 1 to 600 seconds"
            )
        }
        let names = options.map { $0.name.lowercased() }
        if Set(names).count != names.count {
            throw RemoteTransferError.invalidOption(
                "\(options.map(\.text).joined(separator: " "))",
                reason: "an option is given twice; keep one of each"
            )
        }
        self.host = host
        self.user = user
        self.port = port
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
        self.configFile = configFile
        self.hostKeyPolicy = hostKeyPolicy
        self.options = options
        self.connectTimeout = connectTimeout
    }

    /// `user@host` for ssh, with an IPv6 address in brackets as scp and rsync require.
    var account: String {
        "\(self.user)@\(self.bracketedHost)"
    }

    var bracketedHost: String {
        self.host.contains(":") ? "[\(self.host)]" : self.host
    }

    /// The name ssh files the host key under in known_hosts: `host`, or `[host]:port` for a port other than 22.
    var knownHostsName: String {
        guard let port, port != 22 else { return self.host }
        return "[\(self.host)]:\(port)"
    }

    /// The options every ssh, scp and rsync run gets, without `-p`/`-P`, which scp spells differently.
    var commonOptions: [String] {
        var arguments: [String] = []
        if let configFile {
            arguments += ["-F", configFile]
        }
        arguments += [
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=\(self.connectTimeout)",
            "-o", "ServerAliveInterval=\(SSHDestination.serverAliveInterval)",
            "-o", "ServerAliveCountMax=4",
            "-o", "StrictHostKeyChecking=\(self.hostKeyPolicy.optionValue)",
            // ERROR keeps "Permanently added ... to the list of known hosts" out of the output but still reports
            // changed host keys and authentication failures.
            "-o", "LogLevel=ERROR",
        ]
        if let knownHostsFile {
            arguments += ["-o", "UserKnownHostsFile=\(knownHostsFile)"]
        }
        if let identityFile {
            arguments += ["-i", identityFile, "-o", "IdentitiesOnly=yes"]
        }
        for option in self.options {
            arguments += ["-o", option.text]
        }
        return arguments
    }

    private static func validateHost(_ host: String) throws {
        func reject(_ reason: String) -> RemoteTransferError {
            .invalidDestination(field: "host", value: host, reason: reason)
        }
        if host.isEmpty {
            throw reject("the host is empty; give a host name or an IP address")
        }
        if host.hasPrefix("-") {
            throw reject("a host that begins with - would be read as an ssh option")
        }
        if host.hasPrefix("[") || host.hasSuffix("]") {
            throw reject("give an IPv6 address without brackets")
        }
        let allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%"
        if let bad = host.first(where: { !allowed.contains($0) }) {
            throw reject("the character \(String(reflecting: String(bad))) cannot be part of a host name or address")
        }
    }

    private static func validateUser(_ user: String) throws {
        func reject(_ reason: String) -> RemoteTransferError {
            .invalidDestination(field: "user", value: user, reason: reason)
        }
        if user.isEmpty {
            throw reject("the user is empty; Paperspace machines use paperspace")
        }
        if user.hasPrefix("-") {
            throw reject("a user that begins with - would be read as an ssh option")
        }
        let allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"
        if let bad = user.first(where: { !allowed.contains($0) }) {
            throw reject("the character \(String(reflecting: String(bad))) cannot be part of a user name here")
        }
    }
}

/// The host key policy: how ssh treats a host key it has not seen before. Checking is never turned off.
public enum HostKeyPolicy: Sendable, Equatable {
    /// Record a new host's key and connect, but fail on a key that differs from the recorded one. This is the
    /// default because every new Paperspace machine has a host key that no known_hosts file has yet.
    case acceptNew
    /// Connect only to hosts whose key is already in the known-hosts file.
    case strict

    var optionValue: String {
        switch self {
        case .acceptNew: "accept-new"
        case .strict: "yes"
        }
    }
}
