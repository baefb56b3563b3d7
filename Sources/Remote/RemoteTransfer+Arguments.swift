/// The argument vectors of ssh, scp and rsync.
extension RemoteTransfer {
    /// `ssh OPTIONS -- user@host COMMAND`. ssh hands `command` to the remote login shell, so every caller value
    /// inside it must be quoted with `shellQuote`.
    func sshArguments(_ command: String) -> [String] {
        var arguments = ["ssh"] + self.destination.commonOptions
        if let port = self.destination.port {
            arguments += ["-p", "\(port)"]
        }
        return arguments + ["--", self.destination.account, command]
    }

    /// `scp -s -p OPTIONS [-r] -- SOURCES TARGET`: SFTP protocol, times and modes kept, operands after `--`.
    func scpArguments(recursive: Bool, _ sources: [String], _ target: String) -> [String] {
        var arguments = ["scp", "-s", "-p"] + self.destination.commonOptions
        if let port = self.destination.port {
            arguments += ["-P", "\(port)"]
        }
        if recursive {
            arguments.append("-r")
        }
        return arguments + ["--"] + sources + [target]
    }

    /// `rsync -s -rlt --partial-dir=.rsync-partial [--info=progress2] -e SSH -- SOURCES TARGET`.
    ///
    /// `-s` is `--secluded-args` (rsync 3.2.7 and later) or `--protect-args` (3.0 to 3.2.6): the remote paths go
    /// through the rsync protocol instead of the remote shell. A stopped copy stays in `.rsync-partial/` next to
    /// the target, where the next run resumes it, because plain `--partial` gives the partial file the final name.
    func rsyncArguments(progress: Bool, _ sources: [String], _ target: String) -> [String] {
        var arguments = ["rsync", "-s", "-rlt", "--partial-dir=.rsync-partial"]
        if progress {
            arguments += ["--info=progress2", "--no-human-readable"]
        }
        arguments += ["-e", self.rsyncRemoteShell]
        return arguments + ["--"] + sources + [target]
    }

    /// The `-e` command: ssh and its options, each quoted for rsync's own splitter, which honours single and
    /// double quotes (a doubled quote inside quotes is a literal quote) and no backslash escapes.
    var rsyncRemoteShell: String {
        var arguments = ["ssh"] + self.destination.commonOptions
        if let port = self.destination.port {
            arguments += ["-p", "\(port)"]
        }
        return arguments.map(RemoteTransfer.quoteForRsync).joined(separator: " ")
    }

    static func quoteForRsync(_ argument: String) -> String {
        let plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@%+,"
        if !argument.isEmpty, argument.allSatisfy({ plain.contains($0) }) {
            return argument
        }
        return "'" + argument.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
