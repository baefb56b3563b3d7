import CSQLite
import Foundation

/// Errors from the notification outbox; each names the operation, the database file and SQLite's message.
public struct OutboxError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var message: String

    public var description: String {
        "notification outbox \(self.path): \(self.operation) failed: \(self.message). "
            + "Check that the state directory is writable and not full."
    }
}

/// One notification waiting for one notifier.
public struct OutboxEntry: Sendable {
    /// The row id, increasing in the order entries were added.
    public var id: Int64
    public var notifier: String
    public var notification: RunNotification
    /// The number of attempts made so far.
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    /// After this time the entry is given up.
    public var expiresAt: Date
}

/// Counts of outbox entries by state, over every notifier and since the database was created, minus pruned rows.
public struct NotificationStats: Sendable, Equatable, CustomStringConvertible {
    /// Waiting for a first attempt or for a retry.
    public var pending: Int
    public var delivered: Int
    /// Given up because the expiry passed or the attempts ran out.
    public var expired: Int
    /// Given up because the receiver rejected them with a final status.
    public var rejected: Int

    public init(pending: Int = 0, delivered: Int = 0, expired: Int = 0, rejected: Int = 0) {
        self.pending = pending
        self.delivered = delivered
        self.expired = expired
        self.rejected = rejected
    }

    public var description: String {
        "pending \(self.pending), delivered \(self.delivered), expired \(self.expired), rejected \(self.rejected)"
    }
}

/// The durable queue of notifications, one row per notification and notifier, in the SQLite table `outbox`.
///
/// The database runs in WAL mode with `synchronous=FULL`, so an added row survives a crash once `add` returns.
/// The table name is distinct from the journal's tables, so both may share one database file. The pair of
/// event id and notifier is unique, so adding the same event twice queues it once.
public final class NotificationOutbox: @unchecked Sendable {
    /// The database file, or `:memory:` for an outbox that lives only as long as the process.
    public let path: String
    private var database: OpaquePointer?
    private let lock = NSLock()

    public enum State: String, Sendable {
        case pending, delivered, expired, rejected
    }

