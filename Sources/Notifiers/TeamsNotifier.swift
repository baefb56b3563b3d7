import Foundation
import HTTP
import Support

/// Posts run notifications to a Microsoft Teams channel through a Workflows (Power Automate) webhook, as an
/// Adaptive Card 1.4 in a `message` envelope.
///
/// The retired Office 365 connectors took a MessageCard, which Workflows rejects, so only the Adaptive Card
/// form is sent. A Workflows trigger accepts the request with 202 before it posts the card, and any 2xx counts
/// as delivered. Each text is cut to `textLimit` and the whole body is kept under `payloadLimit`.
public struct TeamsNotifier: Notifier, CustomStringConvertible, CustomDebugStringConvertible {
    /// The maximum length of each text in the card, in UTF-16 code units, the cap Apprise uses for Workflows.
    public static let textLimit = 1000
    /// The maximum size of the JSON body in bytes. Teams rejects messages of about 28 KB or more.
    public static let payloadLimit = 27_000

    /// Characters that the Teams markdown subset in TextBlock and FactSet text reads as formatting.
    ///
    /// NOTE: Teams documents no escape rule for card markdown. CommonMark shows a character after a backslash
    /// as is, but this escaping is not checked against Teams itself.
    static let markdownSpecials: Set<Character> = ["\\", "*", "_", "[", "]", "(", ")", "~", "`", "#", ">", "-", "+"]

    public let name: String
    private let url: String
    private let http: HTTPClient

    public init(name: String, url: String, http: HTTPClient) {
        self.name = name
        self.url = url
        self.http = http
    }

    /// The URL as it may appear in logs. The Workflows URL carries its `sig` signature in the query.
    public var displayURL: String { redactedURL(self.url) }
    public var description: String { "TeamsNotifier(\(self.name), \(self.displayURL))" }
    public var debugDescription: String { self.description }

    public func deliver(_ notification: RunNotification) throws -> DeliveryReceipt {
        let body = try TeamsNotifier.body(for: notification, notifier: self.name)
        let response = try postOnce(notifier: self.name, url: self.url, headers: [], body: body, http: self.http)
        return try receipt(for: response, notifier: self.name, displayURL: self.displayURL, fix: TeamsNotifier.fix)
    }

    /// Returns the JSON body, with the texts shortened further when the card would exceed `payloadLimit`.
    public static func body(for notification: RunNotification, notifier: String) throws -> Data {
        var limit = TeamsNotifier.textLimit
        while true {
            let body = try encodeJSON(TeamsNotifier.payload(for: notification, textLimit: limit), notifier: notifier)
            if body.count <= TeamsNotifier.payloadLimit || limit <= 100 {
                return body
            }
            limit /= 2
        }
    }

    /// Returns the `message` envelope with one Adaptive Card attachment.
    public static func payload(for notification: RunNotification, textLimit: Int = TeamsNotifier.textLimit)
        -> [String: Any]
    {
        func text(_ value: String) -> String {
            MessageText.truncate(value, limit: textLimit, unit: .utf16, escape: TeamsNotifier.escape)
        }
        var body: [[String: Any]] = [
            [
                "type": "TextBlock",
                "text": text(notification.title),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": true,
                "color": TeamsNotifier.color(for: notification),
            ],
            [
                "type": "FactSet",
                "facts": notification.facts.map { ["title": text($0.label), "value": text($0.value)] },
            ],
        ]
        if notification.isUrgent {
            body.insert(
                [
                    "type": "TextBlock",
                    "text": text("The machine may still be running and billing. Check the Paperspace console."),
                    "wrap": true,
                    "color": "Attention",
                ],
                at: 1
            )
        }
        body.append([
            "type": "TextBlock",
            "text": text("event \(notification.eventId)"),
            "isSubtle": true,
            "size": "Small",
            "wrap": true,
        ])
        var card: [String: Any] = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
            "msteams": ["width": "Full"],
        ]
        if let url = notification.modelCommitURL, url.hasPrefix("https://") || url.hasPrefix("http://") {
            card["actions"] = [["type": "Action.OpenUrl", "title": "Model commit", "url": url]]
        }
        return [
            "type": "message",
            "attachments": [
                [
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": NSNull(),
                    "content": card,
                ] as [String: Any]
            ],
        ]
    }

    /// Returns `text` with a backslash before each markdown character.
    public static func escape(_ text: String) -> String {
        MessageText.backslashEscaping(text, specials: TeamsNotifier.markdownSpecials)
    }

    private static func color(for notification: RunNotification) -> String {
        switch notification.kind {
        case .failed, .teardownFailed: "Attention"
        case .missed, .skipped, .budgetWarning, .orphanSwept: "Warning"
        case .succeeded: "Good"
        case .started: "Default"
        }
    }

    static func fix(status: Int, snippet: String) -> String {
        switch status {
        case 400:
            "the workflow rejected the card. Check that the workflow posts an Adaptive Card from the request."
        case 401, 403:
            "the workflow refused the request. Copy the workflow URL with its sig parameter again."
        case 404:
            "the workflow no longer exists or is turned off. Create a new Workflows webhook and update url."
        case 300..<400:
            "the URL redirects, and redirects are not followed. Set url to the URL the workflow shows."
        default:
            "check the workflow's run history in Power Automate."
        }
    }
}
