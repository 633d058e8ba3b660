// Tests of the model zoo: the manifest, the cache, and downloads against an
// in-process HTTP server with switchable faults (corrupted bodies, dropped
// connections, servers that ignore ranges, HTTP errors), plus the
// `fo zoo models` commands and the progress line.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/progress.h"
#include "fo/error.h"
#include "fo/zoo.h"
#include "test_support.h"
#include "zoo/sha256.h"

namespace fo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::RunCli;
using testing::TempDir;

constexpr size_t kPayloadSize = 3 << 20;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

std::string Sha256Of(const std::string& data) {
  TempDir dir;
  testing::WriteFile(dir.File("data"), data);
  return internal::Sha256File(dir.File("data"));
}

// A port on which nothing listens: bound once to learn a free number, then
// released, so connecting to it is refused.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// An HTTP file server on a loopback port that answers "Range: bytes=N-"
// itself (httplib's own range handling is switched off per request), so
// that a fault can make it ignore ranges. Faults apply to the next
// requests, each counted down as it is used.
class FileServer {
 public:
  FileServer() {
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Connections queue on the bound socket until the loop accepts them, so
    // requests may be made at once.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FileServer() {
    // stop() before the loop has started would be lost and join would hang.
    while (!server_.is_running()) std::this_thread::yield();
    server_.stop();
    thread_.join();
  }

  void Serve(const std::string& path, std::string data) {
    std::lock_guard lock(mu_);
    files_[path] = std::move(data);
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  void CorruptNext(int n) { std::lock_guard lock(mu_); corrupt_ = n; }
  void DropNext(int n) { std::lock_guard lock(mu_); drop_ = n; }
  void IgnoreRanges() { std::lock_guard lock(mu_); ignore_range_ = true; }
  void FailNext(int n, int status) { std::lock_guard lock(mu_); fail_ = n; fail_status_ = status; }

  int requests() { std::lock_guard lock(mu_); return static_cast<int>(ranges_.size()); }
  // The Range header of each request so far ("" when there was none).
  std::vector<std::string> ranges() { std::lock_guard lock(mu_); return ranges_; }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu_);
    const std::string range = req.get_header_value("Range");
    ranges_.push_back(range);
    // The Request object is the server's own, not const: clearing its
    // parsed ranges keeps httplib from slicing the body a second time.
    const_cast<httplib::Request&>(req).ranges.clear();
    auto it = files_.find(req.path);
    if (it == files_.end()) {
      res.status = 404;
      return;
    }
    if (fail_ > 0) {
      --fail_;
      res.status = fail_status_;
      return;
    }
    std::string body = it->second;
    if (corrupt_ > 0) {
      --corrupt_;
      body[body.size() / 3] ^= 0x01;
    }
    const size_t offset = range.starts_with("bytes=") ? std::stoull(range.substr(6)) : 0;
    if (offset > 0 && !ignore_range_) {
      res.status = 206;
      res.set_header("Content-Range", "bytes " + std::to_string(offset) + "-" + std::to_string(body.size() - 1) +
                                          "/" + std::to_string(body.size()));
      body = body.substr(offset);
    }
    if (drop_ > 0) {
      --drop_;
      // Announce the whole length, send half, then close the connection.
      auto shared = std::make_shared<std::string>(std::move(body));
      res.set_content_provider(shared->size(), "application/octet-stream",
                               [shared](size_t, size_t, httplib::DataSink& sink) {
                                 sink.write(shared->data(), shared->size() / 2);
                                 return false;
                               });
      return;
    }
    res.set_content(body, "application/octet-stream");
  }

  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, std::string> files_;
  std::vector<std::string> ranges_;
  int corrupt_ = 0, drop_ = 0, fail_ = 0, fail_status_ = 0;
  bool ignore_range_ = false;
};

ZooDownloadOptions Quiet(int max_attempts = 4) {
  ZooDownloadOptions options;
  options.progress = false;
  options.max_attempts = max_attempts;
  options.connect_timeout_seconds = 5;
  return options;
}

