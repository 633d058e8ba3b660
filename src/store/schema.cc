#include "store/schema.h"

#include <string>

#include "fo/error.h"

namespace fo::internal {

namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE datasets(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL);
CREATE TABLE fields(
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  PRIMARY KEY(dataset_id, name));
CREATE TABLE samples(
  seq INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  id TEXT NOT NULL UNIQUE,
  filepath TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  width INTEGER,
  height INTEGER,
  fields TEXT NOT NULL DEFAULT '{}');
CREATE INDEX samples_by_dataset ON samples(dataset_id, seq);
CREATE TABLE sample_vectors(
  sample_seq INTEGER NOT NULL REFERENCES samples(seq) ON DELETE CASCADE,
  field TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(sample_seq, field)) WITHOUT ROWID;
CREATE TABLE labels(
  seq INTEGER PRIMARY KEY,
  sample_seq INTEGER NOT NULL REFERENCES samples(seq) ON DELETE CASCADE,
  field TEXT NOT NULL,
  position INTEGER NOT NULL,
  id TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
  confidence REAL,
  attributes TEXT NOT NULL DEFAULT '{}');
CREATE INDEX labels_by_sample ON labels(sample_seq, field, position);
CREATE TABLE label_vectors(
  label_seq INTEGER NOT NULL REFERENCES labels(seq) ON DELETE CASCADE,
  attr TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(label_seq, attr)) WITHOUT ROWID;
CREATE TABLE brain_runs(
  run_id INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  method TEXT NOT NULL,
  version TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  config TEXT NOT NULL,
  UNIQUE(dataset_id, key));
CREATE TABLE index_items(
  run_id INTEGER NOT NULL REFERENCES brain_runs(run_id) ON DELETE CASCADE,
  item_id TEXT NOT NULL,
  sample_id TEXT NOT NULL,
  vector BLOB NOT NULL,
  UNIQUE(run_id, item_id));
)sql";

// Version 2 (issue #11): keys that are never reused (counters in meta), a
// per-dataset sample count, and a tag table so match_tags is an index lookup.
constexpr const char* kV2Additions = R"sql(
ALTER TABLE datasets ADD COLUMN sample_count INTEGER NOT NULL DEFAULT 0;
CREATE TABLE sample_tags(
  dataset_id INTEGER NOT NULL,
  tag TEXT NOT NULL,
  sample_seq INTEGER NOT NULL REFERENCES samples(seq) ON DELETE CASCADE,
  PRIMARY KEY(dataset_id, tag, sample_seq)) WITHOUT ROWID;
CREATE INDEX sample_tags_by_sample ON sample_tags(sample_seq);
-- One row per saved sklearn index: its generation directory (relative to
-- <store>.files/), the committed row count (the truth: bytes past it in the
-- append-only column files are ignored), the dimension, the storage type,
-- how many rows are removed, and a random stamp changed by every write so
-- that open handles notice any commit. index_items (version 1's one BLOB
-- row per vector) stays only for runs written by version 1: the sklearn
-- backend moves a run's rows into files the first time it opens it.
CREATE TABLE index_files(
  run_id INTEGER PRIMARY KEY REFERENCES brain_runs(run_id) ON DELETE CASCADE,
  dir TEXT NOT NULL,
  rows INTEGER NOT NULL,
  dim INTEGER NOT NULL,
  storage TEXT NOT NULL,
  removed INTEGER NOT NULL DEFAULT 0,
  stamp INTEGER NOT NULL);
-- Rows of index_files.dir that were removed (remove_from_index, or replaced
-- by an upsert); cleared by compaction into a new generation.
CREATE TABLE index_removed(
  run_id INTEGER NOT NULL REFERENCES index_files(run_id) ON DELETE CASCADE,
  row INTEGER NOT NULL,
  PRIMARY KEY(run_id, row)) WITHOUT ROWID;
)sql";

// Fills what version 2 adds from a version-1 store's rows.
constexpr const char* kMigrateV1Data = R"sql(
UPDATE datasets SET sample_count = (SELECT count(*) FROM samples WHERE samples.dataset_id = datasets.id);
INSERT OR IGNORE INTO sample_tags(dataset_id, tag, sample_seq)
  SELECT s.dataset_id, t.value, s.seq FROM samples s, json_each(s.tags) t;
INSERT OR REPLACE INTO meta(key, value) VALUES
  ('next_sample_seq', (SELECT coalesce(max(seq), 0) + 1 FROM samples)),
  ('next_label_seq', (SELECT coalesce(max(seq), 0) + 1 FROM labels));
)sql";

// Version 3 (issue #12): the rest of FiftyOne's ImageMetadata beside
// width and height, filled by compute_metadata.
constexpr const char* kV3Additions = R"sql(
ALTER TABLE samples ADD COLUMN size_bytes INTEGER;
ALTER TABLE samples ADD COLUMN mime_type TEXT;
ALTER TABLE samples ADD COLUMN num_channels INTEGER;
)sql";

int StoredVersion(Sqlite& db) {
  auto has_meta = db.Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'");
  if (!has_meta.Step()) return 0;
  auto q = db.Prepare("SELECT value FROM meta WHERE key='schema_version'");
  if (!q.Step()) throw Corruption("the store has no schema version; it is not an fo store");
  return std::stoi(q.Text(0));
}

bool IsEmpty(Sqlite& db) {
  auto q = db.Prepare("SELECT count(*) FROM sqlite_master");
  q.Step();
  return q.Int(0) == 0;
}

void SetVersion(Sqlite& db, int version) {
  db.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)").Bind(1, std::to_string(version)).Run();
}

void CreateOrMigrate(Sqlite& db, int stored, int version) {
  if (stored == 0) {
    if (!IsEmpty(db)) throw Corruption("the file is an SQLite database but not an fo store");
    db.Exec(kSchemaV1);
  }
  // One step per version, from the stored one up; all run inside the
  // caller's transaction, so a failure leaves the file as it was.
  if (stored < 2) {
    db.Exec(kV2Additions);
    db.Exec(kMigrateV1Data);
  }
  if (stored < 3) db.Exec(kV3Additions);
  SetVersion(db, version);
}

void CheckNotNewer(int stored, int version) {
  if (stored > version)
    throw Corruption("the store has schema version " + std::to_string(stored) + ", newer than this build's " +
                     std::to_string(version) + "; upgrade fo");
}

}  // namespace

void EnsureSchema(Sqlite& db, int version) {
  // Read first, without a write lock, so that opening a current store never
  // waits for (or blocks) a writer in another process.
  int stored = 0;
  {
    std::lock_guard lock(db.mutex());
    stored = StoredVersion(db);
  }
  CheckNotNewer(stored, version);
  if (stored == version) return;
  Transaction txn(db);
  stored = StoredVersion(db);  // another process may have migrated meanwhile
  CheckNotNewer(stored, version);
  if (stored == version) return;
  CreateOrMigrate(db, stored, version);
  txn.Commit();
}

}  // namespace fo::internal
