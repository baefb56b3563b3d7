import Foundation

/// A Mattermost incoming webhook, `POST /hooks/<key>`, as a stand-in applies it.
///
/// It takes JSON or the Slack-compatible form field `payload`, requires a non-empty `text`, and rejects a text
/// longer than `maxPostLength` code points (16383 on Mattermost 5.0 and later by default, 4000 on older
/// servers). An accepted post gets 200 `ok` as plain text; a rate limit is 429 with `Retry-After`.
public struct MattermostWebhookRules: ChatServiceRules {
    public let key: String
    public let maxPostLength: Int

    public init(key: String = "mattermostHookKey123", maxPostLength: Int = 16383) {
        self.key = key
        self.maxPostLength = maxPostLength
    }

    /// Returns the webhook's URL on `receiver`.
    public func url(on receiver: ChatServiceReceiver) -> String {
        "\(receiver.baseURL)/hooks/\(self.key)"
    }

    private static func error(_ status: Int, _ id: String, _ message: String) -> HTTPResponse {
        .json(status, ["id": id, "message": message, "status_code": status])
    }

    public func check(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.path == "/hooks/\(self.key)" else {
            return MattermostWebhookRules.error(400, "web.incoming_webhook.invalid.app_error", "Invalid webhook.")
        }
        var body = request.jsonBody as? [String: Any]
        if body == nil, request.header("Content-Type")?.hasPrefix("application/x-www-form-urlencoded") == true {
            let form = decodeFormEncoded(String(decoding: request.body, as: UTF8.self))
            let payload = form.first { $0.name == "payload" }?.value ?? ""
            body = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
        }
        guard let body else {
            return MattermostWebhookRules.error(400, "web.incoming_webhook.parse.app_error", "Unable to parse data.")
        }
        guard let text = body["text"] as? String, !text.isEmpty else {
            return MattermostWebhookRules.error(400, "web.incoming_webhook.text.app_error", "No text specified.")
        }
        guard text.unicodeScalars.count <= self.maxPostLength else {
            return MattermostWebhookRules.error(
                400,
                "model.post.is_valid.msg.app_error",
                "Invalid Message: the text is longer than \(self.maxPostLength) characters."
            )
        }
        return nil
    }

    public func success(for request: HTTPRequest) -> HTTPResponse {
        .text(200, "ok")
    }

    public func rateLimited(retryAfter: Double) -> HTTPResponse {
        .text(429, "limit exceeded", headers: [("Retry-After", String(Int(retryAfter.rounded(.up))))])
    }

    public func serverError() -> HTTPResponse {
        MattermostWebhookRules.error(500, "api.context.server_error", "An internal error occurred.")
    }
}
