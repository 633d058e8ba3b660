#include "store/sqlite.h"

#include <atomic>
#include <cerrno>
#include <string>

#include "core/os_error.h"
#include "fo/error.h"

namespace fo::internal {

namespace {

bool IsDiskFull(sqlite3* db, int rc) {
  if ((rc & 0xff) == SQLITE_FULL) return true;
  // The unix VFS reports a write's ENOSPC as SQLITE_FULL, but a failed
  // fsync, truncate or shared-memory write as an I/O error with the errno.
  return (rc & 0xff) == SQLITE_IOERR && db != nullptr && sqlite3_system_errno(db) == ENOSPC;
}

// `message` is the line for most codes; `what` says what was tried.
[[noreturn]] void ThrowSqliteMessage(sqlite3* db, int rc, std::string_view what, const std::string& message) {
  if (IsDiskFull(db, rc)) {
    const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
    throw DiskFull(file != nullptr && *file != '\0' ? file : "the store");
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
      throw Error(ErrorCode::kUnavailable, std::string(what) + ": another process holds the store's write lock and did not release it "
                        "within the busy timeout ($FO_BUSY_TIMEOUT seconds, default 60); try again when it has finished");
    case SQLITE_CONSTRAINT:
      throw InvalidArgument(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      throw Corruption(message);
    default:
      throw IOError(message);
  }
}

}  // namespace

[[noreturn]] void ThrowSqlite(sqlite3* db, int rc, std::string_view what) {
  ThrowSqliteMessage(db, rc, what, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) ThrowSqlite(db, rc, "preparing a query");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Statement& Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindUnowned(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindBlob(int i, const void* data, size_t bytes) {
  sqlite3_bind_blob64(stmt_, i, data, bytes, SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  ThrowSqlite(db_, rc, "running a query");
}

void Statement::Run() {
  while (Step()) {
  }
  Reset();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int Statement::ColumnType(int col) const { return sqlite3_column_type(stmt_, col); }
int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::Double(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
}
std::string_view Statement::TextView(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  return p ? std::string_view(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string_view();
}
std::span<const uint8_t> Statement::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  return {static_cast<const uint8_t*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}

Sqlite::Sqlite(const std::string& path, int busy_timeout_ms) : busy_timeout_ms_(busy_timeout_ms) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open the store " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close(db_);
    db_ = nullptr;
    throw IOError(msg);
  }
  sqlite3_busy_timeout(db_, busy_timeout_ms);
}

Sqlite::~Sqlite() { sqlite3_close(db_); }

void Sqlite::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    ThrowSqliteMessage(db_, rc, msg, msg + ": " + sqlite3_errstr(rc));
  }
}

std::string Sqlite::ChangeStamp() {
  Statement pragma = Prepare("PRAGMA data_version");
  pragma.Step();
  return std::to_string(pragma.Int(0)) + ':' + std::to_string(sqlite3_total_changes64(db_));
}

int64_t Sqlite::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Sqlite::Changes() const { return sqlite3_changes(db_); }

Transaction::Transaction(Sqlite& db) : db_(db), lock_(db.mutex()) {
  if (sqlite3_get_autocommit(db_.raw())) {
    db_.Exec("BEGIN IMMEDIATE");
  } else {
    static std::atomic<int> counter{0};
    savepoint_ = "sp" + std::to_string(counter++);
    db_.Exec("SAVEPOINT " + savepoint_);
  }
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    if (savepoint_.empty()) {
      db_.before_commit_.clear();
      db_.Exec("ROLLBACK");
    } else {
      db_.Exec("ROLLBACK TO " + savepoint_);
      db_.Exec("RELEASE " + savepoint_);
    }
  } catch (...) {
    // The original error is what the caller needs to see. (After a full
    // disk or an I/O error SQLite may have rolled back already.)
  }
  if (!savepoint_.empty()) return;
  std::vector<std::function<void()>> callbacks = std::move(db_.after_rollback_);
  db_.after_rollback_.clear();
  for (auto& fn : callbacks) {
    try {
      fn();
    } catch (...) {
      // Cleanup that fails now is retried later (e.g. garbage collection).
    }
  }
}

void Transaction::Commit() {
  if (savepoint_.empty()) {
    // Moved out first: a callback that throws leaves none behind, and the
    // destructor rolls the transaction back.
    std::vector<std::function<void()>> callbacks = std::move(db_.before_commit_);
    db_.before_commit_.clear();
    for (auto& fn : callbacks) fn();
  }
  db_.Exec(savepoint_.empty() ? "COMMIT" : "RELEASE " + savepoint_);
  done_ = true;
  if (savepoint_.empty()) db_.after_rollback_.clear();
}

}  // namespace fo::internal
