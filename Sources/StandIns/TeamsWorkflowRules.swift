import Foundation

/// A Microsoft Teams Workflows (Power Automate) webhook trigger, as a stand-in applies it.
///
/// The URL carries its signature in the query (`sig=`), and a request without the right one gets 401. The body
/// must be a `message` with Adaptive Card attachments: a MessageCard of the retired connectors gets 400
/// "Property 'type' must be 'AdaptiveCard'". A body of 28 KB or more gets 413. An accepted request gets 202
/// with no body, and a rate limit is 429 with `Retry-After`.
public struct TeamsWorkflowRules: ChatServiceRules {
    public let signature: String
    public static let payloadLimit = 28 * 1024

    public init(signature: String = "teamsWorkflowSig123") {
        self.signature = signature
    }

    /// Returns the workflow's URL on `receiver`.
    public func url(on receiver: ChatServiceReceiver) -> String {
        "\(receiver.baseURL)/workflows/abc123/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers"
            + "%2Fmanual%2Frun&sv=1.0&sig=\(self.signature)"
    }

    private static func error(_ status: Int, _ code: String, _ message: String) -> HTTPResponse {
        .json(status, ["error": ["code": code, "message": message]])
    }

    public func check(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.queryValue("sig") == self.signature else {
            return TeamsWorkflowRules.error(401, "DirectApiAuthorizationRequired", "The request must be authenticated")
        }
        guard request.body.count < TeamsWorkflowRules.payloadLimit else {
            return TeamsWorkflowRules.error(413, "MessageTooLarge", "The request content is too large")
        }
        guard let body = request.jsonBody as? [String: Any] else {
            return TeamsWorkflowRules.error(400, "InvalidRequestContent", "The request content is not valid JSON")
        }

        if body["@type"] != nil {
            return TeamsWorkflowRules.error(400, "InvalidTemplate", "Property 'type' must be 'AdaptiveCard'")
        }
        guard body["type"] as? String == "message",
            let attachments = body["attachments"] as? [[String: Any]], !attachments.isEmpty
        else {
            return TeamsWorkflowRules.error(400, "InvalidTemplate", "The message must have attachments")
        }

        for attachment in attachments {
            let content = attachment["content"] as? [String: Any]
            guard attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive",
                content?["type"] as? String == "AdaptiveCard"
            else {
                return TeamsWorkflowRules.error(400, "InvalidTemplate", "Property 'type' must be 'AdaptiveCard'")
            }
            guard content?["version"] is String, content?["body"] is [[String: Any]] else {
                return TeamsWorkflowRules.error(400, "InvalidTemplate", "The card needs a version and a body")
            }
        }
        return nil
    }

    public func success(for request: HTTPRequest) -> HTTPResponse {
        HTTPResponse(status: 202)
    }

    public func rateLimited(retryAfter: Double) -> HTTPResponse {
        TeamsWorkflowRules.error(429, "TooManyRequests", "Rate limit is exceeded")
            .adding(header: ("Retry-After", String(Int(retryAfter.rounded(.up)))))
    }

    public func serverError() -> HTTPResponse {
        TeamsWorkflowRules.error(500, "InternalServerError", "An internal server error occurred")
    }
}

extension HTTPResponse {
    /// Returns this response with `header` added.
    func adding(header: (name: String, value: String)) -> HTTPResponse {
        var copy = self
        copy.headers.append(header)
        return copy
    }
}
