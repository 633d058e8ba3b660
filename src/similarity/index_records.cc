#include "similarity/index_records.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <random>

#include "fo/database.h"
#include "fo/error.h"
#include "similarity/index_files.h"
#include "store/open_hooks.h"
#include "store/sqlite.h"

namespace fo::internal {

namespace {

uint64_t RandomU64() {
  thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}()};
  return rng();
}

std::vector<std::string> ReferencedDirs(Sqlite& db) {
  std::vector<std::string> dirs;
  auto q = db.Prepare("SELECT dir FROM index_files");
  while (q.Step()) dirs.push_back(q.Text(0));
  return dirs;
}

}  // namespace

std::string FilesRoot(const Database& db) { return db.path() + ".files"; }

std::string NewGenerationName(int64_t run_id) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(RandomU64()));
  return "run-" + std::to_string(run_id) + "-" + hex;
}

int64_t NewStamp() { return static_cast<int64_t>(RandomU64() >> 1); }

std::optional<FilesRecord> ReadFilesRecord(Sqlite& db, int64_t run_id) {
  auto q = db.Prepare("SELECT dir, rows, dim, storage, removed, stamp FROM index_files WHERE run_id = ?");
  q.Bind(1, run_id);
  if (!q.Step()) return std::nullopt;
  return FilesRecord{q.Text(0), q.Int(1), q.Int(2), q.Text(3), q.Int(4), q.Int(5)};
}

void WriteFilesRecord(Sqlite& db, int64_t run_id, const FilesRecord& r) {
  db.Prepare(
        "INSERT INTO index_files(run_id, dir, rows, dim, storage, removed, stamp) VALUES(?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(run_id) DO UPDATE SET dir = excluded.dir, rows = excluded.rows, dim = excluded.dim, "
        "storage = excluded.storage, removed = excluded.removed, stamp = excluded.stamp")
      .Bind(1, run_id).Bind(2, r.dir).Bind(3, r.rows).Bind(4, r.dim).Bind(5, r.storage).Bind(6, r.removed)
      .Bind(7, r.stamp).Run();
}

void DeleteFilesRecord(Sqlite& db, int64_t run_id) {
  ClearRemovedRows(db, run_id);
  db.Prepare("DELETE FROM index_files WHERE run_id = ?").Bind(1, run_id).Run();
}

std::vector<int64_t> ReadRemovedRows(Sqlite& db, int64_t run_id) {
  std::vector<int64_t> rows;
  auto q = db.Prepare("SELECT row FROM index_removed WHERE run_id = ?");
  q.Bind(1, run_id);
  while (q.Step()) rows.push_back(q.Int(0));
  return rows;
}

void AddRemovedRows(Sqlite& db, int64_t run_id, const std::vector<int64_t>& rows) {
  auto put = db.Prepare("INSERT OR IGNORE INTO index_removed(run_id, row) VALUES(?, ?)");
  for (int64_t r : rows) put.Bind(1, run_id).Bind(2, r).Run();
}

void ClearRemovedRows(Sqlite& db, int64_t run_id) {
  db.Prepare("DELETE FROM index_removed WHERE run_id = ?").Bind(1, run_id).Run();
}

std::string RunKey(Sqlite& db, int64_t run_id) {
  auto q = db.Prepare("SELECT key FROM brain_runs WHERE run_id = ?");
  q.Bind(1, run_id);
  return q.Step() ? q.Text(0) : "?";
}

void RemoveGenerationOnRollback(Database& db, const std::string& name) {
  Sqlite& s = db.sqlite();
  std::string dir = FilesRoot(db) + "/" + name;
  s.AfterRollback([&s, dir, name] {
    // The store's rows are the truth, even if a COMMIT reported a failure
    // after all (SQLite cannot always tell after a failed sync).
    std::vector<std::string> referenced = ReferencedDirs(s);
    if (std::find(referenced.begin(), referenced.end(), name) == referenced.end()) RemoveDir(dir);
  });
}

namespace {
// Index files left by a crash or a deleted run go when the store is opened.
// (Linked wherever the sklearn backend is: its registration refers to this file.)
const bool kCollectOnOpen = (AddStoreOpenHook([](Database& db) {
                               try {
                                 CollectIndexGarbage(db);
                               } catch (const Error&) {
                                 // A store we cannot clean now is cleaned on a later open.
                               }
                             }),
                             true);
}  // namespace

void CollectIndexGarbage(Database& db) {
  const std::string root = FilesRoot(db);
  std::vector<std::string> dirs = ListGenerationDirs(root);
  if (dirs.empty()) return;
  Sqlite& s = db.sqlite();
  std::lock_guard lock(s.mutex());
  if (!sqlite3_get_autocommit(s.raw())) return;
  {
    std::vector<std::string> referenced = ReferencedDirs(s);
    bool all_referenced = true;
    for (const auto& d : dirs) all_referenced = all_referenced && std::find(referenced.begin(), referenced.end(), d) != referenced.end();
    if (all_referenced) return;  // the usual case: no write lock taken
  }
  // Every file write of an index happens inside a write transaction, so
  // while we hold the write lock no other connection is between writing a
  // directory and committing the row that references it. The flock each
  // writer keeps on a directory it created covers the rest (RunFiles).
  sqlite3_busy_timeout(s.raw(), 0);
  try {
    Transaction txn(s);
    RemoveUnreferencedDirs(root, ReferencedDirs(s));
    txn.Commit();
  } catch (const Error&) {
    // Busy: another process is writing; its next open collects.
  }
  sqlite3_busy_timeout(s.raw(), s.busy_timeout_ms());
}

}  // namespace fo::internal
