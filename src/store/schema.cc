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
-- >>> sklearn index files (branch index-files). FOR NOW in version 1; the
-- store owner moves this block into the schema-v2 migration (which also
-- drops index_items). One row per saved sklearn index: its generation
-- directory (relative to <store>.files/), the committed row count (the
-- truth: bytes past it in the append-only column files are ignored), the
-- dimension, the storage type, how many rows are removed, and a random
-- stamp changed by every write so that open handles notice any commit.
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
-- <<< sklearn index files
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

}  // namespace

void EnsureSchema(Sqlite& db, int version) {
  Transaction txn(db);
  int stored = StoredVersion(db);
  if (stored == 0) {
    if (!IsEmpty(db)) throw Corruption("the file is an SQLite database but not an fo store");
    db.Exec(kSchemaV1);
    db.Prepare("INSERT INTO meta(key, value) VALUES('schema_version', ?)").Bind(1, std::to_string(version)).Run();
  } else if (stored > version) {
    throw Corruption("the store has schema version " + std::to_string(stored) + ", newer than this build's " +
                     std::to_string(version) + "; upgrade fo");
  }
  // Migrations from older versions go here, one step per version.
  txn.Commit();
}

}  // namespace fo::internal
