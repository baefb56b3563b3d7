import Foundation
import Support
import Testing

/// A clock the test moves by hand.
private final class ManualClock: @unchecked Sendable {
    private let now = Protected(0.0)
    func read() -> Double { self.now.withLock { $0 } }
    func move(by seconds: Double) { self.now.withLock { $0 += seconds } }
}

/// Reads everything written to the write end of a pipe after it is closed.
private func drain(_ pipe: [Int32]) -> String {
    close(pipe[1])
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(pipe[0], &buffer, buffer.count)
        if count <= 0 { break }
        data.append(contentsOf: buffer[0..<count])
    }
    close(pipe[0])
    return String(decoding: data, as: UTF8.self)
}

@Suite struct ProgressMeterTests {
    @Test func drawsBytesRateAndETA() throws {
        var pipe: [Int32] = [0, 0]
        #expect(Foundation.pipe(&pipe) == 0)
        let clock = ManualClock()
        let meter = ProgressMeter(
            label: "upload",
            total: 4 * 1024 * 1024,
            output: pipe[1],
            enabled: true,
            minimumInterval: 0.5,
            clock: { clock.read() }
        )
        meter.advance(by: 0)  // the first call only starts the clock
        clock.move(by: 1)
        meter.advance(by: 1024 * 1024)
        clock.move(by: 0.1)
        meter.advance(by: 1)  // too soon after the last line: not drawn
        clock.move(by: 1)
        meter.set(done: 4 * 1024 * 1024)
        meter.finish()
        meter.finish()
        let text = drain(pipe)
        let lines = text.split(separator: "\r").map { $0.replacingOccurrences(of: "\u{1B}[2K", with: "") }
        #expect(lines.contains { $0.hasPrefix("upload  1.0 MiB / 4.0 MiB (25%)  1.0 MiB/s  ETA 3s") })
        #expect(lines.last == "upload  4.0 MiB / 4.0 MiB (100%)  1.9 MiB/s  in 2s\n")
        #expect(lines.count == 3)
    }

    @Test func staysQuietWhenDisabled() throws {
        var pipe: [Int32] = [0, 0]
        #expect(Foundation.pipe(&pipe) == 0)
        let meter = ProgressMeter(label: "download", total: 10, output: pipe[1], enabled: false)
        meter.advance(by: 10)
        meter.finish()
        #expect(drain(pipe).isEmpty)
        #expect(!meter.isEnabled)
    }

    @Test func defaultsToQuietOnAPipe() throws {
        var pipe: [Int32] = [0, 0]
        #expect(Foundation.pipe(&pipe) == 0)
        let meter = ProgressMeter(label: "archive", output: pipe[1])
        meter.advance(by: 5)
        meter.finish()
        #expect(drain(pipe).isEmpty)
    }

    @Test func formatsUnitsAndDurations() {
        #expect(ProgressMeter.formatBytes(512) == "512 B")
        #expect(ProgressMeter.formatBytes(1536) == "1.5 KiB")
        #expect(ProgressMeter.formatBytes(3 * 1024 * 1024 * 1024) == "3.0 GiB")
        #expect(ProgressMeter.formatDuration(42) == "42s")
        #expect(ProgressMeter.formatDuration(185) == "3m05s")
        #expect(ProgressMeter.formatDuration(7620) == "2h07m")
    }
}
