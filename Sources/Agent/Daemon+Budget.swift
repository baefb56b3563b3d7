import Config
import Foundation
import Notifiers
import Support

/// The cost checks of the daemon: `max_cost` per run and the monthly `budget:`, both before any machine exists.
extension Daemon {
    /// Returns the ledger over this daemon's journal, in the top-level `time_zone`.
    public func budgetLedger() -> BudgetLedger {
        let configuration = self.runtime.configuration
        var rates: [String: Double] = [:]
        for job in configuration.jobs {
            if let rate = job.machine.hourlyRate { rates[job.name] = rate }
        }
        return BudgetLedger(
            journal: self.runtime.journal,
            timeZone: TimeZone(identifier: configuration.timeZone) ?? TimeZone(identifier: "UTC")!,
            fallbackRates: rates
        )
    }

    /// Returns why a run of `job` must not start at `now`, naming the amounts, or nil when it may start.
    func budgetRejection(for job: TrainingJob, at now: Date) -> String? {
        let maximum = BudgetLedger.maximumCost(of: job)
        if let limit = job.maxCost, let maximum, maximum > limit {
            return "the run's maximum cost \(Daemon.dollars(maximum)) (hourly rate "
                + "\(Daemon.dollars(job.machine.hourlyRate ?? 0)) x max_duration \(formatDuration(job.maxDuration))) "
                + "exceeds the job's max_cost \(Daemon.dollars(limit)); no machine was created"
        }
        guard let budget = self.runtime.configuration.budget else { return nil }
        let ledger = self.budgetLedger()
        let spend: Double
        do {
            spend = try ledger.spend(at: now)
        } catch {
            // Without the month's spend the limit cannot be checked, so the run does not start.
            return "the month's spend could not be read from the journal (\(error)); no machine was created"
        }
        // NOTE: a job without `hourly_rate` counts as free, so the monthly limit cannot stop it.
        let runMaximum = maximum ?? 0
        if spend + runMaximum > budget.monthlyLimit {
            return "the month's estimated spend \(Daemon.dollars(spend)) plus the run's maximum cost "
                + "\(Daemon.dollars(runMaximum)) would exceed the monthly limit "
                + "\(Daemon.dollars(budget.monthlyLimit)) for \(ledger.monthKey(for: now)); no machine was created"
        }
        return nil
    }

    /// Journals `record` as a failed run that never created anything and sends `run_failed` with `reason`.
    func rejectRun(_ record: RunRecord, of job: TrainingJob, reason: String) {
        var failed = record
        failed.state = .failed
        failed.stateEnteredAt = record.startedAt
        failed.finishedAt = record.startedAt
        failed.outcome = RunRecord.Outcome(succeeded: false, failedState: .pending, reason: reason)
        do {
            try self.runtime.journal.save(failed, transitions: [(.pending, .failed, reason)])
        } catch {
            self.logger.error("Journal write of a rejected run failed", metadata: ["error": "\(error)"])
        }
        self.logger.error(
            "Run rejected by the budget",
            metadata: ["job": job.name, "run.id": record.runId, "reason": reason]
        )
        self.onTransition(failed, .pending, .failed, reason)
        self.runtime.events.publish(.failed, record: failed, job: job)
    }

    /// Sends a `budget_warning` for every `warn_at` share that the month's spend has reached and that has not
    /// been sent this month. The journal records each one, so restarts do not repeat them.
    func sendBudgetWarnings(job: TrainingJob, at now: Date) {
        guard let budget = self.runtime.configuration.budget else { return }
        let ledger = self.budgetLedger()
        let month = ledger.monthKey(for: now)
        do {
            let spend = try ledger.spend(at: now)
            for share in budget.warnAt where spend >= share * budget.monthlyLimit {
                guard try self.runtime.journal.recordBudgetWarning(month: month, share: share, at: now) else {
                    continue
                }
                let percent = Int((share * 100).rounded())
                let reason =
                    "the estimated spend for \(month) is \(Daemon.dollars(spend)), which reached \(percent)% of "
                    + "the monthly limit \(Daemon.dollars(budget.monthlyLimit)); active runs count at their maximum"
                self.logger.warning(
                    "Budget warning",
                    metadata: ["month": month, "share": "\(share)", "spend": Daemon.dollars(spend)]
                )
                let notification = RunNotification(
                    kind: .budgetWarning,
                    job: job.name,
                    runId: "budget-\(month)",
                    occurredAt: now,
                    eventId: "budget-\(month):\(percent)",
                    estimatedCostUSD: spend,
                    reason: reason,
                    budgetUSD: budget.monthlyLimit
                )
                self.runtime.dispatcher.enqueue(notification, to: nil)
            }
        } catch {
            self.logger.error("Budget warnings could not be checked", metadata: ["error": "\(error)"])
        }
    }

    static func dollars(_ amount: Double) -> String {
        String(format: "$%.2f", amount)
    }
}
