import Support

/// Errors from `RemoteTransfer` and from checking an `SSHDestination`. Each names the value involved and what to
/// do about it; none contains key material, and stderr text passes through `SecretRedactor`.
public enum RemoteTransferError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidDestination(field: String, value: String, reason: String)
    case invalidOption(String, reason: String)
    /// A path given for the remote side cannot be used, such as an empty path.
    case invalidRemotePath(String, reason: String)
    case localFileNotFound(path: String)
    case localDirectoryNotCreated(path: String, detail: String)
    /// `ssh`, `scp` or `rsync` is not installed on this machine.
    case toolNotFound(tool: String)
    /// The server rejected every key offered. `identityFile` is the key that was offered, or nil for ssh's
    /// default keys.
    case permissionDenied(account: String, identityFile: String?, port: Int?)
    /// The host sent a key that differs from the one in the known-hosts file.
    case hostKeyChanged(knownHostsName: String, knownHostsFile: String?)
    /// The host's key is not in the known-hosts file and the policy is `strict`.
    case hostKeyUnknown(knownHostsName: String, knownHostsFile: String?)
    case unknownHost(host: String)
    case connectionRefused(host: String, port: Int?)
    case connectionTimedOut(host: String, port: Int?)
    case hostUnreachable(host: String)
    case remotePathNotFound(path: String, host: String)
    case remotePermissionDenied(path: String, host: String)
    case diskFull(path: String, host: String)
    case rsyncNotFoundOnRemote(host: String)
    case sftpNotAvailable(host: String)
    /// The remote listing could not be read.
    case invalidListing(path: String, detail: String)
    /// A stop signal (SIGINT or SIGTERM) ended the tool before it finished.
    case cancelled(tool: String)
    /// Anything else: the command, its exit status and the last lines of its stderr.
    case commandFailed(operation: String, status: Int32, stderrTail: String)

    public var description: String {
        switch self {
        case .invalidDestination(let field, let value, let reason):
            return "invalid SSH \(field) \(String(reflecting: value)): \(reason)"
        case .invalidOption(let option, let reason):
            return "invalid ssh option \(String(reflecting: option)): \(reason)"
        case .invalidRemotePath(let path, let reason):
            return "invalid remote path \(String(reflecting: path)): \(reason)"
        case .localFileNotFound(let path):
            return "local file \(path) not found; check the path"
        case .localDirectoryNotCreated(let path, let detail):
            return "cannot create the local directory \(path): \(detail); choose a writable directory"
        case .toolNotFound(let tool):
            let package = tool == "rsync" ? "rsync" : "openssh-client"
            return "\(tool) is not installed on this machine; install it with: apt-get install \(package)"
        case .permissionDenied(let account, let identityFile, let port):
            let portOption = port.map { " -p \($0)" } ?? ""
            if let identityFile {
                return "permission denied for \(account): the server did not accept the key \(identityFile). "
                    + "Authorize its public key on the machine, for example with "
                    + "ssh-copy-id -i \(identityFile).pub\(portOption) \(account), or give the key that is authorized"
            }
            return "permission denied for \(account): the server accepted none of ssh's default keys. "
                + "Give the authorized key as the identity file, or authorize yours with "
                + "ssh-copy-id\(portOption) \(account)"
        case .hostKeyChanged(let name, let file):
            let fileOption = file.map { "-f \(shellQuote($0)) " } ?? ""
            return "the host key of \(name) has changed since it was recorded. A new machine that reuses the "
                + "address has a new key; if that is the case, remove the old key with "
                + "ssh-keygen \(fileOption)-R \(shellQuote(name)) and try again. Otherwise do not connect"
        case .hostKeyUnknown(let name, let file):
            let where_ = file ?? "~/.ssh/known_hosts"
            return "the host key of \(name) is not in \(where_) and strict checking is on; add the key (for "
                + "example with ssh-keyscan after checking its fingerprint) or use the accept-new policy"
        case .unknownHost(let host):
            return "cannot resolve the host name \(host); check the spelling or use the machine's IP address"
        case .connectionRefused(let host, let port):
            return "the connection to \(host) port \(port ?? 22) was refused; check that the machine is running "
                + "and that sshd listens on that port"
        case .connectionTimedOut(let host, let port):
            return "the connection to \(host) port \(port ?? 22) timed out; check that the machine is running, "
                + "has a public IP address and that no firewall blocks the port"
        case .hostUnreachable(let host):
            return "\(host) is unreachable from this machine; check the address and the network"
        case .remotePathNotFound(let path, let host):
            return "the remote path \(path) was not found on \(host); list the parent directory to check the name"
        case .remotePermissionDenied(let path, let host):
            return "permission denied for the remote path \(path) on \(host); pick a path the SSH user can write, "
                + "such as /storage/ on Paperspace"
        case .diskFull(let path, let host):
            return "the disk holding \(path) on \(host) is full (or the write failed); free space there, for "
                + "example after checking df -h on the machine"
        case .rsyncNotFoundOnRemote(let host):
            return "rsync is not installed on \(host); install it there (apt-get install rsync) or use scp"
        case .sftpNotAvailable(let host):
            return "\(host) offers no SFTP subsystem, which scp needs; use rsync or enable sftp-server in sshd"
        case .invalidListing(let path, let detail):
            return "cannot read the listing of \(path): \(detail)"
        case .cancelled(let tool):
            return "\(tool) was stopped by a signal before it finished; run the command again, and rsync resumes "
                + "the partial copy"
        case .commandFailed(let operation, let status, let tail):
            let output = tail.isEmpty ? "no error output" : tail
            return "\(operation) failed with exit status \(status): \(output)"
        }
    }
}

