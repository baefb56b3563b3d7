import CCrypto
import Foundation

/// SHA-256, SHA-1 and HMAC-SHA256 through OpenSSL's libcrypto.
public enum Digest {
    /// Returns the SHA-256 digest of `data`.
    public static func sha256(_ data: some DataProtocol) -> [UInt8] {
        var hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalize()
    }

    /// Returns the SHA-1 digest of `data`. Git names its objects by SHA-1, so this is for object ids, not security.
    public static func sha1(_ data: some DataProtocol) -> [UInt8] {
        var hasher = SHA1Hasher()
        hasher.update(data)
        return hasher.finalize()
    }

    /// Returns the HMAC-SHA256 of `message` keyed with `key`.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                HMAC(
                    EVP_sha256(),
                    keyBuffer.baseAddress,
                    Int32(keyBuffer.count),
                    messageBuffer.baseAddress,
                    messageBuffer.count,
                    &output,
                    &length
                )
            }
        }
        return Array(output.prefix(Int(length)))
    }

    /// Returns `count` cryptographically random bytes.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        _ = RAND_bytes(&bytes, Int32(count))
        return bytes
    }
}

/// An incremental digest on an OpenSSL message digest context, the shared part of `SHA256Hasher` and `SHA1Hasher`.
struct EVPHasher: ~Copyable {
    private let context: OpaquePointer

    init(_ algorithm: OpaquePointer?) {
        self.context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(self.context, algorithm, nil)
    }

    mutating func update(_ data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { buffer in
                _ = EVP_DigestUpdate(self.context, buffer.baseAddress, buffer.count)
            }
        }
    }

    mutating func update(bytes: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(self.context, bytes.baseAddress, bytes.count)
    }

    consuming func finalize() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(self.context, &output, &length)
        return Array(output.prefix(Int(length)))
    }

    deinit {
        EVP_MD_CTX_free(self.context)
    }
}

/// An incremental SHA-256, so large files can be hashed in bounded memory.
public struct SHA256Hasher: ~Copyable {
    private var hasher = EVPHasher(EVP_sha256())

    public init() {}

    public mutating func update(_ data: some DataProtocol) {
        self.hasher.update(data)
    }

    public mutating func update(bytes: UnsafeRawBufferPointer) {
        self.hasher.update(bytes: bytes)
    }

    public consuming func finalize() -> [UInt8] {
        self.hasher.finalize()
    }
}

/// An incremental SHA-1, for Git blob ids of files too large to hold in memory. Not for security.
public struct SHA1Hasher: ~Copyable {
    private var hasher = EVPHasher(EVP_sha1())

    public init() {}

    public mutating func update(_ data: some DataProtocol) {
        self.hasher.update(data)
    }

    public mutating func update(bytes: UnsafeRawBufferPointer) {
        self.hasher.update(bytes: bytes)
    }

    public consuming func finalize() -> [UInt8] {
        self.hasher.finalize()
    }
}

extension Sequence where Element == UInt8 {
    /// The bytes as lowercase hexadecimal.
    public var hexString: String {
        self.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
    }
}