// Each test gets its own cache directory and no manifest file.
class ZooTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("FIFTYONE_CPP_MODEL_ZOO_DIR", cache_.path().c_str(), 1);
    unsetenv("FIFTYONE_CPP_MODEL_ZOO_MANIFEST");
    server_.Serve("/payload.bin", payload_);
  }
  void TearDown() override {
    unsetenv("FIFTYONE_CPP_MODEL_ZOO_DIR");
    unsetenv("FIFTYONE_CPP_MODEL_ZOO_MANIFEST");
  }

  void Download(const fs::path& dest, int max_attempts = 4) {
    DownloadFile(server_.Url("/payload.bin"), dest, sha_, payload_.size(), Quiet(max_attempts));
  }
  fs::path Dest() const { return fs::path(dir_.path()) / "sub" / "payload.bin"; }
  static fs::path Part(const fs::path& dest) { return fs::path(dest) += ".part"; }
  // Nothing but the finished file (if any) is left in the directory.
  static std::vector<std::string> Listing(const fs::path& dir) {
    std::vector<std::string> names;
    if (!fs::exists(dir)) return names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir cache_;
  TempDir dir_;
  FileServer server_;
  const std::string payload_ = RandomBytes(kPayloadSize, 7);
  const std::string sha_ = Sha256Of(payload_);
};

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(ZooTest, DownloadLandsVerifiedWithNothingElseLeft) {
  Download(Dest());
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  EXPECT_EQ(Listing(Dest().parent_path()), std::vector<std::string>{"payload.bin"});
  EXPECT_EQ(server_.requests(), 1);
}

TEST_F(ZooTest, CorruptedEveryTimeFailsWithCorruptionAndLeavesNothing) {
  server_.CorruptNext(100);
  try {
    Download(Dest(), 3);
    FAIL() << "expected a corruption error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("sha256 mismatch for payload.bin: expected " + sha_ + ", got "),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(server_.requests(), 3);
  EXPECT_TRUE(Listing(Dest().parent_path()).empty());
}

TEST_F(ZooTest, CorruptedOnceIsRetriedCleanlyFromZero) {
  server_.CorruptNext(1);
  Download(Dest());
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  EXPECT_EQ(server_.ranges(), (std::vector<std::string>{"", ""}));
  EXPECT_FALSE(fs::exists(Part(Dest())));
}

TEST_F(ZooTest, DroppedConnectionIsResumedWithARangeRequest) {
  server_.DropNext(1);
  Download(Dest());
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  const std::vector<std::string> ranges = server_.ranges();
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(kPayloadSize / 2) + "-");
  EXPECT_FALSE(fs::exists(Part(Dest())));
}

TEST_F(ZooTest, ResumeAgainstServerIgnoringRangesRestartsFromZero) {
  server_.IgnoreRanges();
  server_.DropNext(1);
  Download(Dest());
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  const std::vector<std::string> ranges = server_.ranges();
  ASSERT_GE(ranges.size(), 2u);
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(kPayloadSize / 2) + "-");
  EXPECT_EQ(ranges.back(), "");
}

TEST_F(ZooTest, PartialFileAgainstServerIgnoringRangesRestartsWithoutUsingAnAttempt) {
  server_.IgnoreRanges();
  fs::create_directories(Dest().parent_path());
  testing::WriteFile(Part(Dest()).string(), payload_.substr(0, 1 << 20));
  Download(Dest(), 1);
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  EXPECT_EQ(server_.ranges(), (std::vector<std::string>{"bytes=1048576-", ""}));
}

TEST_F(ZooTest, PartialFileFromEarlierRunIsResumed) {
  fs::create_directories(Dest().parent_path());
  testing::WriteFile(Part(Dest()).string(), payload_.substr(0, 1 << 20));
  Download(Dest());
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  EXPECT_EQ(server_.ranges(), std::vector<std::string>{"bytes=1048576-"});
  EXPECT_FALSE(fs::exists(Part(Dest())));
}

TEST_F(ZooTest, WrongPartialFileFromEarlierRunIsReplaced) {
  fs::create_directories(Dest().parent_path());
  testing::WriteFile(Part(Dest()).string(), std::string(1 << 20, 'x'));
  Download(Dest());
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  EXPECT_EQ(server_.ranges(), (std::vector<std::string>{"bytes=1048576-", ""}));
}

