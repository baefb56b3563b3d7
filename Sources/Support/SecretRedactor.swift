import Foundation

/// A process-wide registry of secret values that must never appear in logs, errors or notifications.
///
/// Every credential the config loader resolves is registered here, and every log line passes through
/// `redact(_:)`. This is a second line of defence: code should not put secrets into messages in the first place.
public final class SecretRedactor: @unchecked Sendable {
    public static let shared = SecretRedactor()

    private let lock = NSLock()
    private var secrets: Set<String> = []

    public init() {}

    /// Registers `secret`; values shorter than 6 characters are ignored because redacting them would mangle
    /// ordinary text.
    public func register(_ secret: String) {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count >= 6 else { return }
        self.lock.lock()
        self.secrets.insert(trimmed)
        self.lock.unlock()
    }

    /// Returns `text` with every registered secret replaced by `[REDACTED]`.
    public func redact(_ text: String) -> String {
        self.lock.lock()
        let current = self.secrets
        self.lock.unlock()
        guard !current.isEmpty else { return text }
        var result = text
        // Longer secrets go first, so a secret that contains another is replaced whole.
        for secret in current.sorted(by: { $0.count > $1.count }) where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "[REDACTED]")
        }
        return result
    }
}

/// Returns `url` with its path, query and user info replaced, keeping only scheme, host and port.
///
/// Webhook URLs carry their secret in the path (Slack, Discord) or query, so only the origin is safe to show.
public func redactedURL(_ url: String) -> String {
    guard let components = URLComponents(string: url), let host = components.host else {
        return "[REDACTED URL]"
    }
    var origin = "\(components.scheme ?? "https")://\(host)"
    if let port = components.port {
        origin += ":\(port)"
    }
    return origin + "/[REDACTED]"
}
