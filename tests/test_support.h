// Helpers shared by the tests: temporary directories, a fresh store, paths
// to the shared fixtures and the CLI binary.
#ifndef FO_TESTS_TEST_SUPPORT_H_
#define FO_TESTS_TEST_SUPPORT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fo/database.h"
#include "fo/error.h"
#include "fo/matrix.h"

namespace fo::testing {

// A directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A fresh store in its own temp dir.
struct TempStore {
  TempDir dir;
  std::shared_ptr<Database> db = Database::Open(dir.File("fo.db"));
};

// Points the brain config at `dir`/brain_config.json (absent unless a test
// writes it) and clears the default-backend variable, so that a developer's
// own ~/.fiftyone/brain_config.json or environment cannot change a test.
void IsolateBrainConfig(const TempDir& dir);

// ../shared beside the repository root.
std::string SharedDir();
std::string SourceDir();
std::string CliPath();

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs `fo` with args (no shell) and env additions "K=V"; captures output.
CommandResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// A Qdrant server for a test: $QDRANT_URL (with $QDRANT_API_KEY) when set,
// so the integration tests can run against a real Qdrant; otherwise the
// project's qdrant-test-server started on a free loopback port (with
// `api_key` when given) and stopped on destruction.
class QdrantServer {
 public:
  explicit QdrantServer(const std::string& api_key = "");
  ~QdrantServer();
  QdrantServer(const QdrantServer&) = delete;
  QdrantServer& operator=(const QdrantServer&) = delete;
  const std::string& url() const { return url_; }
  const std::string& api_key() const { return api_key_; }
  // True when talking to the project's test server (fault injection works).
  bool is_test_server() const { return pid_ > 0; }

 private:
  std::string url_;
  std::string api_key_;
  int pid_ = -1;
};

// n x d values from a normal distribution (mean 0, `stddev`), reproducible
// for a seed.
Matrix RandomMatrix(size_t n, size_t d, uint64_t seed, float stddev = 1.0f);

// The fo::Error `f` throws; a test failure (and kInternal) if it throws none.
Error CaughtError(const std::function<void()>& f);
inline ErrorCode CodeOf(const std::function<void()>& f) { return CaughtError(f).code(); }

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);

}  // namespace fo::testing

#endif  // FO_TESTS_TEST_SUPPORT_H_
