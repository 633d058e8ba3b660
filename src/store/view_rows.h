// The rows of a view as a temporary table, for edits that update many rows
// with one statement. temp.view_rows(i, k): i is the row's 0-based position
// in view order (the primary key, so values bound as one JSON array join
// on it by index), k the sample key. Filled inside the caller's
// transaction, so a rollback empties it too.
#ifndef FO_STORE_VIEW_ROWS_H_
#define FO_STORE_VIEW_ROWS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "fo/view.h"
#include "store/sqlite.h"

namespace fo::internal {

// Replaces temp.view_rows by the rows of `view` and returns their count.
// REQUIRES: inside a Transaction on the view's store.
int64_t LoadViewRows(Sqlite& db, const View& view);

// The keys of temp.view_rows in view order.
std::vector<int64_t> ViewRowKeys(Sqlite& db);

// Replaces temp.row_values(k, json) by one row per view row: its sample key
// and element i of `values_json` (a JSON array as long as the view) as JSON
// text ('null' for null). Updates then look a row's value up by key:
// "UPDATE samples SET ... (SELECT json FROM temp.row_values WHERE k = seq)
// WHERE seq IN (SELECT k FROM temp.row_values)", which SQLite runs as one
// primary-key search per row (an UPDATE ... FROM joining json_each would
// scan the values once per sample). REQUIRES: LoadViewRows first.
void LoadRowValues(Sqlite& db, const std::string& values_json);

// The JSON text of json_each row `j` (true, false and null as literals).
inline constexpr const char* kJsonEachText =
    "CASE WHEN j.type IN ('true', 'false', 'null') THEN j.type WHEN j.type IN ('array', 'object') THEN j.value "
    "ELSE json_quote(j.value) END";

}  // namespace fo::internal

#endif  // FO_STORE_VIEW_ROWS_H_
