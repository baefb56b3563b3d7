import Foundation

/// The name nightshift gives a run's machine and startup script: `<prefix>-<job>-<run id>`.
///
/// A run id is `yyyyMMdd-HHmmss-xxxx` (UTC time and four lowercase hex digits), so the parser takes the run id
/// from the end, the prefix and one dash from the start, and the rest as the job. Prefix `ns` therefore never
/// matches `ns2-...`. It would match a name of an agent whose prefix is `ns-<something>`, which is why the
/// sweep also requires the job to be configured or the run to be in the journal.
public struct MachineName: Sendable, Equatable {
    public var prefix: String
    public var job: String
    public var runId: String

    public init(prefix: String, job: String, runId: String) {
        self.prefix = prefix
        self.job = job
        self.runId = runId
    }

    public var text: String { "\(self.prefix)-\(self.job)-\(self.runId)" }

    /// The length of a run id such as `20271204-030000-3fa2`.
    static let runIdLength = 20

    /// Parses `name` when it has exactly the form nightshift gives names with `prefix`; returns nil otherwise.
    public static func parse(_ name: String, prefix: String) -> MachineName? {
        let head = prefix + "-"
        guard !prefix.isEmpty, name.hasPrefix(head) else { return nil }
        let rest = name.dropFirst(head.count)
        // The job takes at least one character and the dash before the run id.
        guard rest.count >= MachineName.runIdLength + 2 else { return nil }
        let runId = String(rest.suffix(MachineName.runIdLength))
        guard MachineName.isRunId(runId) else { return nil }
        let jobWithDash = rest.dropLast(MachineName.runIdLength)
        guard jobWithDash.hasSuffix("-") else { return nil }
        let job = String(jobWithDash.dropLast())
        guard MachineName.isJobName(job) else { return nil }
        return MachineName(prefix: prefix, job: job, runId: runId)
    }

    /// True for `yyyyMMdd-HHmmss-xxxx` with digits and lowercase hex digits, as `Daemon.defaultRunId` makes.
    public static func isRunId(_ text: String) -> Bool {
        let characters = Array(text.utf8)
        guard characters.count == MachineName.runIdLength else { return false }
        for (index, character) in characters.enumerated() {
            switch index {
            case 8, 15:
                guard character == UInt8(ascii: "-") else { return false }
            case 16...19:
                let isHex =
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(character)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(character)
                guard isHex else { return false }
            default:
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(character) else { return false }
            }
        }
        return true
    }

    /// The job-name rule of the config loader: lowercase letters, digits and dashes, starting with a letter.
    static func isJobName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLowercase else { return false }
        return text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }
}
