import Foundation

/// One entry of a remote directory listing.
public struct RemoteEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case file, directory, symlink
        /// A socket, pipe or device.
        case other
    }

    /// The name inside the listed directory, without a path.
    public var name: String
    /// The size in bytes, as `lstat` reports it (for a symlink, the length of its target path).
    public var size: Int64
    public var kind: Kind
    /// The modification time, to the second or finer.
    public var modified: Date

    public init(name: String, size: Int64, kind: Kind, modified: Date) {
        self.name = name
        self.size = size
        self.kind = kind
        self.modified = modified
    }
}
