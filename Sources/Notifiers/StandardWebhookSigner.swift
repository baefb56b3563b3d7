import Foundation
import Support

/// Signs webhook deliveries as Standard Webhooks 1.0 describes for symmetric keys.
///
/// The signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`, the MAC is HMAC-SHA256, and the header
/// value is `v1,<base64 MAC>`. A secret of the form `whsec_<base64>` is decoded to its key bytes, as the
/// specification serializes secrets. Any other secret is used as its UTF-8 bytes, for receivers that were given a
/// plain shared string.
public struct StandardWebhookSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The prefix that marks a base64-encoded Standard Webhooks secret.
    public static let secretPrefix = "whsec_"

    private let key: [UInt8]

    /// Creates a signer for `secret`, or throws `NotifierError.invalidSettings` when the secret is empty or a
    /// `whsec_` secret is not valid base64. `notifier` names the notifier in that error; the secret never appears.
    public init(secret: String, notifier: String) throws {
        self.key = try StandardWebhookSigner.decodeKey(secret, notifier: notifier)
    }

    /// Returns the key bytes of `secret`. Padding may be left off a `whsec_` value.
    static func decodeKey(_ secret: String, notifier: String) throws -> [UInt8] {
        guard secret.hasPrefix(StandardWebhookSigner.secretPrefix) else {
            guard !secret.isEmpty else {
                throw NotifierError.invalidSettings(
                    notifier: notifier,
                    problem: "the signing secret is empty",
                    fix: "Set secret to a random value of at least 24 bytes, or remove it to send unsigned."
                )
            }
            return Array(secret.utf8)
        }
        var encoded = String(secret.dropFirst(StandardWebhookSigner.secretPrefix.count))
        encoded += String(repeating: "=", count: (4 - encoded.count % 4) % 4)
        guard let key = Data(base64Encoded: encoded), !key.isEmpty else {
            throw NotifierError.invalidSettings(
                notifier: notifier,
                problem: "the signing secret starts with whsec_ but the rest is not valid base64",
                fix: "Copy the whole secret again, or remove the whsec_ prefix to use the text itself as the key."
            )
        }
        return Array(key)
    }

    /// Returns the `webhook-signature` header value for one attempt.
    public func signature(id: String, timestamp: Int, body: Data) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = Digest.hmacSHA256(key: self.key, message: message)
        return "v1," + Data(mac).base64EncodedString()
    }

    public var description: String { "StandardWebhookSigner([REDACTED])" }
    public var debugDescription: String { self.description }
}
