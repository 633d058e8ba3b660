#include "fo/database.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "fo/error.h"
#include "store/open_hooks.h"
#include "store/schema.h"
#include "store/sqlite.h"

namespace fo {

namespace fs = std::filesystem;

std::string Database::DefaultPath() {
  const char* env = std::getenv("FO_DATABASE_PATH");
  if (env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.fiftyone/cpp/fo.db";
}

int Database::BusyTimeoutMs() {
  const char* env = std::getenv("FO_BUSY_TIMEOUT");
  if (env == nullptr || *env == '\0') return 60000;
  char* end = nullptr;
  double seconds = std::strtod(env, &end);
  if (end == env || *end != '\0' || !(seconds >= 0) || seconds > 1e6)
    throw InvalidArgument(std::string("FO_BUSY_TIMEOUT='") + env + "' is not a number of seconds; unset it or give e.g. 120");
  return static_cast<int>(seconds * 1000);
}

std::shared_ptr<Database> Database::Open(const std::string& path) {
  fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) throw IOError("cannot create the directory of the store " + path + ": " + ec.message());
  }
  auto sqlite = std::make_unique<internal::Sqlite>(path, BusyTimeoutMs());
  try {
    sqlite->Exec("PRAGMA journal_mode=WAL");
  } catch (const Error& e) {
    // Not a database (kCorruption), or a full disk or I/O error (kIOError).
    throw Error(e.code(), "cannot open the store " + path + ": " + e.what());
  }
  // A 64 MiB page cache and memory-mapped reads: a query on a view of
  // millions of samples touches index pages that would otherwise be re-read
  // with pread (and copied) on every call.
  sqlite->Exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824");
  try {
    internal::EnsureSchema(*sqlite, kSchemaVersion);
  } catch (const Error& e) {
    throw Error(e.code(), "cannot open the store " + path + ": " + e.what());
  }
  auto db = std::shared_ptr<Database>(new Database(path, std::move(sqlite)));
  internal::RunStoreOpenHooks(*db);
  return db;
}

namespace internal {

namespace {
std::vector<StoreOpenHook>& Hooks() {
  static std::vector<StoreOpenHook> hooks;  // filled by static initializers, before main
  return hooks;
}
}  // namespace

void AddStoreOpenHook(StoreOpenHook hook) { Hooks().push_back(hook); }

void RunStoreOpenHooks(Database& db) {
  for (StoreOpenHook hook : Hooks()) hook(db);
}

}  // namespace internal

std::shared_ptr<Database> Database::OpenDefault() { return Open(DefaultPath()); }

Database::Database(std::string path, std::unique_ptr<internal::Sqlite> sqlite)
    : path_(std::move(path)), sqlite_(std::move(sqlite)) {}

Database::~Database() = default;

}  // namespace fo
