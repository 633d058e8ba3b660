// Tests for BrainConfig: file, environment and their precedence, and the
// FiftyOne rules for parsing environment values.
#include "fo/brain_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fo/error.h"
#include "test_support.h"

extern char** environ;

namespace fo {
namespace {

using nlohmann::json;
using fo::testing::TempDir;
using fo::testing::WriteFile;

// Sets and unsets environment variables, restoring every one it touched on
// destruction, so tests do not leak settings into each other.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (const auto& [name, old] : saved_) {
      if (old) {
        setenv(name.c_str(), old->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

  void Set(const std::string& name, const std::string& value) {
    Save(name);
    setenv(name.c_str(), value.c_str(), 1);
  }
  void Unset(const std::string& name) {
    Save(name);
    unsetenv(name.c_str());
  }

 private:
  void Save(const std::string& name) {
    if (saved_.count(name) != 0) return;
    const char* old = std::getenv(name.c_str());
    saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
  }

  std::map<std::string, std::optional<std::string>> saved_;
};

class BrainConfigTest : public ::testing::Test {
 protected:
  // Starts every test from an environment without FIFTYONE_BRAIN_* settings.
  void SetUp() override {
    std::vector<std::string> names;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      if (entry.rfind("FIFTYONE_BRAIN_", 0) == 0) names.push_back(entry.substr(0, entry.find('=')));
    }
    for (const auto& name : names) env_.Unset(name);
  }

  BrainConfig LoadJson(const std::string& text) {
    WriteFile(path_, text);
    return BrainConfig::LoadFrom(path_);
  }

  // Loads `text` and returns the Corruption message; fails if none is thrown.
  std::string CorruptionMessage(const std::string& text) {
    try {
      LoadJson(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error for " << text;
    return "";
  }

  ScopedEnv env_;
  TempDir dir_;
  std::string path_ = dir_.File("brain_config.json");
};

TEST_F(BrainConfigTest, MissingFileMeansDefaults) {
  BrainConfig config = BrainConfig::LoadFrom(dir_.File("absent.json"));
  EXPECT_EQ(config.default_similarity_backend(), "sklearn");
  EXPECT_EQ(config.SimilarityBackendParams("qdrant"), json::object());
  EXPECT_EQ(config.SimilarityBackendParams("no-such-backend"), json::object());
  EXPECT_TRUE(config.similarity_backends().contains("sklearn"));
  EXPECT_TRUE(config.similarity_backends().contains("qdrant"));
}

TEST_F(BrainConfigTest, DefaultPathFollowsTheEnvironment) {
  env_.Set("FIFTYONE_BRAIN_CONFIG_PATH", path_);
  EXPECT_EQ(BrainConfig::DefaultPath(), path_);
  WriteFile(path_, R"({"default_similarity_backend": "qdrant"})");
  EXPECT_EQ(BrainConfig::Load().default_similarity_backend(), "qdrant");

  env_.Set("FIFTYONE_BRAIN_CONFIG_PATH", "");
  env_.Set("HOME", "/home/someone");
  EXPECT_EQ(BrainConfig::DefaultPath(), "/home/someone/.fiftyone/brain_config.json");
}

TEST_F(BrainConfigTest, ReadsTheFile) {
  BrainConfig config = LoadJson(R"({
    "default_similarity_backend": "qdrant",
    "default_visualization_method": "umap",
    "similarity_backends": {
      "qdrant": {"url": "http://localhost:6333", "metric": "euclidean"},
      "custom": {"config_cls": "my.Config", "k": 3}
    }
  })");
  EXPECT_EQ(config.default_similarity_backend(), "qdrant");
  EXPECT_EQ(config.SimilarityBackendParams("qdrant"),
            json({{"url", "http://localhost:6333"}, {"metric", "euclidean"}}));
  EXPECT_EQ(config.SimilarityBackendParams("custom"), json({{"config_cls", "my.Config"}, {"k", 3}}));
  EXPECT_EQ(config.SimilarityBackendParams("sklearn"), json::object());
}

TEST_F(BrainConfigTest, EnvParamsBeatTheFile) {
  env_.Set("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL", "http://qdrant:6333");
  env_.Set("FIFTYONE_BRAIN_SIMILARITY_QDRANT_GRPC_PORT", "6334");
  env_.Set("FIFTYONE_BRAIN_SIMILARITY_QDRANT_PREFER_GRPC", "false");
  env_.Set("FIFTYONE_BRAIN_SIMILARITY_CUSTOM_K", "5");
  BrainConfig config = LoadJson(R"({"similarity_backends": {
    "qdrant": {"url": "http://localhost:6333", "metric": "cosine"}, "custom": {"k": 3}}})");
  EXPECT_EQ(config.SimilarityBackendParams("qdrant"), json({{"url", "http://qdrant:6333"},
                                                             {"metric", "cosine"},
                                                             {"grpc_port", 6334},
                                                             {"prefer_grpc", false}}));
  EXPECT_EQ(config.SimilarityBackendParams("custom"), json({{"k", 5}}));
}

TEST_F(BrainConfigTest, EnvParamsApplyToBuiltinsWithoutAFile) {
  env_.Set("FIFTYONE_BRAIN_SIMILARITY_QDRANT_API_KEY", "secret");
  BrainConfig config = BrainConfig::LoadFrom(dir_.File("absent.json"));
  EXPECT_EQ(config.SimilarityBackendParams("qdrant"), json({{"api_key", "secret"}}));
  EXPECT_EQ(config.SimilarityBackendParams("sklearn"), json::object());
}

TEST_F(BrainConfigTest, DefaultBackendEnvBeatsTheFileUnlessEmpty) {
  const std::string file = R"({"default_similarity_backend": "qdrant"})";
  env_.Set("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND", "");
  EXPECT_EQ(LoadJson(file).default_similarity_backend(), "qdrant");
  env_.Set("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND", "milvus");
  EXPECT_EQ(LoadJson(file).default_similarity_backend(), "milvus");
  EXPECT_EQ(BrainConfig::LoadFrom(dir_.File("absent.json")).default_similarity_backend(), "milvus");
}

TEST_F(BrainConfigTest, BackendsEnvDeclaresTheBackendSet) {
  const std::string file = R"({"similarity_backends": {"qdrant": {"url": "u"}, "dropped": {}}})";
  env_.Set("FIFTYONE_BRAIN_SIMILARITY_BACKENDS", "qdrant,mine");
  env_.Set("FIFTYONE_BRAIN_SIMILARITY_MINE_SIZE", "2");
  BrainConfig config = LoadJson(file);
  EXPECT_EQ(config.similarity_backends(), json({{"qdrant", {{"url", "u"}}}, {"mine", {{"size", 2}}}}));

  env_.Set("FIFTYONE_BRAIN_SIMILARITY_BACKENDS", "*,mine");
  config = LoadJson(file);
  EXPECT_TRUE(config.similarity_backends().contains("sklearn"));
  EXPECT_TRUE(config.similarity_backends().contains("mine"));
  EXPECT_FALSE(config.similarity_backends().contains("dropped"));
  EXPECT_EQ(config.SimilarityBackendParams("qdrant"), json({{"url", "u"}}));
}

TEST_F(BrainConfigTest, MalformedFileNamesTheFile) {
  for (const char* text : {"{not json", "", "[1, 2]", "\"sklearn\""}) {
    std::string what = CorruptionMessage(text);
    EXPECT_EQ(what.rfind(path_ + ": ", 0), 0u) << what;
  }
}

TEST_F(BrainConfigTest, WrongTypedKeysAreCorruption) {
  struct Case {
    const char* text;
    const char* problem;
  };
  const Case cases[] = {
      {R"({"default_similarity_backend": 3})", "'default_similarity_backend' must be a string"},
      {R"({"similarity_backends": ["qdrant"]})", "'similarity_backends' must be an object"},
      {R"({"similarity_backends": {"qdrant": "http://x"}})", "'similarity_backends.qdrant' must be an object"},
  };
  for (const Case& c : cases) {
    std::string what = CorruptionMessage(c.text);
    EXPECT_EQ(what, path_ + ": " + c.problem);
  }
}

TEST(ParseEnvValueTest, ParsesLikeFiftyOne) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"12", 12},
      {"-3", -3},
      {" 7 ", 7},
      {"1_000", 1000},
      {"010", 10},
      {"1.5", 1.5},
      {"-.5", -0.5},
      {"1e3", 1000.0},
      {"2.", 2.0},
      {"true", true},
      {"True", true},
      {"false", false},
      {"False", false},
      {"None", nullptr},
      {"", nullptr},
      {"a,b", json({"a", "b"})},
      {"1,2.5,true,None", json({1, 2.5, true, nullptr})},
      {"a,", json({"a", nullptr})},
      {"http://localhost:6333", "http://localhost:6333"},
      {"TRUE", "TRUE"},
      {"0x10", "0x10"},
      {"1__0", "1__0"},
      {"1e", "1e"},
      {"none", "none"},
  };
  for (const auto& [text, expected] : cases) {
    json got = ParseEnvValue(text);
    EXPECT_EQ(got, expected) << "'" << text << "' gave " << got.dump();
    EXPECT_EQ(got.type(), expected.type()) << "'" << text << "' gave " << got.dump();
  }
}

TEST(ParseEnvValueTest, ParsesInfinityAndNan) {
  EXPECT_EQ(ParseEnvValue("inf").get<double>(), HUGE_VAL);
  EXPECT_EQ(ParseEnvValue("-Infinity").get<double>(), -HUGE_VAL);
  EXPECT_TRUE(std::isnan(ParseEnvValue("nan").get<double>()));
}

TEST(ParseEnvValueTest, KeepsHugeIntegersAsNumbers) {
  EXPECT_TRUE(ParseEnvValue("18446744073709551615").is_number_unsigned());
  EXPECT_TRUE(ParseEnvValue("123456789012345678901234567890").is_number_float());
}

}  // namespace
}  // namespace fo
