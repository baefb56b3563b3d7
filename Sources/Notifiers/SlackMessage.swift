import Foundation
import Support

/// Builds the JSON body of a Slack incoming-webhook message for a `RunNotification`.
///
/// The message has a `text` fallback, used in push notifications and by clients without Block Kit, and
/// `blocks`: a header with the title, a warning section for urgent events, a section of fields, and a context
/// line with the event id. Over-long values are cut to Slack's limits and end with `truncationMarker`, so a
/// message is never rejected for its length.
public enum SlackMessage {
    /// Slack truncates the top-level `text` at 40,000 characters.
    public static let textLimit = 40_000
    /// The maximum length of a header block's `plain_text`.
    public static let headerLimit = 150
    /// The maximum length of a section block's `text`.
    public static let sectionTextLimit = 3000
    /// The maximum length of each text in a section's `fields`.
    public static let fieldLimit = 2000
    /// The maximum number of `fields` in one section.
    public static let maxFields = 10

    /// The text that ends a value cut to fit a limit.
    public static let truncationMarker = "… [truncated]"

    /// Returns the message as a JSON object for `JSONSerialization`.
    public static func payload(for notification: RunNotification) -> [String: Any] {
        var blocks: [[String: Any]] = [
            [
                "type": "header",
                "text": [
                    "type": "plain_text",
                    // NOTE: plain_text is sent without entity escaping: Slack documents `&amp;`, `&lt;`, `&gt;`
                    // for mrkdwn and the top-level text, and a header is not parsed as mrkdwn.
                    "text": SlackMessage.truncate(
                        "\(SlackMessage.emoji(for: notification.kind)) \(notification.title)",
                        limit: SlackMessage.headerLimit,
                        escaping: false
                    ),
                    "emoji": true,
                ] as [String: Any],
            ]
        ]
        if notification.isUrgent {
            let machine = notification.machineId.map { "Machine \($0)" } ?? "The machine"
            let warning =
                "*\(machine) may still be running and billing.* Check the Paperspace console "
                + "and delete the machine if it still exists."
            blocks.append([
                "type": "section",
                "text": [
                    "type": "mrkdwn",
                    "text": SlackMessage.truncate(warning, limit: SlackMessage.sectionTextLimit, escaping: true),
                ],
            ])
        }
        blocks.append([
            "type": "section",
            "fields": SlackMessage.fields(for: notification).prefix(SlackMessage.maxFields).map { field in
                ["type": "mrkdwn", "text": field]
            },
        ])
        let context = "event `\(notification.eventId)` at \(SlackMessage.timestamp(notification.occurredAt))"
        blocks.append([
            "type": "context",
            "elements": [
                [
                    "type": "mrkdwn",
                    "text": SlackMessage.truncate(context, limit: SlackMessage.sectionTextLimit, escaping: true),
                ]
            ],
        ])
        return [
            "text": SlackMessage.truncate(notification.summary, limit: SlackMessage.textLimit, escaping: true),
            "blocks": blocks,
        ]
    }

    /// Returns `*Label*` plus a line break plus the value, for every value the notification has.
    static func fields(for notification: RunNotification) -> [String] {
        var fields: [String] = []
        func add(_ label: String, _ value: String?) {
            guard let value else { return }
            let heading = "*\(label)*\n"
            let room = SlackMessage.fieldLimit - heading.utf16.count
            fields.append(heading + SlackMessage.truncate(value, limit: room, escaping: true))
        }
        add("Job", notification.job)
        add("Run id", notification.runId)
        add("Outcome", notification.outcome)
        add("Duration", notification.durationSeconds.map(RunNotification.formatDuration))
        add("Machine", SlackMessage.machineText(notification))
        add("Estimated cost", notification.estimatedCostUSD.map(RunNotification.formatCost))
        add("Failed in state", notification.failedState)
        add("Reason", notification.reason)
        if let url = notification.modelCommitURL {
            let link = "*Model*\n<\(SlackMessage.linkTarget(url))|Hub commit>"
            if link.utf16.count <= SlackMessage.fieldLimit {
                fields.append(link)
            } else {
                add("Model", url)
            }
        }
        return fields
    }

    private static func machineText(_ notification: RunNotification) -> String? {
        switch (notification.machineType, notification.machineId) {
        case (let type?, let id?): "\(type) (\(id))"
        case (let type?, nil): type
        case (nil, let id?): id
        case (nil, nil): nil
        }
    }

    private static func emoji(for kind: RunEventKind) -> String {
        switch kind {
        case .started: ":arrow_forward:"
        case .succeeded: ":white_check_mark:"
        case .failed: ":x:"
        case .missed: ":alarm_clock:"
        case .skipped: ":fast_forward:"
        case .teardownFailed: ":rotating_light:"
        case .budgetWarning: ":warning:"
        case .orphanSwept: ":broom:"
        }
    }

    /// Returns `url` safe inside Slack's `<url|label>` link syntax: `&`, `<` and `>` become entities and `|`,
    /// which would end the URL, is percent-encoded.
    static func linkTarget(_ url: String) -> String {
        SlackMessage.escape(url.replacingOccurrences(of: "|", with: "%7C"))
    }

    /// Returns `text` with Slack's three control characters `&`, `<` and `>` written as HTML entities.
    ///
    /// Slack decodes only these three, so no other character is encoded. Mrkdwn such as `*bold*` is left as is.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            escaped += SlackMessage.escape(character)
        }
        return escaped
    }

    private static func escape(_ character: Character) -> String {
        switch character {
        case "&": "&amp;"
        case "<": "&lt;"
        case ">": "&gt;"
        default: String(character)
        }
    }

    /// Returns `text`, escaped when `escaping` is set, cut so that it fits in `limit` UTF-16 code units
    /// including `truncationMarker`.
    ///
    /// The cut falls between characters of the original text, so an entity such as `&amp;` is never split.
    /// UTF-16 code units are counted because that count is never below the count of Unicode scalars or
    /// characters, so the result fits whichever of these Slack counts.
    public static func truncate(_ text: String, limit: Int, escaping: Bool) -> String {
        let full = escaping ? SlackMessage.escape(text) : text
        guard full.utf16.count > limit else { return full }
        let room = limit - SlackMessage.truncationMarker.utf16.count
        var result = ""
        var used = 0
        for character in text {
            let piece = escaping ? SlackMessage.escape(character) : String(character)
            let size = piece.utf16.count
            if used + size > room {
                break
            }
            result += piece
            used += size
        }
        return result + SlackMessage.truncationMarker
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
