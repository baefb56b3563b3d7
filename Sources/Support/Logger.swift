import Foundation

/// A structured logger with the API surface of swift-log: a label, a level, metadata, and one line per event.
///
/// Messages stay constant and the data goes into metadata, so log lines can be searched by key
/// (`run.id`, `machine.id`, `job`). Lines go to a `LogSink`, which defaults to standard error so that
/// journald keeps them.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
        case trace, debug, info, notice, warning, error, critical

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        public var description: String {
            switch self {
            case .trace: "trace"
            case .debug: "debug"
            case .info: "info"
            case .notice: "notice"
            case .warning: "warning"
            case .error: "error"
            case .critical: "critical"
            }
        }

        public init?(name: String) {
            guard let level = Level.allCases.first(where: { $0.description == name.lowercased() }) else {
                return nil
            }
            self = level
        }
    }

    public typealias Metadata = [String: String]

    public let label: String
    public var logLevel: Level
    public var metadata: Metadata
    public let sink: LogSink

    public init(label: String, logLevel: Level = .info, metadata: Metadata = [:], sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = logLevel
        self.metadata = metadata
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> String? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Returns a copy of this logger with `extra` merged into its metadata.
    public func with(_ extra: Metadata) -> Logger {
        var copy = self
        copy.metadata.merge(extra) { _, new in new }
        return copy
    }

    public func log(
        level: Level,
        _ message: @autoclosure () -> String,
        metadata extra: @autoclosure () -> Metadata = [:]
    ) {
        guard level >= self.logLevel else { return }
        var merged = self.metadata
        merged.merge(extra()) { _, new in new }
        self.sink.write(LogRecord(date: Date(), level: level, label: self.label, message: message(), metadata: merged))
    }

    public func trace(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        self.log(level: .trace, message(), metadata: metadata())
    }

    public func debug(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        self.log(level: .debug, message(), metadata: metadata())
    }

    public func info(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        self.log(level: .info, message(), metadata: metadata())
    }

    public func notice(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        self.log(level: .notice, message(), metadata: metadata())
    }

    public func warning(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        self.log(level: .warning, message(), metadata: metadata())
    }

    public func error(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        self.log(level: .error, message(), metadata: metadata())
    }

    public func critical(_ message: @autoclosure () -> String, metadata: @autoclosure () -> Metadata = [:]) {
        self.log(level: .critical, message(), metadata: metadata())
    }
}

/// One log event as handed to a sink.
public struct LogRecord: Sendable {
    public var date: Date
    public var level: Logger.Level
    public var label: String
    public var message: String
    public var metadata: Logger.Metadata

    /// Formats the record as one line: `<timestamp> <level> <label>: <message> key=value ...`.
    ///
    /// Keys are sorted so lines are stable; values with spaces, quotes or `=` are quoted. Every value passes
    /// through `SecretRedactor`, so a registered secret never reaches the output.
    public func formatted() -> String {
        var line =
            "\(LogRecord.timestamp(self.date)) \(self.level) \(self.label): "
            + SecretRedactor.shared.redact(self.message)
        for key in self.metadata.keys.sorted() {
            let value = SecretRedactor.shared.redact(self.metadata[key] ?? "")
            line += " \(key)=\(LogRecord.quoteIfNeeded(value))"
        }
        return line
    }

    static func quoteIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        guard needsQuotes else { return value }
        var escaped = ""
        for character in value {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// The destination of log records. The standard sink writes each line to stderr with one `write` call, so lines from
/// concurrent threads never interleave.
public final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private let handler: @Sendable (LogRecord) -> Void

    public init(_ handler: @escaping @Sendable (LogRecord) -> Void) {
        self.handler = handler
    }

    public func write(_ record: LogRecord) {
        self.lock.lock()
        defer { self.lock.unlock() }
        self.handler(record)
    }

    public static let standardError = LogSink { record in
        let line = record.formatted() + "\n"
        line.utf8CString.withUnsafeBufferPointer { buffer in
            _ = Foundation.write(2, buffer.baseAddress, buffer.count - 1)
        }
    }

    /// A sink that drops everything.
    public static let discard = LogSink { _ in }
}

/// Collects log records in memory, for tests.
public final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [LogRecord] = []

    public init() {}

    public var sink: LogSink {
        LogSink { [self] record in
            self.lock.lock()
            self.storage.append(record)
            self.lock.unlock()
        }
    }

    public var records: [LogRecord] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.storage
    }

    /// All records formatted as they would be written to stderr, one per line.
    public var text: String {
        self.records.map { $0.formatted() }.joined(separator: "\n")
    }
}
