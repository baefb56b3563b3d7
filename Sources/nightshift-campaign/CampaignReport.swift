import Agent
import Foundation
import Support

/// The markdown table of a finished campaign.
struct CampaignReport {
    var measurements: [RunMeasurement]
    /// When the last run ended; a leaked machine counts as billed from its run's end plus the grace until then.
    var end: Date
    var seconds: Double

    var markdown: String {
        var lines = ["| measure | value |", "| --- | --- |"]
        lines.append("| runs | \(self.measurements.count) |")
        lines.append("| wall time | \(String(format: "%.0f", self.seconds)) s |")
        let states = Dictionary(grouping: self.measurements, by: { $0.finalState?.rawValue ?? "hung" })
        for (state, group) in states.sorted(by: { $0.key < $1.key }) {
            lines.append("| final state `\(state)` | \(group.count) |")
        }
        let armed = self.measurements.flatMap(\.armed)
        for fault in CampaignFault.allCases {
            lines.append("| faults injected: \(fault.rawValue) | \(armed.filter { $0 == fault }.count) |")
        }
        let leaked = self.measurements.flatMap(\.leakedMachines)
        let minutes = leaked.reduce(0) { $0 + self.end.timeIntervalSince($1.since) } / 60
        lines.append("| machines left after final state + \(CampaignRunner.grace) s | \(leaked.count) |")
        lines.append("| leaked machine-minutes | \(String(format: "%.2f", minutes)) |")
        lines.append("| startup scripts left | \(self.measurements.reduce(0) { $0 + $1.leakedScripts }) |")
        let wrongAlerts = self.measurements.filter { !self.alertMatches($0) }.count
        lines.append("| runs whose last alert does not match the final state | \(wrongAlerts) |")
        lines.append(self.percentiles("failure seen → stop request", self.measurements.compactMap(\.failureToStop)))
        lines.append(self.percentiles("restart → orphan deleted", self.measurements.compactMap(\.restartToTeardown)))
        for measurement in self.measurements.filter({ !self.alertMatches($0) }).prefix(5) {
            lines.append(
                "\nrun \(measurement.index): final state \(measurement.finalState?.rawValue ?? "hung"), alerts "
                    + "\(measurement.alerts.map(\.rawValue)), faults \(measurement.armed.map(\.rawValue))"
            )
        }
        return lines.joined(separator: "\n")
    }

    private func alertMatches(_ measurement: RunMeasurement) -> Bool {
        switch measurement.finalState {
        case .succeeded: measurement.alerts.last == .succeeded
        case .failed: measurement.alerts.last == .failed
        case .needsAttention: measurement.alerts.last == .teardownFailed
        default: false
        }
    }

    private func percentiles(_ name: String, _ values: [Double]) -> String {
        guard !values.isEmpty else { return "| \(name) (0 samples) | - |" }
        let sorted = values.sorted()
        func at(_ share: Double) -> String {
            let index = min(sorted.count - 1, Int((share * Double(sorted.count)).rounded(.up)) - 1)
            return String(format: "%.0f ms", sorted[max(0, index)] * 1000)
        }
        return "| \(name) (\(values.count) samples) | p50 \(at(0.5)), p95 \(at(0.95)), max \(at(1.0)) |"
    }
}
