import CSQLite
import Config
import Foundation

/// One finished `hub_upload` run as the journal keeps it.
public struct UploadRecord: Sendable, Equatable {
    public var runId: String
    public var job: String
    public var startedAt: Date
    public var result: UploadRunResult

    public init(runId: String, job: String, startedAt: Date, result: UploadRunResult) {
        self.runId = runId
        self.job = job
        self.startedAt = startedAt
        self.result = result
    }
}

/// Upload runs and the last fire time of each job, next to the training runs.
extension Journal {
    func createUploadAndFireTables() throws {
        try self.execute(
            """
            CREATE TABLE IF NOT EXISTS uploads (
                run_id TEXT PRIMARY KEY,
                job TEXT NOT NULL,
                started_at REAL NOT NULL,
                finished_at REAL NOT NULL,
                succeeded INTEGER NOT NULL,
                reason TEXT,
                files_considered INTEGER,
                files_uploaded INTEGER,
                files_unchanged INTEGER,
                bytes_sent INTEGER,
                commit_url TEXT
            )
            """
        )
        try self.execute("CREATE INDEX IF NOT EXISTS uploads_by_job ON uploads(job, started_at)")
        try self.execute(
            """
            CREATE TABLE IF NOT EXISTS fire_times (
                job TEXT PRIMARY KEY,
                scheduled_at REAL NOT NULL,
                fired_at REAL NOT NULL
            )
            """
        )
    }

    /// Writes one finished upload run.
    public func saveUpload(_ record: UploadRecord) throws {
        let summary = record.result.summary
        func optional(_ value: Int?) -> SQLValue { value.map { .integer($0) } ?? .null }
        self.lock.lock()
        defer { self.lock.unlock() }
        try self.run(
            """
            INSERT OR REPLACE INTO uploads (run_id, job, started_at, finished_at, succeeded, reason,
                files_considered, files_uploaded, files_unchanged, bytes_sent, commit_url)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(record.runId), .text(record.job), .real(record.startedAt.timeIntervalSince1970),
                .real(record.result.finishedAt.timeIntervalSince1970), .integer(record.result.succeeded ? 1 : 0),
                record.result.reason.map { .text($0) } ?? .null, optional(summary?.filesConsidered),
                optional(summary?.filesUploaded), optional(summary?.filesUnchanged),
                optional(summary.map { Int($0.bytesSent) }), summary?.commitURL.map { .text($0) } ?? .null,
            ]
        )
    }

    /// Returns the upload runs of `job` (or of all jobs), newest first.
    public func uploads(job: String? = nil, limit: Int = 50) throws -> [UploadRecord] {
        self.lock.lock()
        defer { self.lock.unlock() }
        let columns = """
            SELECT run_id, job, started_at, finished_at, succeeded, reason, files_considered, files_uploaded,
                files_unchanged, bytes_sent, commit_url FROM uploads
            """
        let statement =
            try job == nil
            ? self.prepare(columns + " ORDER BY started_at DESC LIMIT ?")
            : self.prepare(columns + " WHERE job = ? ORDER BY started_at DESC LIMIT ?")
        defer { sqlite3_finalize(statement) }
        try self.bind((job.map { [SQLValue.text($0)] } ?? []) + [.integer(limit)], to: statement)
        func text(_ column: Int32) -> String? {
            sqlite3_column_type(statement, column) == SQLITE_NULL
                ? nil : String(cString: sqlite3_column_text(statement, column))
        }
        func number(_ column: Int32) -> Int? {
            sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(statement, column))
        }
        var result: [UploadRecord] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw self.error("read uploads") }
            var summary: DataUploadSummary? = nil
            if let considered = number(6) {
                summary = DataUploadSummary(
                    filesConsidered: considered,
                    filesUploaded: number(7) ?? 0,
                    filesUnchanged: number(8) ?? 0,
                    bytesSent: Int64(number(9) ?? 0),
                    commitURL: text(10)
                )
            }
            result.append(
                UploadRecord(
                    runId: text(0) ?? "",
                    job: text(1) ?? "",
                    startedAt: Date(timeIntervalSince1970: sqlite3_column_double(statement, 2)),
                    result: UploadRunResult(
                        succeeded: sqlite3_column_int64(statement, 4) != 0,
                        reason: text(5),
                        summary: summary,
                        finishedAt: Date(timeIntervalSince1970: sqlite3_column_double(statement, 3))
                    )
                )
            )
        }
        return result
    }

    /// Records that `job` fired for its scheduled time `scheduledAt`.
    public func recordFire(job: String, scheduledAt: Date, firedAt: Date = Date()) throws {
        self.lock.lock()
        defer { self.lock.unlock() }
        try self.run(
            "INSERT OR REPLACE INTO fire_times (job, scheduled_at, fired_at) VALUES (?, ?, ?)",
            [.text(job), .real(scheduledAt.timeIntervalSince1970), .real(firedAt.timeIntervalSince1970)]
        )
    }

    /// Returns the scheduled time of the last fire of each job that has fired.
    public func lastFireTimes() throws -> [String: Date] {
        self.lock.lock()
        defer { self.lock.unlock() }
        let statement = try self.prepare("SELECT job, scheduled_at FROM fire_times")
        defer { sqlite3_finalize(statement) }
        var result: [String: Date] = [:]
        while sqlite3_step(statement) == SQLITE_ROW {
            let job = String(cString: sqlite3_column_text(statement, 0))
            result[job] = Date(timeIntervalSince1970: sqlite3_column_double(statement, 1))
        }
        return result
    }
}
