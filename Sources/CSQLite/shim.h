#ifndef NIGHTSHIFT_CSQLITE_SHIM_H
#define NIGHTSHIFT_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro around a function-pointer cast that Swift cannot import.
static inline sqlite3_destructor_type nightshift_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}
#endif
