import Foundation
import Support

/// Finds the Paperspace API key for commands run by hand.
public enum PaperspaceAPIKey {
    /// The environment variable the key is read from when none is given, the same one `pspace` reads.
    public static let environmentVariable = "PAPERSPACE_API_KEY"

    /// Returns `explicit` when given, else `PAPERSPACE_API_KEY` from `environment`, trimmed of whitespace. The key
    /// is registered with `SecretRedactor` so that no log line or error can show it.
    public static func resolve(explicit: String?, environment: [String: String]) throws -> String {
        let key: String
        if let explicit {
            key = explicit.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else {
                throw PaperspaceAPIKeyError.empty(source: "the --api-key value")
            }
        } else if let value = environment[PaperspaceAPIKey.environmentVariable] {
            key = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else {
                throw PaperspaceAPIKeyError.empty(source: PaperspaceAPIKey.environmentVariable)
            }
        } else {
            throw PaperspaceAPIKeyError.missing
        }
        if key.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw PaperspaceAPIKeyError.malformed
        }
        SecretRedactor.shared.register(key)
        return key
    }
}

/// The reason no API key could be found. No case carries the key itself.
public enum PaperspaceAPIKeyError: Error, CustomStringConvertible, Equatable, Sendable {
    case missing
    case empty(source: String)
    /// The key contains whitespace inside it, which no Paperspace key does.
    case malformed

    public var description: String {
        switch self {
        case .missing:
            "no Paperspace API key: set \(PaperspaceAPIKey.environmentVariable) or pass --api-key "
                + "(create a key under Team settings, API keys in the Paperspace console)"
        case .empty(let source):
            "the Paperspace API key in \(source) is empty; set it to the key from the Paperspace console"
        case .malformed:
            "the Paperspace API key contains whitespace; copy the key again without spaces or line breaks"
        }
    }
}
