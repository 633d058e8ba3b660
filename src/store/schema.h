// The store's SQLite schema (documented in docs/storage.md) and its version
// check. Vectors are stored as little-endian float32 BLOBs.
#ifndef FO_STORE_SCHEMA_H_
#define FO_STORE_SCHEMA_H_

#include "store/sqlite.h"

namespace fo::internal {

// Creates the tables of an empty store, or checks that an existing one has
// a schema this build can read. Throws kCorruption otherwise.
void EnsureSchema(Sqlite& db, int version);

}  // namespace fo::internal

#endif  // FO_STORE_SCHEMA_H_
