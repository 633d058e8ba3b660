#include "fo/database.h"

#include <cstdlib>
#include <filesystem>

#include "fo/error.h"
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

std::shared_ptr<Database> Database::Open(const std::string& path) {
  fs::path p(path);
  if (p.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) throw IOError("cannot create the directory of the store " + path + ": " + ec.message());
  }
  auto sqlite = std::make_unique<internal::Sqlite>(path);
  try {
    sqlite->Exec("PRAGMA journal_mode=WAL");
  } catch (const Error& e) {
    throw Corruption("cannot open the store " + path + ": " + e.what());
  }
  sqlite->Exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL");
  try {
    internal::EnsureSchema(*sqlite, kSchemaVersion);
  } catch (const Error& e) {
    throw Error(e.code(), "cannot open the store " + path + ": " + e.what());
  }
  return std::shared_ptr<Database>(new Database(path, std::move(sqlite)));
}

std::shared_ptr<Database> Database::OpenDefault() { return Open(DefaultPath()); }

Database::Database(std::string path, std::unique_ptr<internal::Sqlite> sqlite)
    : path_(std::move(path)), sqlite_(std::move(sqlite)) {}

Database::~Database() = default;

}  // namespace fo