    /// Opens or creates the outbox in `path`. Throws `OutboxError` when the file cannot be opened or written.
    public init(path: String) throws {
        self.path = path
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw OutboxError(operation: "open", path: path, message: message)
        }
        self.database = handle
        sqlite3_busy_timeout(handle, 5000)
        guard nightshift_sqlite_enable_wal(handle, 5000) == SQLITE_OK else {
            throw self.failure("PRAGMA journal_mode=WAL")
        }
        try self.execute("PRAGMA synchronous=FULL")
        try self.execute(
            """
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                event_id TEXT NOT NULL,
                notifier TEXT NOT NULL,
                notification TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL,
                next_attempt_at REAL NOT NULL,
                expires_at REAL NOT NULL,
                finished_at REAL,
                last_error TEXT,
                UNIQUE (event_id, notifier)
            )
            """
        )
        try self.execute("CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(state, notifier, id)")
    }

    deinit {
        sqlite3_close(self.database)
    }

    /// Adds `notification` for each of `notifiers` in one transaction and returns the number of rows added.
    /// A notifier that already has this event id is skipped, so a repeated event is not sent twice.
    @discardableResult
    public func add(_ notification: RunNotification, notifiers: [(name: String, expiresAt: Date)], now: Date) throws
        -> Int
    {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let json = String(decoding: try encoder.encode(notification), as: UTF8.self)
        return try self.locked {
            try self.execute("BEGIN IMMEDIATE")
            do {
                var added = 0
                for notifier in notifiers {
                    added += try self.run(
                        """
                        INSERT OR IGNORE INTO outbox
                            (event_id, notifier, notification, state, created_at, next_attempt_at, expires_at)
                        VALUES (?, ?, ?, 'pending', ?, ?, ?)
                        """,
                        [
                            .text(notification.eventId), .text(notifier.name), .text(json),
                            .real(now.timeIntervalSince1970), .real(now.timeIntervalSince1970),
                            .real(notifier.expiresAt.timeIntervalSince1970),
                        ]
                    )
                }
                try self.execute("COMMIT")
                return added
            } catch {
                try? self.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Returns the oldest pending entry of `notifier`, so each notifier sends events in the order they happened.
    public func nextPending(notifier: String) throws -> OutboxEntry? {
        try self.locked {
            try self.query(
                """
                SELECT id, notifier, notification, attempts, created_at, next_attempt_at, expires_at FROM outbox
                WHERE state = 'pending' AND notifier = ? ORDER BY id LIMIT 1
                """,
                [.text(notifier)]
            ).first
        }
    }

    /// Returns every pending entry, oldest first.
    public func pendingEntries() throws -> [OutboxEntry] {
        try self.locked {
            try self.query(
                """
                SELECT id, notifier, notification, attempts, created_at, next_attempt_at, expires_at FROM outbox
                WHERE state = 'pending' ORDER BY id
                """,
                []
            )
        }
    }

    /// Records a failed attempt that will be retried at `nextAttemptAt`.
    public func scheduleRetry(id: Int64, attempts: Int, nextAttemptAt: Date, error: String) throws {
        try self.locked {
            _ = try self.run(
                "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
                [.integer(Int64(attempts)), .real(nextAttemptAt.timeIntervalSince1970), .text(error), .integer(id)]
            )
        }
    }

    /// Moves an entry out of `pending` into `state`, with the number of attempts made and the last error.
    public func finish(id: Int64, state: State, attempts: Int, at now: Date, error: String?) throws {
        try self.locked {
            _ = try self.run(
                "UPDATE outbox SET state = ?, attempts = ?, finished_at = ?, last_error = ? WHERE id = ?",
                [
                    .text(state.rawValue), .integer(Int64(attempts)), .real(now.timeIntervalSince1970),
                    error.map(SQLiteValue.text) ?? .null, .integer(id),
                ]
            )
        }
    }

    /// Returns the number of entries in each state. `notifiers` limits the pending count to those notifiers.
    public func stats(pendingFor notifiers: [String]? = nil) throws -> NotificationStats {
        try self.locked {
            var stats = NotificationStats()
            let rows = try self.rows("SELECT state, notifier, COUNT(*) FROM outbox GROUP BY state, notifier", [])
            for row in rows {
                guard case .text(let state) = row[0], case .text(let notifier) = row[1],
                    case .integer(let count) = row[2]
                else { continue }
                switch State(rawValue: state) {
                case .pending:
                    if notifiers == nil || notifiers!.contains(notifier) {
                        stats.pending += Int(count)
                    }
                case .delivered: stats.delivered += Int(count)
                case .expired: stats.expired += Int(count)
                case .rejected: stats.rejected += Int(count)
                case nil: continue
                }
            }
            return stats
        }
    }

    /// Deletes finished entries older than `date` and returns how many were deleted.
    @discardableResult
    public func prune(finishedBefore date: Date) throws -> Int {
        try self.locked {
            try self.run(
                "DELETE FROM outbox WHERE state != 'pending' AND finished_at < ?",
                [.real(date.timeIntervalSince1970)]
            )
        }
    }

    // MARK: - SQLite

    enum SQLiteValue {
        case text(String)
        case integer(Int64)
        case real(Double)
        case null
    }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body()
    }

    private func failure(_ operation: String) -> OutboxError {
        OutboxError(operation: operation, path: self.path, message: String(cString: sqlite3_errmsg(self.database)))
    }

    private func execute(_ sql: String) throws {
        guard sqlite3_exec(self.database, sql, nil, nil, nil) == SQLITE_OK else {
            throw self.failure(String(sql.prefix(40)))
        }
    }

    private func prepare(_ sql: String, _ values: [SQLiteValue]) throws -> OpaquePointer {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(self.database, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw self.failure("prepare")
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .text(let text): sqlite3_bind_text(statement, index, text, -1, nightshift_sqlite_transient())
            case .integer(let number): sqlite3_bind_int64(statement, index, number)
            case .real(let number): sqlite3_bind_double(statement, index, number)
            case .null: sqlite3_bind_null(statement, index)
            }
        }
        return statement
    }

    /// Runs a statement that returns no rows and returns the number of rows it changed.
    private func run(_ sql: String, _ values: [SQLiteValue]) throws -> Int {
        let statement = try self.prepare(sql, values)
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_DONE else {
            throw self.failure("write")
        }
        return Int(sqlite3_changes(self.database))
    }

    private func rows(_ sql: String, _ values: [SQLiteValue]) throws -> [[SQLiteValue]] {
        let statement = try self.prepare(sql, values)
        defer { sqlite3_finalize(statement) }
        var result: [[SQLiteValue]] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw self.failure("read") }
            var row: [SQLiteValue] = []
            for column in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, column)))
                case SQLITE_NULL: row.append(.null)
                default: row.append(.text(String(cString: sqlite3_column_text(statement, column))))
                }
            }
            result.append(row)
        }
        return result
    }

    private func query(_ sql: String, _ values: [SQLiteValue]) throws -> [OutboxEntry] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try self.rows(sql, values).compactMap { row in
            guard case .integer(let id) = row[0], case .text(let notifier) = row[1], case .text(let json) = row[2],
                case .integer(let attempts) = row[3]
            else { return nil }
            func date(_ value: SQLiteValue) -> Date {
                switch value {
                case .real(let seconds): Date(timeIntervalSince1970: seconds)
                case .integer(let seconds): Date(timeIntervalSince1970: Double(seconds))
                default: Date(timeIntervalSince1970: 0)
                }
            }
            guard let notification = try? decoder.decode(RunNotification.self, from: Data(json.utf8)) else {
                // A row this version cannot read is given up rather than retried forever.
                _ = try? self.run(
                    "UPDATE outbox SET state = 'expired', last_error = 'unreadable row' WHERE id = ?",
                    [.integer(id)]
                )
                return nil
            }
            return OutboxEntry(
                id: id,
                notifier: notifier,
                notification: notification,
                attempts: Int(attempts),
                createdAt: date(row[4]),
                nextAttemptAt: date(row[5]),
                expiresAt: date(row[6])
            )
        }
    }
}
