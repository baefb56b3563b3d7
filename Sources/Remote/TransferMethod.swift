/// The program that copies files over SSH.
public enum TransferMethod: String, Sendable, CaseIterable, CustomStringConvertible {
    /// OpenSSH's scp over the SFTP protocol (`scp -s`). Needs only an SFTP server on the remote side.
    case scp
    /// rsync over ssh. Needs rsync on both sides, resumes partial files and reports progress as it goes.
    case rsync

    /// Parses `scp` or `rsync`, without regard to case.
    public init?(name: String) {
        self.init(rawValue: name.lowercased())
    }

    public var description: String { self.rawValue }
}