/// Maps the exit status and stderr of `ssh`, `scp` or `rsync` to a `RemoteTransferError`.
///
/// The patterns are the messages of OpenSSH 9.2 and rsync 3.5 on Debian, which also appear in older releases.
struct RemoteErrorClassifier {
    let destination: SSHDestination
    /// The remote path the command worked on, for messages about files.
    let remotePath: String
    let operation: String

    /// Lines of stderr kept in the fallback error.
    static let tailLines = 6

    func classify(status: Int32, stderr: String) -> RemoteTransferError {
        let text = stderr
        let host = self.destination.host
        if text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || text.contains("has changed and you have") {
            return .hostKeyChanged(
                knownHostsName: self.destination.knownHostsName,
                knownHostsFile: self.destination.knownHostsFile
            )
        }

        if text.contains("Host key verification failed") {
            return .hostKeyUnknown(
                knownHostsName: self.destination.knownHostsName,
                knownHostsFile: self.destination.knownHostsFile
            )
        }

        if RemoteErrorClassifier.isAuthenticationFailure(text) {
            return .permissionDenied(
                account: self.destination.account,
                identityFile: self.destination.identityFile,
                port: self.destination.port
            )
        }

        if text.contains("Could not resolve hostname") || text.contains("Name or service not known") {
            return .unknownHost(host: host)
        }

        if text.contains("Connection refused") {
            return .connectionRefused(host: host, port: self.destination.port)
        }

        if text.contains("timed out") {
            return .connectionTimedOut(host: host, port: self.destination.port)
        }

        if text.contains("No route to host") || text.contains("Network is unreachable") {
            return .hostUnreachable(host: host)
        }

        if text.contains("subsystem request failed") {
            return .sftpNotAvailable(host: host)
        }

        // A shell that cannot find rsync: bash prints "command not found", dash and BusyBox print "not found", and
        // the local rsync then reports the closed stream.
        if text.contains("rsync: command not found") || text.contains("rsync: not found")
            || (status == 12 && text.contains("remote command not found"))
        {
            return .rsyncNotFoundOnRemote(host: host)
        }

        if text.contains("No space left on device") || text.contains("Disk quota exceeded") {
            return .diskFull(path: self.remotePath, host: host)
        }

        // SFTP reports a failed write as the generic SSH_FX_FAILURE, which is how a full disk shows through scp.
        if text.contains("write remote") && text.contains("Failure") {
            return .diskFull(path: self.remotePath, host: host)
        }

        if text.contains("No such file or directory") {
            return .remotePathNotFound(path: self.remotePath, host: host)
        }

        if text.contains("Permission denied") {
            return .remotePermissionDenied(path: self.remotePath, host: host)
        }

        return .commandFailed(operation: self.operation, status: status, stderrTail: RemoteErrorClassifier.tail(text))
    }

    /// Returns whether ssh failed to log in, as opposed to a file that is not readable ("Permission denied (13)").
    static func isAuthenticationFailure(_ text: String) -> Bool {
        let methods = ["publickey", "password", "keyboard-interactive", "gssapi", "hostbased"]
        return methods.contains { text.contains("Permission denied (\($0)") }
            || text.contains("Too many authentication failures")
    }

    /// Returns the last lines of `text`, with registered secrets removed, on one line each joined by ` | `.
    static func tail(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        let lastLines = lines.suffix(RemoteErrorClassifier.tailLines).joined(separator: " | ")
        return SecretRedactor.shared.redact(String(lastLines.prefix(1000)))
    }
}
