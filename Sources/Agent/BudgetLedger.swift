import Config
import Foundation

/// Estimated run costs and the spend of one calendar month, from the journal.
///
/// A run's cost is its hourly rate times its billed duration. A finished run is billed from its start to its
/// end, a run that never made a create call costs nothing, and an active run counts at its maximum: its
/// `max_duration`, or the time it has taken so far when that is longer. A run counts in the month it started in.
public struct BudgetLedger: Sendable {
    public let journal: Journal
    public let timeZone: TimeZone
    /// The rates of the configured jobs, used only for runs whose record has no rate of its own.
    public let fallbackRates: [String: Double]

    public init(journal: Journal, timeZone: TimeZone, fallbackRates: [String: Double] = [:]) {
        self.journal = journal
        self.timeZone = timeZone
        self.fallbackRates = fallbackRates
    }

    /// Returns the estimated cost of `record` in US dollars at time `now`.
    public func estimatedCost(of record: RunRecord, now: Date) -> Double {
        // NOTE: records written before runs stored their rate fall back to the job's current rate.
        guard let rate = record.hourlyRate ?? self.fallbackRates[record.job] else { return 0 }
        let billed: Double
        if record.state.isTerminal {
            guard record.machineMayExist || record.machineId != nil else { return 0 }
            billed = (record.finishedAt ?? now).timeIntervalSince(record.startedAt)
        } else {
            let maximum = record.deadline.timeIntervalSince(record.startedAt)
            billed = max(maximum, now.timeIntervalSince(record.startedAt))
        }
        return rate * max(0, billed) / 3600
    }

    /// Returns the calendar month that contains `date`, in the ledger's time zone.
    public func month(containing date: Date) -> DateInterval {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = self.timeZone
        return calendar.dateInterval(of: .month, for: date) ?? DateInterval(start: date, duration: 0)
    }

    /// Returns the month's key, such as `2027-12`, under which budget warnings are recorded.
    public func monthKey(for date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = self.timeZone
        let parts = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0)
    }

    /// Returns the estimated spend of every run that started in the month containing `now`.
    public func spend(at now: Date) throws -> Double {
        let month = self.month(containing: now)
        return try self.journal.runs(startedFrom: month.start, before: month.end).reduce(0) { total, record in
            total + self.estimatedCost(of: record, now: now)
        }
    }

    /// Returns the most a run of `job` can cost: its hourly rate times its `max_duration`, or nil without a rate.
    public static func maximumCost(of job: TrainingJob) -> Double? {
        job.machine.hourlyRate.map { $0 * job.maxDuration / 3600 }
    }
}
