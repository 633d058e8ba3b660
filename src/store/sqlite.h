// A thin RAII layer over the SQLite C API: prepared statements with typed
// binds and reads, and transactions. SQLite result codes are translated into
// fo::Error here and nowhere else.
#ifndef FO_STORE_SQLITE_H_
#define FO_STORE_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fo::internal {

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based, as in SQLite. Each returns *this for chaining.
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, int v) { return Bind(i, int64_t{v}); }
  Statement& Bind(int i, size_t v) { return Bind(i, static_cast<int64_t>(v)); }
  Statement& Bind(int i, double v);
  Statement& Bind(int i, std::string_view v);
  Statement& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  // Binds text without SQLite's copy: `v` must stay alive and unchanged
  // until the statement is next reset (bulk inserts that bind and run).
  Statement& BindUnowned(int i, std::string_view v);
  Statement& BindBlob(int i, const void* data, size_t bytes);
  Statement& BindNull(int i);
  template <typename T>
  Statement& Bind(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  // Advances; true while a row is available.
  bool Step();
  // Runs to completion (for writes).
  void Run();
  void Reset();

  bool IsNull(int col) const;
  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL.
  int ColumnType(int col) const;
  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  // Valid until the next Step, Reset or column read of the statement.
  std::string_view TextView(int col) const;
  std::span<const uint8_t> Blob(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Sqlite {
 public:
  // Throws kIOError if the file cannot be opened. A write waits up to
  // busy_timeout_ms for another connection's write lock, then throws
  // kUnavailable saying so.
  explicit Sqlite(const std::string& path, int busy_timeout_ms = 60000);
  ~Sqlite();

  Statement Prepare(std::string_view sql) { return Statement(db_, sql); }
  void Exec(std::string_view sql);
  int64_t LastInsertRowId() const;
  int Changes() const;

  // Serialises access from threads of this process.
  std::recursive_mutex& mutex() { return mutex_; }
  sqlite3* raw() { return db_; }
  int busy_timeout_ms() const { return busy_timeout_ms_; }
  // Changes with every commit to the store, by another connection (SQLite's
  // data_version) or by this one (total_changes). Call with mutex() held.
  std::string ChangeStamp();

  // Runs `fn` when the outermost open Transaction commits, just before its
  // COMMIT, in the order registered; if one throws, nothing is committed and
  // the transaction rolls back. Dropped when the outermost transaction rolls
  // back. This is how files written beside the store (a similarity index's
  // columns) are made durable once per commit, before the rows that count
  // them can commit, however deeply the writes were nested. REQUIRES: inside
  // a Transaction of this connection (its mutex held).
  void BeforeCommit(std::function<void()> fn) { before_commit_.push_back(std::move(fn)); }
  // Runs `fn` after the outermost open Transaction rolls back (destroyed
  // without Commit, or its commit failed), in the order registered; what fn
  // throws is ignored. Dropped when it commits. This is how files made for a
  // write that never committed (a new generation of an sklearn index) go at
  // once, not at the next garbage collection. REQUIRES: inside a Transaction
  // of this connection (its mutex held).
  void AfterRollback(std::function<void()> fn) { after_rollback_.push_back(std::move(fn)); }

 private:
  friend class Transaction;

  sqlite3* db_ = nullptr;
  int busy_timeout_ms_;
  std::recursive_mutex mutex_;
  std::vector<std::function<void()>> before_commit_;   // of the open transaction
  std::vector<std::function<void()>> after_rollback_;  // of the open transaction
};

// Throws the fo::Error for a SQLite result code; `what` says what was tried.
// A full disk (SQLITE_FULL, or an I/O error with errno ENOSPC) is
// DiskFull(<store path>) (core/os_error.h), whatever was tried.
[[noreturn]] void ThrowSqlite(sqlite3* db, int rc, std::string_view what);

// BEGIN IMMEDIATE ... COMMIT, rolled back if Commit() is not reached. Nested
// transactions become savepoints, so library calls compose. Holds the
// store's mutex for its lifetime. The outermost one runs the connection's
// BeforeCommit callbacks before committing, and its AfterRollback callbacks
// when it rolls back.
class Transaction {
 public:
  explicit Transaction(Sqlite& db);
  ~Transaction();
  void Commit();

 private:
  Sqlite& db_;
  std::unique_lock<std::recursive_mutex> lock_;
  std::string savepoint_;
  bool done_ = false;
};

}  // namespace fo::internal

#endif  // FO_STORE_SQLITE_H_
