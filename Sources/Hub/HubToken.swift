import Foundation

/// Finds the Hub token and endpoint the way the `hf` CLI and `huggingface_hub` 2.4.0 do.
///
/// Token order: the explicit value (`--token`), `HF_TOKEN`, the legacy `HUGGING_FACE_HUB_TOKEN`, then the file
/// at `HF_TOKEN_PATH`, else `$HF_HOME/token`. `HF_HOME` defaults to `$XDG_CACHE_HOME/huggingface`, else
/// `~/.cache/huggingface`, as `huggingface_hub/constants.py` 2.4.0 computes it. Empty values count as absent, and
/// surrounding whitespace is removed from every source.
public enum HubToken {
    /// Returns the first token found, or nil when there is none.
    public static func resolve(explicit: String?, environment: [String: String]) -> String? {
        for candidate in [explicit, environment["HF_TOKEN"], environment["HUGGING_FACE_HUB_TOKEN"]] {
            if let token = candidate?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty {
                return token
            }
        }
        let path = self.tokenFilePath(environment: environment)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// Returns the token file path: `HF_TOKEN_PATH`, else `token` inside the Hub home directory.
    public static func tokenFilePath(environment: [String: String]) -> String {
        if let path = environment["HF_TOKEN_PATH"], !path.isEmpty {
            return self.expandingHome(path, environment: environment)
        }
        return self.homeDirectory(environment: environment) + "/token"
    }

    /// Returns the Hub home directory: `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
    public static func homeDirectory(environment: [String: String]) -> String {
        if let home = environment["HF_HOME"], !home.isEmpty {
            return self.expandingHome(home, environment: environment)
        }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty {
            return self.expandingHome(cache, environment: environment) + "/huggingface"
        }
        return self.userHome(environment) + "/.cache/huggingface"
    }

    /// Returns `HF_ENDPOINT` without trailing slashes, else `https://huggingface.co`.
    public static func endpoint(environment: [String: String]) -> String {
        var endpoint = environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
        while endpoint.hasSuffix("/") {
            endpoint.removeLast()
        }
        return endpoint
    }

    private static func userHome(_ environment: [String: String]) -> String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    private static func expandingHome(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return self.userHome(environment) + path.dropFirst()
    }
}
