// Clone (fo/edits.h): copies a view's samples into a new dataset with
// INSERT ... SELECT statements over the view's rows (temp.view_rows). New
// keys are taken from the store's counters in one block, so copy i of the
// view gets key base + i; new ObjectIds are made here and bound as one JSON
// array joined by position.
#include <nlohmann/json.hpp>

#include "fo/database.h"
#include "fo/edits.h"
#include "fo/error.h"
#include "fo/object_id.h"
#include "store/sample_store.h"
#include "store/sqlite.h"
#include "store/view_rows.h"

namespace fo {

using internal::Sqlite;
using internal::Transaction;

namespace {

std::string NewIds(int64_t n) {
  nlohmann::json ids = nlohmann::json::array();
  for (int64_t i = 0; i < n; ++i) ids.push_back(NewObjectId());
  return ids.dump();
}

int64_t Count(Sqlite& db, const char* table) {
  auto q = db.Prepare(std::string("SELECT count(*) FROM ") + table);
  q.Step();
  return q.Int(0);
}

void CopySamples(Sqlite& db, int64_t dataset_id, int64_t rows, int64_t base) {
  db.Prepare("INSERT INTO samples(seq, dataset_id, id, filepath, tags, width, height, fields, size_bytes, mime_type, "
             "num_channels) SELECT ?1 + e.i, ?2, j.value, s.filepath, s.tags, s.width, s.height, s.fields, s.size_bytes, "
             "s.mime_type, s.num_channels "
             "FROM json_each(?3) AS j CROSS JOIN temp.view_rows AS e ON e.i = j.key CROSS JOIN samples AS s ON s.seq = e.k")
      .Bind(1, base).Bind(2, dataset_id).Bind(3, NewIds(rows)).Run();
  db.Prepare("INSERT INTO sample_tags(dataset_id, tag, sample_seq) "
             "SELECT ?2, t.tag, ?1 + e.i FROM temp.view_rows AS e JOIN sample_tags AS t ON t.sample_seq = e.k")
      .Bind(1, base).Bind(2, dataset_id).Run();
  db.Prepare("INSERT INTO sample_vectors(sample_seq, field, data) "
             "SELECT ?1 + e.i, v.field, v.data FROM temp.view_rows AS e JOIN sample_vectors AS v ON v.sample_seq = e.k")
      .Bind(1, base).Run();
}

// Labels of the copied samples, numbered in (sample, field, position) order.
void CopyLabels(Sqlite& db, int64_t sample_base) {
  db.Exec("CREATE TEMP TABLE IF NOT EXISTS clone_labels(i INTEGER PRIMARY KEY, old INTEGER NOT NULL, sample INTEGER NOT NULL)");
  db.Exec("DELETE FROM temp.clone_labels");
  db.Prepare("INSERT INTO temp.clone_labels(i, old, sample) "
             "SELECT row_number() OVER (ORDER BY e.i, l.field, l.position) - 1, l.seq, ?1 + e.i "
             "FROM temp.view_rows AS e JOIN labels AS l ON l.sample_seq = e.k")
      .Bind(1, sample_base).Run();
  const int64_t count = Count(db, "temp.clone_labels");
  const int64_t base = internal::ReserveKeys(db, "next_label_seq", count);
  db.Prepare("INSERT INTO labels(seq, sample_seq, field, position, id, label, x, y, w, h, confidence, attributes) "
             "SELECT ?1 + c.i, c.sample, l.field, l.position, j.value, l.label, l.x, l.y, l.w, l.h, l.confidence, l.attributes "
             "FROM json_each(?2) AS j CROSS JOIN temp.clone_labels AS c ON c.i = j.key CROSS JOIN labels AS l ON l.seq = c.old")
      .Bind(1, base).Bind(2, NewIds(count)).Run();
  db.Prepare("INSERT INTO label_vectors(label_seq, attr, data) "
             "SELECT ?1 + c.i, v.attr, v.data FROM temp.clone_labels AS c JOIN label_vectors AS v ON v.label_seq = c.old")
      .Bind(1, base).Run();
  db.Exec("DELETE FROM temp.clone_labels");
}

}  // namespace

Dataset Clone(const View& view, const std::string& name) {
  Sqlite& s = view.database()->sqlite();
  Transaction txn(s);
  Dataset copy = Dataset::Create(view.database(), name);
  const int64_t rows = internal::LoadViewRows(s, view);
  const int64_t base = internal::ReserveKeys(s, "next_sample_seq", rows);
  CopySamples(s, copy.id(), rows, base);
  CopyLabels(s, base);
  s.Prepare("INSERT INTO fields(dataset_id, name, type) SELECT ?1, name, type FROM fields WHERE dataset_id = ?2")
      .Bind(1, copy.id()).Bind(2, view.dataset_id()).Run();
  internal::AdjustSampleCount(s, copy.id(), rows);
  txn.Commit();
  return copy;
}

}  // namespace fo
