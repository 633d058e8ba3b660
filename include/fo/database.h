// fo::Database: a handle on the embedded store, one SQLite file holding every
// dataset, sample, label, brain run and sklearn index. Open one per process
// and share it (std::shared_ptr); calls are serialised internally, so the
// handle is thread-safe. Other processes may use the same file: SQLite's
// locking and WAL mode keep them consistent.
#ifndef FO_DATABASE_H_
#define FO_DATABASE_H_

#include <memory>
#include <string>

namespace fo {

namespace internal { class Sqlite; }

class Database {
 public:
  // The schema version this build reads and writes (docs/storage.md).
  static constexpr int kSchemaVersion = 3;

  // $FO_DATABASE_PATH if set and non-empty, else ~/.fiftyone/cpp/fo.db.
  static std::string DefaultPath();

  // Opens (creating if needed, with parent directories) the store at `path`.
  // Throws kIOError if it cannot be opened, kCorruption if it is not an fo
  // store or has a newer schema than this build.
  static std::shared_ptr<Database> Open(const std::string& path);
  // How long a write waits for another process's write lock before it
  // fails with kUnavailable: $FO_BUSY_TIMEOUT seconds, default 60. Reads
  // never wait for writers (SQLite's WAL mode).
  static int BusyTimeoutMs();
  // Open(DefaultPath()).
  static std::shared_ptr<Database> OpenDefault();

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  internal::Sqlite& sqlite() { return *sqlite_; }

 private:
  Database(std::string path, std::unique_ptr<internal::Sqlite> sqlite);
  std::string path_;
  std::unique_ptr<internal::Sqlite> sqlite_;
};

}  // namespace fo

#endif  // FO_DATABASE_H_
