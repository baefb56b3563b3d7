import Foundation

/// One file or directory from a Hub repository tree listing.
public struct HubTreeEntry: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case file
        case directory
    }

    public var type: Kind
    /// The path from the repository root, with `/` between components.
    public var path: String
    /// The file size in bytes, the real size for LFS files too; 0 when the listing gives none, as for directories.
    public var size: Int
    /// The git object id: the blob SHA-1 for files (of the pointer for LFS files), the tree SHA-1 for directories.
    public var oid: String
    /// The SHA-256 of the content for files stored with LFS, else nil.
    public var lfsOid: String?

    public init(type: Kind, path: String, size: Int, oid: String, lfsOid: String? = nil) {
        self.type = type
        self.path = path
        self.size = size
        self.oid = oid
        self.lfsOid = lfsOid
    }

    /// Decodes an entry; returns nil when `value` is not an object with a known `type` and a `path`.
    init?(json value: Any) {
        guard let object = value as? [String: Any],
            let typeName = object["type"] as? String,
            let type = Kind(rawValue: typeName),
            let path = object["path"] as? String, !path.isEmpty
        else {
            return nil
        }
        let lfs = object["lfs"] as? [String: Any]
        self.init(
            type: type,
            path: path,
            size: (object["size"] as? NSNumber)?.intValue ?? 0,
            oid: object["oid"] as? String ?? "",
            lfsOid: lfs?["oid"] as? String
        )
    }
}
