import Foundation

/// Discord's execute-webhook endpoint, `POST /api/webhooks/<id>/<token>[?wait=true]`, as a stand-in applies it.
///
/// It checks the documented limits. `content` has up to 2000 characters and a message up to 10 embeds. Each embed has a
/// title up to 256, a description up to 4096, up to 25 fields with a non-empty name up to 256 and value up to 1024, and
/// a footer up to 2048. All embeds together have at most 6000 characters. It answers 204, or 200 with the message with
/// `wait=true`, and rate limits with 429, JSON `retry_after` in seconds and `Retry-After`.
public struct DiscordWebhookRules: ChatServiceRules {
    public let webhookId: String
    public let token: String

    public init(webhookId: String = "1234567890", token: String = "discordWebhookTokenABC") {
        self.webhookId = webhookId
        self.token = token
    }

    /// Returns the webhook's URL on `receiver`.
    public func url(on receiver: ChatServiceReceiver) -> String {
        "\(receiver.baseURL)/api/webhooks/\(self.webhookId)/\(self.token)"
    }

    private static func length(_ value: Any?) -> Int {
        (value as? String)?.unicodeScalars.count ?? 0
    }

    private static func invalid(_ field: String, _ message: String) -> HTTPResponse {
        .json(
            400,
            ["code": 50035, "message": "Invalid Form Body", "errors": [field: ["_errors": [["message": message]]]]]
        )
    }

    public func check(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.method == "POST" else {
            return .json(405, ["message": "405: Method Not Allowed", "code": 0])
        }
        guard request.path == "/api/webhooks/\(self.webhookId)/\(self.token)" else {
            return .json(404, ["message": "Unknown Webhook", "code": 10015])
        }
        guard request.header("Content-Type")?.hasPrefix("application/json") == true,
            let body = request.jsonBody as? [String: Any]
        else {
            return .json(400, ["message": "Cannot send an empty message", "code": 50006])
        }

        let content = DiscordWebhookRules.length(body["content"])
        if content > 2000 {
            return DiscordWebhookRules.invalid("content", "Must be 2000 or fewer in length.")
        }
        let embeds = body["embeds"] as? [[String: Any]] ?? []
        if content == 0 && embeds.isEmpty {
            return .json(400, ["message": "Cannot send an empty message", "code": 50006])
        }
        if embeds.count > 10 {
            return DiscordWebhookRules.invalid("embeds", "Must be 10 or fewer in length.")
        }

        var total = 0
        for embed in embeds {
            let title = DiscordWebhookRules.length(embed["title"])
            let description = DiscordWebhookRules.length(embed["description"])
            let footer = DiscordWebhookRules.length((embed["footer"] as? [String: Any])?["text"])
            if title > 256 { return DiscordWebhookRules.invalid("embeds.title", "Must be 256 or fewer in length.") }
            if description > 4096 {
                return DiscordWebhookRules.invalid("embeds.description", "Must be 4096 or fewer in length.")
            }
            if footer > 2048 { return DiscordWebhookRules.invalid("embeds.footer", "Must be 2048 or fewer in length.") }
            total += title + description + footer
            let fields = embed["fields"] as? [[String: Any]] ?? []
            if fields.count > 25 {
                return DiscordWebhookRules.invalid("embeds.fields", "Must be 25 or fewer in length.")
            }
            for field in fields {
                let name = DiscordWebhookRules.length(field["name"])
                let value = DiscordWebhookRules.length(field["value"])
                if name == 0 || value == 0 {
                    return DiscordWebhookRules.invalid("embeds.fields", "This field is required")
                }
                if name > 256 || value > 1024 {
                    return DiscordWebhookRules.invalid("embeds.fields", "Must be 1024 or fewer in length.")
                }
                total += name + value
            }
        }

        if total > 6000 {
            return DiscordWebhookRules.invalid("embeds", "Embed size exceeds maximum size of 6000")
        }
        return nil
    }

    public func success(for request: HTTPRequest) -> HTTPResponse {
        guard request.queryValue("wait") == "true" else {
            return HTTPResponse(status: 204)
        }
        let body = request.jsonBody as? [String: Any] ?? [:]
        return .json(
            200,
            ["id": "1100000000000000001", "webhook_id": self.webhookId, "content": body["content"] ?? ""]
        )
    }

    public func rateLimited(retryAfter: Double) -> HTTPResponse {
        .json(
            429,
            ["message": "You are being rate limited.", "retry_after": retryAfter, "global": false],
            headers: [
                ("Retry-After", String(Int(retryAfter.rounded(.up)))),
                ("X-RateLimit-Limit", "5"), ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset-After", String(retryAfter)), ("X-RateLimit-Scope", "user"),
            ]
        )
    }

    public func serverError() -> HTTPResponse {
        .json(502, ["message": "502: Bad Gateway", "code": 0])
    }
}