TEST_F(ZooTest, NotFoundFailsAtOnce) {
  try {
    DownloadFile(server_.Url("/missing.bin"), Dest(), sha_, 0, Quiet());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("HTTP 404"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server_.requests(), 1);
  EXPECT_TRUE(Listing(Dest().parent_path()).empty());
}

TEST_F(ZooTest, ServerErrorsAreRetried) {
  server_.FailNext(2, 503);
  Download(Dest());
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  EXPECT_EQ(server_.requests(), 3);
}

TEST_F(ZooTest, PersistentServerErrorGivesUpAsUnavailable) {
  server_.FailNext(100, 500);
  try {
    Download(Dest(), 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
    EXPECT_NE(std::string(e.what()).find("HTTP 500"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server_.requests(), 2);
}

TEST_F(ZooTest, FileUrlsWork) {
  const std::string source = dir_.File("mirror.bin");
  testing::WriteFile(source, payload_);
  DownloadFile("file://" + source, Dest(), sha_, payload_.size(), Quiet());
  EXPECT_EQ(testing::ReadFile(Dest().string()), payload_);
  try {
    DownloadFile("file://" + dir_.File("absent.bin"), dir_.File("absent"), "", 0, Quiet());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound) << e.what();
  }
}

ZooModelInfo TestModel(const std::string& name, const FileServer& server, const std::string& sha,
                       uint64_t size) {
  ZooModelInfo info;
  info.name = name;
  info.description = "test model";
  info.dimension = 3;
  info.files = {{.filename = "weights.bin", .url = server.Url("/payload.bin"), .sha256 = sha, .size = size},
                {.filename = "vocab.txt", .url = server.Url("/vocab.txt"), .sha256 = Sha256Of("a b c\n"), .size = 6}};
  return info;
}

TEST_F(ZooTest, EnsureDownloadsEveryFileOnceIntoTheZooDir) {
  server_.Serve("/vocab.txt", "a b c\n");
  RegisterZooModel(TestModel("ensure-test", server_, sha_, payload_.size()));
  EXPECT_FALSE(IsZooModelDownloaded("ensure-test"));
  const fs::path model_dir = fs::path(cache_.path()) / "ensure-test";
  const std::vector<fs::path> paths = EnsureZooModel("ensure-test");
  EXPECT_EQ(paths, (std::vector<fs::path>{model_dir / "weights.bin", model_dir / "vocab.txt"}));
  EXPECT_EQ(testing::ReadFile(paths[0].string()), payload_);
  EXPECT_EQ(testing::ReadFile(paths[1].string()), "a b c\n");
  EXPECT_TRUE(IsZooModelDownloaded("ensure-test"));
  EXPECT_EQ(server_.requests(), 2);
  EXPECT_EQ(EnsureZooModel("ensure-test"), paths);
  EXPECT_EQ(server_.requests(), 2);
  EXPECT_EQ(Listing(model_dir), (std::vector<std::string>{"vocab.txt", "weights.bin"}));
}

TEST_F(ZooTest, EnsureOfflineSaysWhatToDownloadWhere) {
  ZooModelInfo info;
  info.name = "offline-test";
  info.files = {{.filename = "ViT-B-32.pt",
                 .url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/ViT-B-32.pt",
                 .sha256 = sha_,
                 .size = payload_.size()}};
  RegisterZooModel(info);
  const fs::path target = fs::path(cache_.path()) / "offline-test" / "ViT-B-32.pt";
  try {
    EnsureZooModel("offline-test");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find("cannot download model 'offline-test' file ViT-B-32.pt from " + info.files[0].url),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("download it yourself to " + target.string() + " (sha256 " + sha_ + ")"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("or run `fo zoo models download offline-test` when online"), std::string::npos)
        << message;
  }
  EXPECT_TRUE(Listing(target.parent_path()).empty());
  EXPECT_FALSE(IsZooModelDownloaded("offline-test"));
}

TEST_F(ZooTest, UnknownModelListsKnownOnes) {
  try {
    EnsureZooModel("no-such-model");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("clip-vit-base32-torch"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(FindZooModel("no-such-model").has_value());
}

TEST_F(ZooTest, BuiltInManifest) {
  const std::vector<ZooModelInfo> models = ListZooModels();
  EXPECT_TRUE(std::is_sorted(models.begin(), models.end(),
                             [](const ZooModelInfo& a, const ZooModelInfo& b) { return a.name < b.name; }));
  std::optional<ZooModelInfo> clip = FindZooModel("clip-vit-base32-torch");
  ASSERT_TRUE(clip.has_value());
  EXPECT_EQ(clip->dimension, 512u);
  EXPECT_TRUE(clip->supports_prompts);
  EXPECT_EQ(clip->license, "MIT (OpenAI CLIP)");
  EXPECT_EQ(clip->preprocessing.at("image_size"), 224);
  EXPECT_EQ(clip->preprocessing.at("context_length"), 77);
  EXPECT_EQ(clip->preprocessing.at("mean").size(), 3u);
  ASSERT_EQ(clip->files.size(), 2u);
  EXPECT_EQ(clip->files[0].filename, "ViT-B-32.pt");
  EXPECT_EQ(clip->files[0].url,
            "https://openaipublic.azureedge.net/clip/models/"
            "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af/ViT-B-32.pt");
  EXPECT_EQ(clip->files[0].sha256, "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af");
  EXPECT_EQ(clip->files[0].size, 0u);  // unknown here; the SHA-256 (the URL segment) decides
  EXPECT_EQ(clip->files[1].filename, "bpe_simple_vocab_16e6.txt.gz");
  EXPECT_EQ(clip->files[1].url, "https://raw.githubusercontent.com/openai/CLIP/main/clip/bpe_simple_vocab_16e6.txt.gz");
  EXPECT_EQ(clip->files[1].sha256, "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a");
  EXPECT_EQ(clip->files[1].size, 1356917u);

  std::optional<ZooModelInfo> descriptor = FindZooModel("color-gradient-descriptor");
  ASSERT_TRUE(descriptor.has_value());
  EXPECT_EQ(descriptor->dimension, 284u);
  EXPECT_FALSE(descriptor->supports_prompts);
  EXPECT_TRUE(descriptor->files.empty());
  EXPECT_TRUE(IsZooModelDownloaded("color-gradient-descriptor"));
  EXPECT_TRUE(EnsureZooModel("color-gradient-descriptor").empty());
}

TEST_F(ZooTest, ZooDirDefaultsUnderHome) {
  unsetenv("FIFTYONE_CPP_MODEL_ZOO_DIR");
  EXPECT_EQ(ModelZooDir(), fs::path(getenv("HOME")) / ".fiftyone" / "cpp" / "models");
  setenv("FIFTYONE_CPP_MODEL_ZOO_DIR", "/somewhere/else", 1);
  EXPECT_EQ(ZooModelPath("m", "f.bin"), fs::path("/somewhere/else/m/f.bin"));
}

TEST_F(ZooTest, ManifestFileAddsAndOverrides) {
  const std::string manifest = dir_.File("manifest.json");
  testing::WriteFile(manifest, R"([
    {"name": "color-gradient-descriptor", "description": "overridden", "dimension": 284},
    {"name": "mirror-model", "dimension": 8, "supports_prompts": true,
     "preprocessing": {"image_size": 32},
     "files": [{"filename": "w.bin", "url": "http://mirror/w.bin", "sha256": "ab", "size": 10}]}
  ])");
  setenv("FIFTYONE_CPP_MODEL_ZOO_MANIFEST", manifest.c_str(), 1);
  EXPECT_EQ(FindZooModel("color-gradient-descriptor")->description, "overridden");
  std::optional<ZooModelInfo> mirror = FindZooModel("mirror-model");
  ASSERT_TRUE(mirror.has_value());
  EXPECT_EQ(mirror->dimension, 8u);
  EXPECT_TRUE(mirror->supports_prompts);
  EXPECT_EQ(mirror->preprocessing.at("image_size"), 32);
  ASSERT_EQ(mirror->files.size(), 1u);
  EXPECT_EQ(mirror->files[0].url, "http://mirror/w.bin");
  EXPECT_EQ(mirror->files[0].size, 10u);
  EXPECT_TRUE(FindZooModel("clip-vit-base32-torch").has_value());
}

TEST_F(ZooTest, BadManifestFileIsAOneLineErrorNamingIt) {
  const std::string manifest = dir_.File("bad.json");
  testing::WriteFile(manifest, "[{\"name\": ");
  setenv("FIFTYONE_CPP_MODEL_ZOO_MANIFEST", manifest.c_str(), 1);
  try {
    ListZooModels();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find(manifest), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
  testing::WriteFile(manifest, R"([{"name": "../escape"}])");
  try {
    ListZooModels();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("../escape"), std::string::npos) << e.what();
  }
}

TEST_F(ZooTest, RegisterRejectsNamesThatAreNotPlainFileNames) {
  ZooModelInfo info;
  info.name = "ok";
  info.files = {{.filename = "../../etc/passwd", .url = "http://x/y", .sha256 = "", .size = 0}};
  EXPECT_THROW(RegisterZooModel(info), Error);
  info.name = "a/b";
  info.files.clear();
  EXPECT_THROW(RegisterZooModel(info), Error);
}

class ZooCliTest : public ZooTest {
 protected:
  void SetUp() override {
    ZooTest::SetUp();
    server_.Serve("/vocab.txt", "a b c\n");
    json files = json::array();
    for (const ZooFile& f : TestModel("cli-test", server_, sha_, payload_.size()).files) {
      files.push_back({{"filename", f.filename}, {"url", f.url}, {"sha256", f.sha256}, {"size", f.size}});
    }
    testing::WriteFile(manifest_, json::array({{{"name", "cli-test"}, {"dimension", 3}, {"files", files}}}).dump());
    env_ = {"FIFTYONE_CPP_MODEL_ZOO_MANIFEST=" + manifest_, "FIFTYONE_CPP_MODEL_ZOO_DIR=" + cache_.path()};
  }

  json ListJson() {
    testing::CommandResult r = RunCli({"zoo", "models", "list", "--json"}, env_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json list = json::parse(r.out);
    for (const json& m : list) {
      if (m["name"] == "cli-test") return m;
    }
    ADD_FAILURE() << "cli-test not listed: " << r.out;
    return json();
  }

  const std::string manifest_ = dir_.File("manifest.json");
  std::vector<std::string> env_;
};

TEST_F(ZooCliTest, ListJsonShowsManifestAndCacheState) {
  testing::CommandResult r = RunCli({"zoo", "models", "list", "--json"}, env_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json list = json::parse(r.out);
  std::vector<std::string> names;
  for (const json& m : list) names.push_back(m["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"cli-test", "clip-vit-base32-torch", "color-gradient-descriptor"}));
  EXPECT_EQ(list[1]["dimension"], 512);
  EXPECT_EQ(list[1]["supports_prompts"], true);
  EXPECT_EQ(list[2]["builtin"], true);
  json m = ListJson();
  EXPECT_EQ(m["downloaded"], false);
  EXPECT_EQ(m["files"][0]["path"], cache_.path() + "/cli-test/weights.bin");
}

TEST_F(ZooCliTest, DownloadFetchesIntoTheCacheAndPrintsPaths) {
  testing::CommandResult r = RunCli({"zoo", "models", "download", "cli-test"}, env_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, cache_.path() + "/cli-test/weights.bin\n" + cache_.path() + "/cli-test/vocab.txt\n");
  EXPECT_EQ(testing::ReadFile(cache_.path() + "/cli-test/weights.bin"), payload_);
  EXPECT_EQ(ListJson()["downloaded"], true);
  EXPECT_EQ(server_.requests(), 2);

  testing::CommandResult info = RunCli({"zoo", "models", "info", "cli-test"}, env_);
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find(sha_), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("downloaded:  yes"), std::string::npos) << info.out;
}

TEST_F(ZooCliTest, DownloadOfUnknownModelListsKnownOnes) {
  testing::CommandResult r = RunCli({"zoo", "models", "download", "nope"}, env_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown zoo model 'nope'; known models: cli-test, clip-vit-base32-torch"), std::string::npos)
      << r.err;
  EXPECT_EQ(server_.requests(), 0);
}

TEST(ProgressTest, FormatBytes) {
  EXPECT_EQ(internal::FormatBytes(0), "0 B");
  EXPECT_EQ(internal::FormatBytes(1023), "1023 B");
  EXPECT_EQ(internal::FormatBytes(1024), "1.0 KiB");
  EXPECT_EQ(internal::FormatBytes(1536 * 1024), "1.5 MiB");
  EXPECT_EQ(internal::FormatBytes(353976522), "337.6 MiB");
  EXPECT_EQ(internal::FormatBytes(uint64_t{3} << 30), "3.0 GiB");
}

TEST(ProgressTest, RendersItemsWithBarRateAndEta) {
  EXPECT_EQ(internal::RenderProgressLine({.label = "embed", .done = 50, .total = 200, .elapsed_s = 10}),
            "embed [======>                 ]  50/200   25%  5.0 it/s  00:10<00:30");
  EXPECT_EQ(internal::RenderProgressLine({.label = "embed", .done = 200, .total = 200, .elapsed_s = 3725}),
            "embed [========================]  200/200  100%  0.1 it/s  1:02:05<00:00");
}

TEST(ProgressTest, RendersBytesNotCountingResumedPartInRate) {
  using internal::ProgressUnit;
  EXPECT_EQ(internal::RenderProgressLine({.label = "w.pt",
                                          .done = 3 << 20,
                                          .total = 6 << 20,
                                          .elapsed_s = 2,
                                          .initial = 1 << 20,
                                          .unit = ProgressUnit::kBytes}),
            "w.pt [============>           ]  3.0 MiB/6.0 MiB   50%  1.0 MiB/s  00:02<00:03");
}

TEST(ProgressTest, UnknownTotalAndNoRateYet) {
  EXPECT_EQ(internal::RenderProgressLine({.label = "n", .done = 42, .total = 0, .elapsed_s = 2}), "n  42  21.0 it/s  00:02");
  EXPECT_EQ(internal::RenderProgressLine({.label = "n", .done = 0, .total = 10, .elapsed_s = 0}),
            "n [>                       ]  0/10    0%  0.0 it/s  00:00<--:--");
}

}  // namespace
}  // namespace fo
