import Foundation
import HTTP
import Support

/// Posts run notifications to a Slack incoming webhook.
///
/// Slack responds to a delivered message with HTTP 200 and the body `ok`. Any 2xx is taken as delivered, so
/// Slack-compatible receivers that respond with 204 also work. 429 and 5xx can be retried, and `Retry-After` is
/// passed on.
/// Every other status is final and becomes `NotifierError.rejected` with a fix for Slack's error code.
public struct SlackNotifier: Notifier, CustomStringConvertible, CustomDebugStringConvertible {
    public let name: String
    /// The webhook URL. It is the channel's credential, so it is kept private and shown only as `displayURL`.
    private let url: String
    private let http: HTTPClient

    public init(name: String, url: String, http: HTTPClient) {
        self.name = name
        self.url = url
        self.http = http
    }

    /// The URL as it may appear in logs: scheme, host and port only.
    public var displayURL: String { redactedURL(self.url) }

    public var description: String { "SlackNotifier(\(self.name), \(self.displayURL))" }
    public var debugDescription: String { self.description }

    public func deliver(_ notification: RunNotification) throws -> DeliveryReceipt {
        let body: Data
        do {
            body = try JSONSerialization.data(
                withJSONObject: SlackMessage.payload(for: notification),
                options: [.sortedKeys]
            )
        } catch {
            throw NotifierError.encodingFailed(notifier: self.name, message: "\(error)")
        }
        let response = try postOnce(notifier: self.name, url: self.url, headers: [], body: body, http: self.http)
        return try receipt(for: response, notifier: self.name, displayURL: self.displayURL) { status, snippet in
            SlackNotifier.fix(status: status, errorCode: snippet)
        }
    }

    /// Returns the fix for a final Slack error, from its error code (the response body) or its status.
    ///
    /// The codes are those Slack documents for incoming webhooks, plus `no_service`, which Slack sends for a
    /// webhook that was removed or disabled.
    static func fix(status: Int, errorCode: String) -> String {
        switch errorCode {
        case "invalid_payload":
            return "Slack could not parse the message. This is a bug in nightshift; report it with the event id."
        case "no_service", "no_active_hooks", "invalid_token":
            return "the webhook was removed or disabled in Slack. Create a new incoming webhook and update the "
                + "notifier's url."
        case "channel_not_found":
            return "the webhook's channel no longer exists. Create a new incoming webhook for an existing channel."
        case "channel_is_archived":
            return "the webhook's channel is archived. Unarchive it or create a webhook for another channel."
        case "action_prohibited", "posting_to_general_channel_denied":
            return "a workspace admin restricted posting to this channel. Ask them to allow the app, or use "
                + "another channel."
        case "user_not_found":
            return "the webhook's user no longer exists. Create a new incoming webhook."
        default:
            break
        }
        switch status {
        case 300..<400:
            return "the URL redirects, and redirects are not followed. Set url to the webhook URL Slack shows."
        case 401, 403, 404, 410:
            return "Slack no longer accepts this webhook. Check that the notifier's url is the current webhook URL."
        default:
            return "check the notifier's url and Slack's response."
        }
    }
}
