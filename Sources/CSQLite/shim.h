#ifndef NIGHTSHIFT_CSQLITE_SHIM_H
#define NIGHTSHIFT_CSQLITE_SHIM_H
#include <sqlite3.h>
#include <unistd.h>

// SQLITE_TRANSIENT is a macro around a function-pointer cast that Swift cannot import.
static inline sqlite3_destructor_type nightshift_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

// Switches a database to WAL mode. Two processes opening a new database at the same moment can get SQLITE_BUSY
// from this pragma without the busy handler being called, so it is retried every 20 ms for up to `timeout_ms`.
static inline int nightshift_sqlite_enable_wal(sqlite3 *database, int timeout_ms) {
    int waited = 0;
    for (;;) {
        int code = sqlite3_exec(database, "PRAGMA journal_mode=WAL", 0, 0, 0);
        if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || waited >= timeout_ms) {
            return code;
        }
        usleep(20000);
        waited += 20;
    }
}
#endif
