// The rows of a view as a temporary table, for edits that update many rows
// with one statement. temp.view_rows(i, k): i is the row's 0-based position
// in view order (the primary key, so values bound as one JSON array join
// on it by index), k the sample key. Filled inside the caller's
// transaction, so a rollback empties it too.
#ifndef FO_STORE_VIEW_ROWS_H_
#define FO_STORE_VIEW_ROWS_H_

#include <cstdint>
#include <vector>

#include "fo/view.h"
#include "store/sqlite.h"

namespace fo::internal {

// Replaces temp.view_rows by the rows of `view` and returns their count.
// REQUIRES: inside a Transaction on the view's store.
int64_t LoadViewRows(Sqlite& db, const View& view);

// The keys of temp.view_rows in view order.
std::vector<int64_t> ViewRowKeys(Sqlite& db);

}  // namespace fo::internal

#endif  // FO_STORE_VIEW_ROWS_H_
