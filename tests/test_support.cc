#include "test_support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace fo::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "fo-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string SharedDir() { return FO_SHARED_DIR; }
std::string SourceDir() { return FO_SOURCE_DIR; }
std::string CliPath() { return FO_CLI_PATH; }

Matrix RandomMatrix(size_t n, size_t d, uint64_t seed, float stddev) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  Matrix m(n, d);
  for (size_t i = 0; i < n * d; ++i) m.data()[i] = normal(rng);
  return m;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
  if (!out) throw std::runtime_error("cannot write " + path);
}

void IsolateBrainConfig(const TempDir& dir) {
  setenv("FIFTYONE_BRAIN_CONFIG_PATH", dir.File("brain_config.json").c_str(), 1);
  unsetenv("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND");
}

CommandResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  TempDir dir;
  std::string out_path = dir.File("out"), err_path = dir.File("err");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = open("/dev/null", O_RDONLY);
    dup2(out, 1);
    dup2(err, 2);
    dup2(in, 0);
    for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> argv;
    std::string cli = CliPath();
    argv.push_back(cli.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(cli.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out_path);
  r.err = ReadFile(err_path);
  return r;
}

QdrantServer::QdrantServer(const std::string& api_key) {
  const char* env_url = std::getenv("QDRANT_URL");
  if (env_url != nullptr && *env_url != '\0') {
    url_ = env_url;
    const char* env_key = std::getenv("QDRANT_API_KEY");
    api_key_ = env_key ? env_key : "";
    return;
  }
  api_key_ = api_key;
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive a test that crashed or timed out
    dup2(out[1], 1);
    close(out[0]);
    std::vector<std::string> args = {FO_QDRANT_TEST_SERVER_PATH, "--port", "0", "--host", "127.0.0.1"};
    if (!api_key.empty()) {
      args.push_back("--api-key");
      args.push_back(api_key);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  pid_ = pid;
  // The server prints its URL as its first line once it is listening.
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  if (line.rfind("http", 0) != 0) throw std::runtime_error("qdrant-test-server did not start: '" + line + "'");
  url_ = line;
}

QdrantServer::~QdrantServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
}

Error CaughtError(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an fo::Error";
  return Error(ErrorCode::kInternal, "no error was thrown");
}

}  // namespace fo::testing
