#include "store/view_rows.h"

#include "store/view_query.h"

namespace fo::internal {

int64_t LoadViewRows(Sqlite& db, const View& view) {
  ViewQuery q = view.Compile();
  db.Exec("CREATE TEMP TABLE IF NOT EXISTS view_rows(i INTEGER PRIMARY KEY, k INTEGER NOT NULL)");
  db.Exec("DELETE FROM temp.view_rows");
  // A key list may name deleted samples: the join with samples drops them.
  std::string rows = q.from_key_list ? " AS v JOIN samples AS s ON s.seq = v.k" : " AS v";
  q.Prepare(db, "INSERT INTO temp.view_rows(i, k) SELECT row_number() OVER (ORDER BY v.o) - 1, v.k FROM ", rows).Run();
  auto count = db.Prepare("SELECT count(*) FROM temp.view_rows");
  count.Step();
  return count.Int(0);
}

std::vector<int64_t> ViewRowKeys(Sqlite& db) {
  std::vector<int64_t> keys;
  auto q = db.Prepare("SELECT k FROM temp.view_rows ORDER BY i");
  while (q.Step()) keys.push_back(q.Int(0));
  return keys;
}

void LoadRowValues(Sqlite& db, const std::string& values_json) {
  db.Exec("CREATE TEMP TABLE IF NOT EXISTS row_values(k INTEGER PRIMARY KEY, json TEXT NOT NULL)");
  db.Exec("DELETE FROM temp.row_values");
  // CROSS JOIN keeps json_each outside: each value finds its row by key.
  db.Prepare(std::string("INSERT OR REPLACE INTO temp.row_values(k, json) SELECT e.k, ") + kJsonEachText +
             " FROM json_each(?) AS j CROSS JOIN temp.view_rows AS e ON e.i = j.key")
      .Bind(1, values_json).Run();
}

}  // namespace fo::internal
