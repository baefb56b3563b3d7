import CSQLite
import Foundation

/// The runs of one month and the budget warnings already sent, for the monthly budget.
extension Journal {
    func createBudgetTable() throws {
        try self.execute(
            """
            CREATE TABLE IF NOT EXISTS budget_warnings (
                month TEXT NOT NULL,
                share REAL NOT NULL,
                sent_at REAL NOT NULL,
                PRIMARY KEY (month, share)
            )
            """
        )
    }

    /// Returns every run that started at or after `start` and before `end`, oldest first.
    public func runs(startedFrom start: Date, before end: Date) throws -> [RunRecord] {
        try self.records(
            "SELECT record FROM runs WHERE started_at >= ? AND started_at < ? ORDER BY started_at",
            [.real(start.timeIntervalSince1970), .real(end.timeIntervalSince1970)]
        )
    }

    /// Records that the warning for `share` of the limit went out in `month` (`2027-12`). Returns false when it
    /// was recorded before, so each warning is sent once per month even across restarts.
    public func recordBudgetWarning(month: String, share: Double, at now: Date = Date()) throws -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        try self.run(
            "INSERT OR IGNORE INTO budget_warnings (month, share, sent_at) VALUES (?, ?, ?)",
            [.text(month), .real(share), .real(now.timeIntervalSince1970)]
        )
        return sqlite3_changes(self.databaseHandle) > 0
    }

    /// Returns the shares whose warning went out in `month`, in ascending order.
    public func budgetWarnings(month: String) throws -> [Double] {
        self.lock.lock()
        defer { self.lock.unlock() }
        let statement = try self.prepare("SELECT share FROM budget_warnings WHERE month = ? ORDER BY share")
        defer { sqlite3_finalize(statement) }
        try self.bind([.text(month)], to: statement)
        var shares: [Double] = []
        while sqlite3_step(statement) == SQLITE_ROW {
            shares.append(sqlite3_column_double(statement, 0))
        }
        return shares
    }
}
