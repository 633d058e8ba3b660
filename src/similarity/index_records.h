// The store's side of a saved sklearn index: its index_files row (which
// generation directory, how many rows are committed) and its removed rows
// (index_removed), plus the garbage collection of generation directories
// that no committed row references. The files themselves: index_files.h.
//
// Callers hold the store's mutex (or a Transaction) around each call,
// except CollectIndexGarbage, which takes what it needs.
#ifndef FO_SIMILARITY_INDEX_RECORDS_H_
#define FO_SIMILARITY_INDEX_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fo {
class Database;
namespace internal {

class Sqlite;

struct FilesRecord {
  std::string dir;          // generation directory, relative to FilesRoot()
  int64_t rows = 0;         // committed rows
  int64_t dim = 0;
  std::string storage = "float32";
  int64_t removed = 0;      // rows listed in index_removed
  int64_t stamp = 0;        // random, new on every write

  bool operator==(const FilesRecord&) const = default;
};

// `<store path>.files`: where generation directories live.
std::string FilesRoot(const Database& db);
// A fresh directory name for a run: "run-<run_id>-<16 hex digits>".
std::string NewGenerationName(int64_t run_id);
// A fresh random stamp.
int64_t NewStamp();

std::optional<FilesRecord> ReadFilesRecord(Sqlite& db, int64_t run_id);
// Inserts or updates the run's row.
void WriteFilesRecord(Sqlite& db, int64_t run_id, const FilesRecord& r);
// Deletes the run's row and its removed rows.
void DeleteFilesRecord(Sqlite& db, int64_t run_id);
std::vector<int64_t> ReadRemovedRows(Sqlite& db, int64_t run_id);
void AddRemovedRows(Sqlite& db, int64_t run_id, const std::vector<int64_t>& rows);
void ClearRemovedRows(Sqlite& db, int64_t run_id);
// The run's brain key ("?" if the run is gone), for error messages.
std::string RunKey(Sqlite& db, int64_t run_id);

// Has the generation directory `name`, just created for the open
// transaction, deleted if that transaction rolls back (a full disk, an
// error) rather than at the next garbage collection; a directory that a
// committed row refers to is kept. REQUIRES: inside a Transaction.
void RemoveGenerationOnRollback(Database& db, const std::string& name);

// Deletes generation directories that no committed index_files row
// references and that no writer holds. Does nothing inside a transaction
// (its uncommitted state may still be rolled back) or while another
// connection holds the store's write lock (never waits); errors are ignored,
// since the garbage is retried on the next open.
void CollectIndexGarbage(Database& db);

}  // namespace internal
}  // namespace fo

#endif  // FO_SIMILARITY_INDEX_RECORDS_H_
