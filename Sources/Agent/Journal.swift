import CSQLite
import Foundation

/// Errors from the SQLite journal; each names the operation and SQLite's message.
public struct JournalError: Error, CustomStringConvertible {
    public var operation: String
    public var message: String

    public var description: String { "journal: \(self.operation) failed: \(self.message)" }
}

/// The persisted record of every run and state change, in SQLite in WAL mode.
///
/// `save(_:transitions:)` writes the run and its transitions in one transaction with `synchronous=FULL`, so a
/// crash at any instant leaves either the old state or the new one. The driver calls it before it runs the
/// actions of a transition, which is what lets a restarted daemon finish any teardown that was in flight.
public final class Journal: @unchecked Sendable {
    public let path: String
    private var database: OpaquePointer?
    let lock = NSLock()

    public init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw JournalError(operation: "open \(path)", message: message)
        }
        self.database = handle
        sqlite3_busy_timeout(handle, 5000)
        guard nightshift_sqlite_enable_wal(handle, 5000) == SQLITE_OK else {
            throw self.error("PRAGMA journal_mode=WAL")
        }
        try self.execute("PRAGMA synchronous=FULL")
        try self.execute(
            """
            CREATE TABLE IF NOT EXISTS runs (
                run_id TEXT PRIMARY KEY,
                job TEXT NOT NULL,
                state TEXT NOT NULL,
                machine_name TEXT NOT NULL,
                machine_id TEXT,
                started_at REAL NOT NULL,
                finished_at REAL,
                record TEXT NOT NULL
            )
            """
        )
        try self.execute(
            """
            CREATE TABLE IF NOT EXISTS transitions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id TEXT NOT NULL,
                from_state TEXT NOT NULL,
                to_state TEXT NOT NULL,
                reason TEXT NOT NULL,
                at REAL NOT NULL
            )
            """
        )
        try self.createUploadAndFireTables()
        try self.createBudgetTable()
        try self.execute("CREATE INDEX IF NOT EXISTS runs_by_job ON runs(job, started_at)")
        try self.execute("CREATE INDEX IF NOT EXISTS transitions_by_run ON transitions(run_id, id)")
    }

    deinit {
        sqlite3_close(self.database)
    }

    /// The SQLite connection, for extensions in other files; use it only while holding `lock`.
    var databaseHandle: OpaquePointer? { self.database }

    /// Writes `record` and the transitions that led to it in one transaction.
    public func save(
        _ record: RunRecord,
        transitions: [(from: LifecycleState, to: LifecycleState, reason: String)] = [],
        at now: Date = Date()
    ) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let json = String(decoding: try encoder.encode(record), as: UTF8.self)
        self.lock.lock()
        defer { self.lock.unlock() }
        try self.execute("BEGIN IMMEDIATE")
        do {
            try self.run(
                """
                INSERT INTO runs (run_id, job, state, machine_name, machine_id, started_at, finished_at, record)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(run_id) DO UPDATE SET state = excluded.state, machine_id = excluded.machine_id,
                    finished_at = excluded.finished_at, record = excluded.record
                """,
                [
                    .text(record.runId), .text(record.job), .text(record.state.rawValue), .text(record.machineName),
                    record.machineId.map(SQLValue.text) ?? .null, .real(record.startedAt.timeIntervalSince1970),
                    record.finishedAt.map { .real($0.timeIntervalSince1970) } ?? .null, .text(json),
                ]
            )
            for transition in transitions {
                try self.run(
                    "INSERT INTO transitions (run_id, from_state, to_state, reason, at) VALUES (?, ?, ?, ?, ?)",
                    [
                        .text(record.runId), .text(transition.from.rawValue), .text(transition.to.rawValue),
                        .text(transition.reason), .real(now.timeIntervalSince1970),
                    ]
                )
            }
            try self.execute("COMMIT")
        } catch {
            try? self.execute("ROLLBACK")
            throw error
        }
    }

    /// Returns every run that has not reached a terminal state, oldest first.
    ///
    /// A row whose record cannot be decoded (damaged, or written by another version) is not skipped, because its
    /// machine may still exist. It comes back rebuilt from the row's own columns, in `stopping` with a failed
    /// outcome, so that recovery tears it down by id or by name.
    public func activeRuns() throws -> [RunRecord] {
        try self.records(
            """
            SELECT record, run_id, job, machine_name, machine_id, started_at FROM runs
            WHERE state NOT IN ('succeeded', 'failed', 'needsAttention') ORDER BY started_at
            """,
            []
        )
    }

    /// Returns the runs of `job` (or of all jobs), newest first.
    public func runs(job: String? = nil, limit: Int = 50) throws -> [RunRecord] {
        if let job {
            return try self.records(
                "SELECT record FROM runs WHERE job = ? ORDER BY started_at DESC LIMIT ?",
                [.text(job), .integer(limit)]
            )
        }
        return try self.records("SELECT record FROM runs ORDER BY started_at DESC LIMIT ?", [.integer(limit)])
    }

    public func run(id: String) throws -> RunRecord? {
        try self.records("SELECT record FROM runs WHERE run_id = ?", [.text(id)]).first
    }

    /// Returns the state changes of one run in order: (from, to, reason, time).
    public func transitions(runId: String) throws -> [(from: String, to: String, reason: String, at: Date)] {
        self.lock.lock()
        defer { self.lock.unlock() }
        let statement = try self.prepare(
            "SELECT from_state, to_state, reason, at FROM transitions WHERE run_id = ? ORDER BY id"
        )
        defer { sqlite3_finalize(statement) }
        try self.bind([.text(runId)], to: statement)
        var result: [(from: String, to: String, reason: String, at: Date)] = []
        while sqlite3_step(statement) == SQLITE_ROW {
            result.append(
                (
                    String(cString: sqlite3_column_text(statement, 0)),
                    String(cString: sqlite3_column_text(statement, 1)),
                    String(cString: sqlite3_column_text(statement, 2)),
                    Date(timeIntervalSince1970: sqlite3_column_double(statement, 3))
                )
            )
        }
        return result
    }

    // MARK: - SQLite helpers

    enum SQLValue {
        case text(String)
        case real(Double)
        case integer(Int)
        case null
    }

    func records(_ sql: String, _ values: [SQLValue]) throws -> [RunRecord] {
        self.lock.lock()
        defer { self.lock.unlock() }
        let statement = try self.prepare(sql)
        defer { sqlite3_finalize(statement) }
        try self.bind(values, to: statement)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        var result: [RunRecord] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw self.error("read runs") }
            let json = String(cString: sqlite3_column_text(statement, 0))
            do {
                result.append(try decoder.decode(RunRecord.self, from: Data(json.utf8)))
            } catch {
                guard sqlite3_column_count(statement) >= 6 else { throw error }
                result.append(Self.rebuiltRecord(from: statement, decodingError: error))
            }
        }
        return result
    }

    /// Rebuilds a run that needs teardown from the indexed columns of a row whose record JSON is unreadable.
    private static func rebuiltRecord(from statement: OpaquePointer?, decodingError: Error) -> RunRecord {
        func text(_ column: Int32) -> String? {
            sqlite3_column_type(statement, column) == SQLITE_NULL
                ? nil : String(cString: sqlite3_column_text(statement, column))
        }
        let startedAt = Date(timeIntervalSince1970: sqlite3_column_double(statement, 5))
        var record = RunRecord(
            runId: text(1) ?? "unknown",
            job: text(2) ?? "unknown",
            machineName: text(3) ?? "",
            machineType: "unknown",
            startedAt: startedAt,
            maxDuration: 0
        )
        record.machineId = text(4)
        record.machineMayExist = true
        record.scriptMayExist = true
        record.state = .stopping
        record.teardownStartedAt = Date()
        record.outcome = RunRecord.Outcome(
            succeeded: false,
            failedState: nil,
            reason: "the journal record of this run was unreadable (\(decodingError)); tearing it down"
        )
        return record
    }

    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(self.database, sql, nil, nil, &message) != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw JournalError(operation: sql.split(separator: " ").prefix(3).joined(separator: " "), message: text)
        }
    }

    func run(_ sql: String, _ values: [SQLValue]) throws {
        let statement = try self.prepare(sql)
        defer { sqlite3_finalize(statement) }
        try self.bind(values, to: statement)
        guard sqlite3_step(statement) == SQLITE_DONE else { throw self.error("write") }
    }

    func prepare(_ sql: String) throws -> OpaquePointer? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(self.database, sql, -1, &statement, nil) == SQLITE_OK else {
            throw self.error("prepare")
        }
        return statement
    }

    func bind(_ values: [SQLValue], to statement: OpaquePointer?) throws {
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            let code: Int32
            switch value {
            case .text(let text): code = sqlite3_bind_text(statement, position, text, -1, nightshift_sqlite_transient())
            case .real(let number): code = sqlite3_bind_double(statement, position, number)
            case .integer(let number): code = sqlite3_bind_int64(statement, position, Int64(number))
            case .null: code = sqlite3_bind_null(statement, position)
            }
            guard code == SQLITE_OK else { throw self.error("bind") }
        }
    }

    func error(_ operation: String) -> JournalError {
        JournalError(operation: operation, message: String(cString: sqlite3_errmsg(self.database)))
    }
}
