import Foundation

/// A one-line progress display for long transfers: bytes done, rate and time left, redrawn in place on a
/// terminal. On anything else (a pipe, a file, journald) it draws nothing, so the daemon stays quiet.
public final class ProgressMeter: @unchecked Sendable {
    /// The word the line starts with, such as `upload` or `archive`.
    public let label: String
    private let output: Int32
    private let enabled: Bool
    private let minimumInterval: Double
    private let clock: @Sendable () -> Double
    private let state = Protected(MeterState())

    private struct MeterState {
        var total: Int64?
        var done: Int64 = 0
        var started: Double?
        var lastDraw: Double = 0
        var drawn = false
        var finished = false
    }

    /// A meter writing to `output` (stderr by default) only when it is a terminal, unless `enabled` overrides that.
    public init(
        label: String,
        total: Int64? = nil,
        output: Int32 = STDERR_FILENO,
        enabled: Bool? = nil,
        minimumInterval: Double = 0.2,
        clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }
    ) {
        self.label = label
        self.output = output
        self.enabled = enabled ?? (isatty(output) == 1)
        self.minimumInterval = minimumInterval
        self.clock = clock
        self.state.withLock { $0.total = total }
    }

    /// Whether the meter draws anything at all.
    public var isEnabled: Bool { self.enabled }

    /// Sets or changes the expected total, when it is known only after the work has started.
    public func setTotal(_ total: Int64?) {
        self.state.withLock { $0.total = total }
    }

    /// Adds `bytes` to the count done and redraws at most every `minimumInterval` seconds.
    public func advance(by bytes: Int64) {
        self.update { $0.done += bytes }
    }

    /// Sets the count done, for work that reports absolute positions.
    public func set(done: Int64) {
        self.update { $0.done = done }
    }

    /// Draws the final line and moves to the next line. Later calls do nothing.
    public func finish() {
        guard self.enabled else { return }
        let now = self.clock()
        let line: String? = self.state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            guard state.drawn || state.done > 0 else { return nil }
            return Self.render(label: self.label, state: state, now: now, final: true)
        }
        if let line { self.write("\r\u{1B}[2K" + line + "\n") }
    }

    private func update(_ change: (inout MeterState) -> Void) {
        let now = self.clock()
        let line: String? = self.state.withLock { state in
            change(&state)
            guard self.enabled, !state.finished else { return nil }
            if state.started == nil { state.started = now }
            let complete = state.total.map { state.done >= $0 } ?? false
            guard complete || now - state.lastDraw >= self.minimumInterval else { return nil }
            state.lastDraw = now
            state.drawn = true
            return Self.render(label: self.label, state: state, now: now, final: false)
        }
        if let line { self.write("\r\u{1B}[2K" + line) }
    }

    private static func render(label: String, state: MeterState, now: Double, final: Bool) -> String {
        let elapsed = max(now - (state.started ?? now), 0.001)
        let rate = Double(state.done) / elapsed
        var parts = [label]
        if let total = state.total, total > 0 {
            let percent = min(100, Int(Double(state.done) * 100 / Double(total)))
            parts.append("\(Self.formatBytes(state.done)) / \(Self.formatBytes(total)) (\(percent)%)")
        } else {
            parts.append(Self.formatBytes(state.done))
        }
        parts.append("\(Self.formatBytes(Int64(rate)))/s")
        if final {
            parts.append("in \(Self.formatDuration(elapsed))")
        } else if let total = state.total, rate > 0, total > state.done {
            parts.append("ETA \(Self.formatDuration(Double(total - state.done) / rate))")
        }
        return parts.joined(separator: "  ")
    }

    private func write(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Foundation.write(self.output, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Formats a byte count with binary units: `512 B`, `1.5 KiB`, `3.2 GiB`.
    public static func formatBytes(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f ", value) + units[unit]
    }

    /// Formats seconds as `42s`, `3m05s` or `2h07m`.
    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60)
    }
}
