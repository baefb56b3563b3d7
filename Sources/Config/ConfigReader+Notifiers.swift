import Foundation
import Support

extension ConfigReader {
    static let notifierKeys = ["type", "url", "url_file", "secret", "secret_file", "events", "timeout"]

    /// Reads the `notifiers:` map. Notifiers with errors are left out of the result.
    func notifiers(_ root: MappingView) -> [NotifierSettings] {
        guard let node = root.value("notifiers"),
            let view = self.mapping(node, path: "notifiers", allowedKeys: nil)
        else {
            return []
        }
        var notifiers: [NotifierSettings] = []
        for entry in view.entries {
            let path = view.path(of: entry.name)
            let nameIsValid = self.checkName(entry, path: path, kind: "notifier")
            if let notifier = self.notifier(entry, path: path), nameIsValid {
                notifiers.append(notifier)
            }
        }
        return notifiers
    }

    private func notifier(_ entry: MappingView.Entry, path: String) -> NotifierSettings? {
        guard let view = self.mapping(entry.value, path: path, allowedKeys: ConfigReader.notifierKeys) else {
            return nil
        }
        let kind = self.notifierKind(view)

        let url = self.secret(view, "url")
        if !url.present {
            self.missing(view, "url", expected: "the webhook URL or `url_file`", example: "${SLACK_WEBHOOK_URL}")
        }
        if let url = url.secret, !ConfigReader.isHTTPURL(url.value) {
            let key = view.entry("url") != nil ? "url" : "url_file"
            // The URL is a credential, so the message names its source and never the value.
            self.error(
                view.value(key)!.position,
                view.path(of: key),
                "invalid notifier URL \(url): expected an `http://` or `https://` URL with a host name",
                fix: "check the value. A Slack URL looks like `https://hooks.slack.com/services/...`"
            )
        }

        let signingSecret = self.secret(view, "secret")
        if kind == .webhook && !signingSecret.present {
            self.missing(
                view,
                "secret",
                expected: "the signing secret of a `webhook` notifier, or `secret_file`",
                example: "${WEBHOOK_SECRET}"
            )
        }
        if kind == .slack && signingSecret.present {
            let key = view.entry("secret") != nil ? "secret" : "secret_file"
            self.error(
                view.entry(key)!.key.position,
                view.path(of: key),
                "`\(key)` applies only to `webhook` notifiers, but this one has `type: slack`",
                fix: "remove `\(key)`, or change `type` to `webhook`"
            )
        }

        let events = self.events(view)
        let timeout = self.duration(view, "timeout", range: 1...3600, example: "10s")
        guard let kind, let url = url.secret else { return nil }
        return NotifierSettings(
            name: entry.name,
            kind: kind,
            url: url,
            signingSecret: kind == .webhook ? signingSecret.secret : nil,
            events: events ?? Set(RunEventKind.allCases),
            timeout: timeout ?? 10
        )
    }

    private func notifierKind(_ view: MappingView) -> NotifierSettings.Kind? {
        let names = NotifierSettings.Kind.allCases.map(\.rawValue)
        guard view.entry("type") != nil else {
            self.missing(view, "type", expected: "one of \(Suggestions.list(names))", example: "slack")
            return nil
        }
        guard let text = self.string(view, "type") else { return nil }
        if let kind = NotifierSettings.Kind(rawValue: text) {
            return kind
        }
        let suggestion = Suggestions.closest(to: text, in: names)
        self.error(
            view.value("type")!.position,
            view.path(of: "type"),
            "unknown notifier type `\(text)`: expected one of \(Suggestions.list(names))"
                + ConfigReader.didYouMean(suggestion),
            fix: "write `type: slack` for a Slack incoming webhook or `type: webhook` for a signed JSON webhook"
        )
        return nil
    }

    private func events(_ view: MappingView) -> Set<RunEventKind>? {
        guard let items = self.stringList(view, "events") else { return nil }
        let names = RunEventKind.allCases.map(\.rawValue)
        var events = Set<RunEventKind>()
        for item in items {
            guard let event = RunEventKind(rawValue: item.value) else {
                let suggestion = Suggestions.closest(to: item.value, in: names)
                self.error(
                    item.position,
                    item.path,
                    "unknown event `\(item.value)`: expected one of \(Suggestions.list(names))"
                        + ConfigReader.didYouMean(suggestion),
                    fix: suggestion.map { "write `\($0)`" } ?? "use one of \(Suggestions.list(names))"
                )
                continue
            }
            events.insert(event)
        }
        if case .sequence(let written) = view.value("events")!.content, written.isEmpty {
            self.error(
                view.value("events")!.position,
                view.path(of: "events"),
                "expected at least one event, got an empty list",
                fix: "list events such as `[run_failed, teardown_failed]`, or remove `events` to receive all of them"
            )
        }
        return events
    }
}
