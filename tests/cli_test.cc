// End-to-end tests of the `fo` command-line tool: each test runs the built
// binary against its own store and brain config, parses --json output and
// checks rankings against a brute-force computation done here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <regex>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/demo.h"
#include "fo/npy.h"
#include "test_support.h"

namespace fo {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::RunCli;
using testing::TempDir;

constexpr size_t kDim = 8;
// The smallest shapes images the generator makes, to keep the tests fast.
constexpr int kWidth = 96;
constexpr int kHeight = 64;

ShapesOptions SmallShapes(size_t n) {
  ShapesOptions options;
  options.num_images = n;
  options.width = kWidth;
  options.height = kHeight;
  return options;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

double Distance(std::span<const float> a, std::span<const float> b, const std::string& metric) {
  double dot = 0, na = 0, nb = 0, sq = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
    sq += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  }
  if (metric == "euclidean") return std::sqrt(sq);
  return 1.0 - dot / (std::sqrt(na) * std::sqrt(nb));
}

struct Ranked {
  std::string id;
  double distance;
};

// Brute force: every row's distance to `query`, nearest first (farthest
// first with reverse), truncated to k.
std::vector<Ranked> BruteForce(const Matrix& base, const std::vector<std::string>& ids, std::span<const float> query,
                               const std::string& metric, size_t k, bool reverse = false) {
  std::vector<Ranked> all;
  for (size_t i = 0; i < base.rows(); ++i) all.push_back({ids[i], Distance(query, base.row(i), metric)});
  std::stable_sort(all.begin(), all.end(), [reverse](const Ranked& a, const Ranked& b) {
    return reverse ? a.distance > b.distance : a.distance < b.distance;
  });
  all.resize(std::min(k, all.size()));
  return all;
}

std::vector<float> MeanOfRows(const Matrix& m, const std::vector<size_t>& rows) {
  std::vector<float> mean(m.cols(), 0.0f);
  for (size_t r : rows) {
    for (size_t j = 0; j < m.cols(); ++j) mean[j] += m.row(r)[j] / rows.size();
  }
  return mean;
}

// Checks that a sort-by-similarity JSON answer lists exactly `expected`, in
// order, with matching distances. `key` is "id" or "label_id".
void ExpectRanking(const json& results, const std::vector<Ranked>& expected, const std::string& key) {
  ASSERT_TRUE(results.is_array()) << results;
  ASSERT_EQ(results.size(), expected.size()) << results;
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(results[i][key], expected[i].id) << "rank " << i << " of " << results;
    EXPECT_NEAR(results[i]["distance"].get<double>(), expected[i].distance, 1e-4) << "rank " << i;
    EXPECT_TRUE(results[i]["filepath"].is_string());
  }
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_.File("home")); }

  std::vector<std::string> Env() const {
    return {"FO_DATABASE_PATH=" + db_path_, "FIFTYONE_BRAIN_CONFIG_PATH=" + dir_.File("brain_config.json"),
            "HOME=" + dir_.File("home")};
  }

  CommandResult Run(const std::vector<std::string>& args) const { return RunCli(args, Env()); }

  // Runs a command that must succeed and print only JSON on stdout.
  json RunJson(const std::vector<std::string>& args) const {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err;
    json j = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << "stdout is not JSON: " << r.out;
    return j;
  }

  void RunOk(const std::vector<std::string>& args) const {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << "stdout: " << r.out << "\nstderr: " << r.err;
  }

  // A failed command: non-zero exit, nothing on stdout, and exactly one line
  // on stderr that mentions `mention` (case-insensitively).
  void ExpectError(const std::vector<std::string>& args, const std::string& mention) const {
    CommandResult r = Run(args);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    EXPECT_NE(r.exit_code, 0) << cmd;
    EXPECT_EQ(r.out, "") << cmd;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << cmd << "\nstderr: " << r.err;
    EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << cmd << "\nstderr: " << r.err;
    EXPECT_NE(Lower(r.err).find(Lower(mention)), std::string::npos)
        << cmd << "\nstderr should mention '" << mention << "': " << r.err;
  }

  std::shared_ptr<Database> Db() const { return Database::Open(db_path_); }

  // Small generated images in a fresh directory.
  std::string MakeImages(const std::string& name, size_t n) const {
    std::string path = dir_.File(name);
    GenerateShapes(path, SmallShapes(n));
    return path;
  }

  // A dataset made through the CLI from generated images; returns its ids.
  std::vector<std::string> CreateDataset(const std::string& name, size_t n) const {
    RunOk({"datasets", "create", name, "--images", MakeImages(name + "_images", n)});
    return Dataset::Load(Db(), name).Ids();
  }

  // Writes vectors and their ids as the CLI expects; returns the paths.
  std::pair<std::string, std::string> WriteEmbeddings(const std::string& stem, const Matrix& m,
                                                      const std::vector<std::string>& ids) const {
    std::string npy = dir_.File(stem + ".npy"), txt = dir_.File(stem + ".txt");
    WriteNpy(m, npy);
    std::string lines;
    for (const auto& id : ids) lines += id + "\n";
    testing::WriteFile(txt, lines);
    return {npy, txt};
  }

  // A dataset "d" of n samples with a cosine run "emb" over random vectors.
  Matrix IndexedDataset(size_t n, std::vector<std::string>* ids) const {
    *ids = CreateDataset("d", n);
    Matrix vectors = testing::RandomMatrix(n, kDim, 7);
    auto [npy, txt] = WriteEmbeddings("emb", vectors, *ids);
    RunOk({"brain", "compute-similarity", "d", "--brain-key", "emb", "--embeddings", npy, "--ids", txt});
    return vectors;
  }

  TempDir dir_;
  std::string db_path_ = dir_.File("store/fo.db");
};

TEST_F(CliTest, DatasetsCreateListInfoHeadDelete) {
  std::string images = MakeImages("images", 6);
  CommandResult created = Run({"datasets", "create", "d", "--images", images});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("6"), std::string::npos) << created.out;

  EXPECT_EQ(RunJson({"datasets", "list", "--json"}), json::array({"d"}));

  json info = RunJson({"datasets", "info", "d", "--json"});
  EXPECT_EQ(info["name"], "d");
  EXPECT_EQ(info["count"], 6);
  EXPECT_TRUE(info["fields"].is_object()) << info;
  EXPECT_EQ(info["brain_runs"], json::array());

  json head = RunJson({"datasets", "head", "d", "--n", "2", "--json"});
  ASSERT_EQ(head.size(), 2u) << head;
  std::vector<std::string> ids = Dataset::Load(Db(), "d").Ids();
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(head[i]["id"], ids[i]);
    std::string filepath = head[i]["filepath"];
    EXPECT_EQ(filepath.rfind(images, 0), 0u) << filepath;
    EXPECT_TRUE(std::filesystem::exists(filepath)) << filepath;
    EXPECT_EQ(head[i]["metadata"]["width"], kWidth);
    EXPECT_EQ(head[i]["metadata"]["height"], kHeight);
    EXPECT_EQ(head[i]["tags"], json::array());
  }
  CommandResult plain = Run({"datasets", "head", "d"});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_NE(plain.out.find(ids[0]), std::string::npos) << plain.out;

  RunOk({"datasets", "delete", "d"});
  EXPECT_EQ(RunJson({"datasets", "list", "--json"}), json::array());
  ExpectError({"datasets", "create", "e", "--images", dir_.File("no_such_dir")}, "no_such_dir");
  EXPECT_EQ(RunJson({"datasets", "list", "--json"}), json::array());
}

TEST_F(CliTest, CreateReportsSkippedFilesAndDuplicateNames) {
  std::string images = MakeImages("images", 3);
  testing::WriteFile(images + "/broken.jpg", "not a jpeg");
  CommandResult r = Run({"datasets", "create", "d", "--images", images});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("skipped "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("broken.jpg"), std::string::npos) << r.err;
  EXPECT_EQ(RunJson({"datasets", "info", "d", "--json"})["count"], 3);
  ExpectError({"datasets", "create", "d", "--images", images}, "already exists");
}

TEST_F(CliTest, CreateFromEmptyDirectoryWarns) {
  std::filesystem::create_directories(dir_.File("empty"));
  CommandResult r = Run({"datasets", "create", "d", "--images", dir_.File("empty")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_EQ(RunJson({"datasets", "info", "d", "--json"})["count"], 0);
}

TEST_F(CliTest, HeadShowsDetectionsAndVectors) {
  {
    Dataset dataset = Dataset::Create(Db(), "p");
    std::vector<std::string> ids = dataset.AddSamples(GenerateShapes(dir_.File("p_images"), SmallShapes(2)));
    dataset.SetValues("emb", {{ids[0], Value(FloatVector{1.0f, 2.0f, 3.0f})}});
  }
  json head = RunJson({"datasets", "head", "p", "--n", "1", "--json"});
  ASSERT_EQ(head.size(), 1u);
  Sample first = Dataset::Load(Db(), "p").First();
  const json& detections = head[0]["ground_truth"]["detections"];
  ASSERT_EQ(detections.size(), first.label_fields["ground_truth"].detections.size()) << head;
  ASSERT_FALSE(detections.empty());
  EXPECT_EQ(detections[0]["id"], first.label_fields["ground_truth"].detections[0].id);
  EXPECT_EQ(detections[0]["label"], first.label_fields["ground_truth"].detections[0].label);
  EXPECT_EQ(detections[0]["bounding_box"].size(), 4u);
  EXPECT_EQ(head[0]["emb"], json({1.0, 2.0, 3.0}));

  json info = RunJson({"datasets", "info", "p", "--json"});
  EXPECT_EQ(info["fields"]["ground_truth"], "detections") << info;
  EXPECT_EQ(info["fields"]["emb"], "vector") << info;
}

TEST_F(CliTest, SortBySimilarityMatchesBruteForce) {
  std::vector<std::string> ids;
  Matrix vectors = IndexedDataset(12, &ids);

  json by_id = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query", ids[3], "--json"});
  ExpectRanking(by_id, BruteForce(vectors, ids, vectors.row(3), "cosine", ids.size()), "id");
  EXPECT_FALSE(by_id[0].contains("label_id"));

  json top3 = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query", ids[3], "--k", "3",
                       "--json"});
  ExpectRanking(top3, BruteForce(vectors, ids, vectors.row(3), "cosine", 3), "id");

  json reversed = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query", ids[3], "--k", "4",
                           "--reverse", "--json"});
  ExpectRanking(reversed, BruteForce(vectors, ids, vectors.row(3), "cosine", 4, /*reverse=*/true), "id");

  json several = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query",
                          ids[1] + "," + ids[5], "--k", "5", "--json"});
  std::vector<float> mean = MeanOfRows(vectors, {1, 5});
  ExpectRanking(several, BruteForce(vectors, ids, mean, "cosine", 5), "id");

  Matrix query = testing::RandomMatrix(1, kDim, 99);
  WriteNpy(query, dir_.File("q.npy"));
  json by_vector = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--vector",
                            dir_.File("q.npy"), "--k", "6", "--json"});
  ExpectRanking(by_vector, BruteForce(vectors, ids, query.row(0), "cosine", 6), "id");

  // Several query vectors are averaged into one.
  Matrix queries = testing::RandomMatrix(2, kDim, 98);
  WriteNpy(queries, dir_.File("q2.npy"));
  json by_vectors = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--vector",
                             dir_.File("q2.npy"), "--k", "4", "--json"});
  ExpectRanking(by_vectors, BruteForce(vectors, ids, MeanOfRows(queries, {0, 1}), "cosine", 4), "id");

  // Without --brain-key the only run is used.
  json implicit = RunJson({"brain", "sort-by-similarity", "d", "--query", ids[3], "--k", "3", "--json"});
  EXPECT_EQ(implicit, top3);

  CommandResult table = Run({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query", ids[3], "--k", "2"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(ids[3]), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(top3[1]["id"].get<std::string>()), std::string::npos) << table.out;
}

TEST_F(CliTest, MetricAndSetReachTheBackend) {
  std::vector<std::string> ids = CreateDataset("d", 10);
  Matrix vectors = testing::RandomMatrix(ids.size(), kDim, 3);
  auto [npy, txt] = WriteEmbeddings("emb", vectors, ids);
  RunOk({"brain", "compute-similarity", "d", "--brain-key", "euc", "--embeddings", npy, "--ids", txt, "--metric",
         "euclidean"});
  json ranked = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "euc", "--query", ids[0], "--json"});
  ExpectRanking(ranked, BruteForce(vectors, ids, vectors.row(0), "euclidean", ids.size()), "id");
  EXPECT_EQ(RunJson({"brain", "info", "d", "euc", "--json"})["config"]["metric"], "euclidean");

  RunOk({"brain", "compute-similarity", "d", "--brain-key", "viaset", "--embeddings", npy, "--ids", txt, "--set",
         "metric=euclidean", "--set", "hnsw_config.m=32", "--set", "hnsw_config.ef=1.5", "--set", "names=a,b",
         "--set", "exact=true", "--set", "label=x=y"});
  json config = RunJson({"brain", "info", "d", "viaset", "--json"})["config"];
  EXPECT_EQ(config["metric"], "euclidean");
  // Values are parsed as FiftyOne parses env values; dotted names nest.
  json params = config["params"];
  params.erase("metric");
  EXPECT_EQ(params, json({{"hnsw_config", {{"m", 32}, {"ef", 1.5}}},
                          {"names", {"a", "b"}},
                          {"exact", true},
                          {"label", "x=y"}}))
      << config;
  ExpectError({"brain", "compute-similarity", "d", "--brain-key", "badset", "--embeddings", npy, "--ids", txt,
               "--set", "metric"},
              "PARAM=VALUE");
}

TEST_F(CliTest, EmbeddingsFieldNoEmbeddingsAndDefaultModel) {
  std::vector<std::string> ids = CreateDataset("d", 8);
  Matrix vectors = testing::RandomMatrix(ids.size(), kDim, 5);
  {
    std::map<std::string, Value> values;
    for (size_t i = 0; i < ids.size(); ++i) {
      values[ids[i]] = Value(FloatVector(vectors.row(i).begin(), vectors.row(i).end()));
    }
    Dataset::Load(Db(), "d").SetValues("vec", values);
  }
  CommandResult from_field =
      Run({"brain", "compute-similarity", "d", "--brain-key", "field", "--embeddings-field", "vec"});
  ASSERT_EQ(from_field.exit_code, 0) << from_field.err;
  EXPECT_NE(from_field.out.find("field"), std::string::npos);
  json ranked = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "field", "--query", ids[2], "--json"});
  ExpectRanking(ranked, BruteForce(vectors, ids, vectors.row(2), "cosine", ids.size()), "id");

  CommandResult empty = Run({"brain", "compute-similarity", "d", "--brain-key", "empty", "--no-embeddings"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_NE(empty.out.find(" 0 "), std::string::npos) << empty.out;

  CommandResult model = Run({"brain", "compute-similarity", "d", "--brain-key", "model"});
  ASSERT_EQ(model.exit_code, 0) << model.err;
  EXPECT_NE(model.out.find("model"), std::string::npos) << model.out;
  EXPECT_NE(model.out.find(std::to_string(ids.size())), std::string::npos) << model.out;
  json by_model = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "model", "--query", ids[0], "--json"});
  ASSERT_EQ(by_model.size(), ids.size());
  EXPECT_EQ(by_model[0]["id"], ids[0]);
  EXPECT_EQ(RunJson({"brain", "list", "d", "--json"}), json({"empty", "field", "model"}));
}

// libtorch takes most of a second to load, so only a command that runs a
// TorchScript model loads it (through the plugin libfo_torch.so); the
// dynamic loader's trace (LD_DEBUG=files, on stderr) shows what each loaded.
TEST_F(CliTest, OnlyTorchScriptModelsLoadLibtorch) {
  std::vector<std::string> ids;
  IndexedDataset(6, &ids);
  auto loaded = [&](const std::vector<std::string>& args) {
    std::vector<std::string> env = Env();
    env.push_back("LD_DEBUG=files");
    CommandResult r = RunCli(args, env);
    EXPECT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0);
    return r.err;
  };
  std::string sort = loaded({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query", ids[0], "--json"});
  EXPECT_NE(sort.find("libfo.so"), std::string::npos) << "the trace should list what was loaded";
  EXPECT_EQ(sort.find("libtorch"), std::string::npos);
  EXPECT_EQ(sort.find("libfo_torch.so"), std::string::npos);
  EXPECT_EQ(sort.find("libopencv_imgcodecs"), std::string::npos);  // nor OpenCV's codecs (0.16 s)

  const std::string clip = testing::SharedDir() + "/clip/";
  std::string model = loaded({"brain", "compute-similarity", "d", "--brain-key", "clip", "--model",
                              clip + "tiny_clip_vit.pt", "--model-kwarg",
                              "tokenizer_path=" + clip + "bpe_simple_vocab_16e6.txt.gz"});
  EXPECT_NE(model.find("libfo_torch.so"), std::string::npos);
  EXPECT_NE(model.find("libtorch_cpu.so"), std::string::npos);
  EXPECT_NE(model.find("libfo_imgcodecs.so"), std::string::npos);  // it decoded the images
  EXPECT_NE(model.find("libopencv_imgcodecs"), std::string::npos);

  // Without the plugin: one line that names the file and the fix.
  std::vector<std::string> env = Env();
  env.push_back("FO_TORCH_PLUGIN=" + dir_.File("nowhere/libfo_torch.so"));
  CommandResult missing = RunCli({"brain", "compute-similarity", "d", "--brain-key", "clip2", "--model",
                                  clip + "tiny_clip_vit.pt"}, env);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
  EXPECT_NE(missing.err.find(dir_.File("nowhere/libfo_torch.so")), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("set FO_TORCH_PLUGIN"), std::string::npos) << missing.err;
}

// As FiftyOne: compute-similarity on a key in use replaces that run, and says so.
TEST_F(CliTest, ComputeSimilarityOnAKeyInUseReplacesTheRun) {
  std::vector<std::string> ids;
  IndexedDataset(10, &ids);
  Matrix other = testing::RandomMatrix(ids.size(), kDim, 71);
  auto [npy, txt] = WriteEmbeddings("other", other, ids);
  CommandResult again = Run({"brain", "compute-similarity", "d", "--brain-key", "emb", "--embeddings", npy, "--ids", txt,
                             "--metric", "euclidean"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("brain run 'emb' on dataset 'd' replaced the previous run"), std::string::npos) << again.err;
  EXPECT_EQ(RunJson({"brain", "list", "d", "--json"}), json({"emb"}));
  json ranked = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query", ids[4], "--json"});
  ExpectRanking(ranked, BruteForce(other, ids, other.row(4), "euclidean", ids.size()), "id");
}

TEST_F(CliTest, PatchIndexRanksLabels) {
  std::vector<std::string> label_ids, owners;
  {
    Dataset dataset = Dataset::Create(Db(), "p");
    dataset.AddSamples(GenerateShapes(dir_.File("p_images"), SmallShapes(6)));
    for (const Sample& s : dataset.view().Samples()) {
      for (const Detection& d : s.label_fields.at("ground_truth").detections) {
        label_ids.push_back(d.id);
        owners.push_back(s.id);
      }
    }
  }
  ASSERT_GE(label_ids.size(), 4u);
  Matrix vectors = testing::RandomMatrix(label_ids.size(), kDim, 11);
  auto [npy, txt] = WriteEmbeddings("patches", vectors, label_ids);
  RunOk({"brain", "compute-similarity", "p", "--brain-key", "patch", "--patches-field", "ground_truth",
         "--embeddings", npy, "--ids", txt});

  json ranked =
      RunJson({"brain", "sort-by-similarity", "p", "--brain-key", "patch", "--query", label_ids[1], "--json"});
  ExpectRanking(ranked, BruteForce(vectors, label_ids, vectors.row(1), "cosine", label_ids.size()), "label_id");
  for (const json& r : ranked) {
    size_t row = std::find(label_ids.begin(), label_ids.end(), r["label_id"]) - label_ids.begin();
    ASSERT_LT(row, label_ids.size());
    EXPECT_EQ(r["id"], owners[row]);
  }
  json top = RunJson({"brain", "sort-by-similarity", "p", "--brain-key", "patch", "--query", label_ids[1], "--k", "3",
                      "--json"});
  ExpectRanking(top, BruteForce(vectors, label_ids, vectors.row(1), "cosine", 3), "label_id");

  CommandResult table = Run({"brain", "sort-by-similarity", "p", "--brain-key", "patch", "--query", label_ids[1]});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(label_ids[1]), std::string::npos) << table.out;

  json info = RunJson({"datasets", "info", "p", "--json"});
  ASSERT_EQ(info["brain_runs"].size(), 1u) << info;
  EXPECT_EQ(info["brain_runs"][0]["key"], "patch");
  EXPECT_EQ(info["brain_runs"][0]["patches_field"], "ground_truth");
}

TEST_F(CliTest, BrainListInfoRenameDelete) {
  std::vector<std::string> ids;
  IndexedDataset(6, &ids);
  EXPECT_EQ(RunJson({"brain", "list", "d", "--json"}), json::array({"emb"}));
  EXPECT_EQ(RunJson({"brain", "list", "d", "--type", "similarity", "--json"}), json::array({"emb"}));
  EXPECT_EQ(RunJson({"brain", "list", "d", "--type", "visualization", "--json"}), json::array());

  json info = RunJson({"brain", "info", "d", "emb", "--json"});
  EXPECT_EQ(info["key"], "emb");
  EXPECT_EQ(info["type"], "similarity");
  EXPECT_FALSE(info["version"].get<std::string>().empty());
  EXPECT_FALSE(info["timestamp"].get<std::string>().empty());
  EXPECT_TRUE(info["config"].is_object());
  EXPECT_EQ(info["config"]["metric"], "cosine");
  CommandResult plain = Run({"brain", "info", "d", "emb"});
  EXPECT_EQ(plain.exit_code, 0);
  EXPECT_NE(plain.out.find("sklearn"), std::string::npos) << plain.out;

  json dataset_info = RunJson({"datasets", "info", "d", "--json"});
  ASSERT_EQ(dataset_info["brain_runs"].size(), 1u);
  EXPECT_EQ(dataset_info["brain_runs"][0]["key"], "emb");
  EXPECT_EQ(dataset_info["brain_runs"][0]["backend"], "sklearn");
  EXPECT_TRUE(dataset_info["brain_runs"][0]["patches_field"].is_null());

  RunOk({"brain", "rename", "d", "emb", "renamed"});
  EXPECT_EQ(RunJson({"brain", "list", "d", "--json"}), json::array({"renamed"}));
  ExpectError({"brain", "info", "d", "emb"}, "emb");
  json after = RunJson({"brain", "sort-by-similarity", "d", "--brain-key", "renamed", "--query", ids[0], "--json"});
  EXPECT_EQ(after.size(), ids.size());

  RunOk({"brain", "delete", "d", "renamed", "--cleanup"});
  EXPECT_EQ(RunJson({"brain", "list", "d", "--json"}), json::array());
  ExpectError({"brain", "delete", "d", "renamed"}, "renamed");
}

TEST_F(CliTest, BadInputFailsWithOneLine) {
  std::vector<std::string> ids;
  IndexedDataset(6, &ids);
  std::string good_npy = dir_.File("emb.npy"), good_ids = dir_.File("emb.txt");
  auto compute = [&](const std::string& key, std::vector<std::string> extra) {
    std::vector<std::string> args = {"brain", "compute-similarity", "d", "--brain-key", key};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  ExpectError({"datasets", "info", "nosuchdataset"}, "nosuchdataset");
  ExpectError({"datasets", "head", "nosuchdataset", "--json"}, "nosuchdataset");
  ExpectError({"brain", "list", "nosuchdataset"}, "nosuchdataset");
  ExpectError({"brain", "info", "d", "nosuchkey"}, "nosuchkey");
  ExpectError({"brain", "sort-by-similarity", "d", "--brain-key", "nosuchkey", "--query", ids[0]}, "nosuchkey");
  ExpectError({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query", ids[0], "--k", "0"}, "k");
  ExpectError({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--query", ids[0], "--k", "-2"}, "k");

  testing::WriteFile(dir_.File("bad.npy"), "this is not numpy");
  ExpectError(compute("bad", {"--embeddings", dir_.File("bad.npy"), "--ids", good_ids}), "bad.npy");
  ExpectError({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--vector", dir_.File("bad.npy")}, "bad.npy");

  testing::WriteFile(dir_.File("short.txt"), ids[0] + "\n" + ids[1] + "\n");
  ExpectError(compute("short", {"--embeddings", good_npy, "--ids", dir_.File("short.txt")}), "short.txt");

  WriteNpy(testing::RandomMatrix(1, 3, 1), dir_.File("dim3.npy"));
  ExpectError({"brain", "sort-by-similarity", "d", "--brain-key", "emb", "--vector", dir_.File("dim3.npy")},
              "dimension");

  ExpectError(compute("metric", {"--embeddings", good_npy, "--ids", good_ids, "--metric", "bogusmetric"}),
              "bogusmetric");
  ExpectError(compute("backend", {"--embeddings", good_npy, "--ids", good_ids, "--backend", "nosuchbackend"}),
              "nosuchbackend");

  Matrix with_nan = testing::RandomMatrix(ids.size(), kDim, 2);
  with_nan.data()[5] = std::numeric_limits<float>::quiet_NaN();
  WriteNpy(with_nan, dir_.File("nan.npy"));
  CommandResult nan = Run(compute("nan", {"--embeddings", dir_.File("nan.npy"), "--ids", good_ids}));
  EXPECT_NE(nan.exit_code, 0);
  EXPECT_EQ(std::count(nan.err.begin(), nan.err.end(), '\n'), 1) << nan.err;
  std::string nan_err = Lower(nan.err);
  EXPECT_TRUE(nan_err.find("nan") != std::string::npos || nan_err.find("finite") != std::string::npos) << nan.err;

  // Parse errors: CLI11's exit code and a single line.
  ExpectError({"brain", "compute-similarity", "d"}, "brain-key");
  ExpectError({"brain", "sort-by-similarity", "d", "--query", ids[0], "--vector", good_npy}, "");
  ExpectError({"brain", "sort-by-similarity", "d", "--k", "3"}, "");
  ExpectError({"brain", "compute-similarity", "d", "--brain-key", "x", "--embeddings", good_npy}, "ids");
  ExpectError({"nosuchcommand"}, "nosuchcommand");

  // None of the failures registered a run.
  EXPECT_EQ(RunJson({"brain", "list", "d", "--json"}), json::array({"emb"}));
}

TEST_F(CliTest, HelpExitsZero) {
  CommandResult r = Run({"brain", "sort-by-similarity", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--vector"), std::string::npos) << r.out;
}

// Usage errors exit 2 with one line that suggests the closest command or
// option; `fo` or `fo brain` alone prints its help; dataset names are checked.
TEST_F(CliTest, UsageErrorsSuggestAndExitTwo) {
  CommandResult bare = Run({});
  EXPECT_EQ(bare.exit_code, 0) << bare.err;
  for (const char* command : {"datasets", "brain", "zoo"}) EXPECT_NE(bare.out.find(command), std::string::npos) << bare.out;
  CommandResult brain = Run({"brain"});
  EXPECT_EQ(brain.exit_code, 0) << brain.err;
  EXPECT_NE(brain.out.find("sort-by-similarity"), std::string::npos) << brain.out;

  auto usage = [&](const std::vector<std::string>& args, const std::string& mention) {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(mention), std::string::npos) << "should mention " << mention << ": " << r.err;
  };
  usage({"dataset", "list"}, "unknown command 'dataset' (did you mean 'datasets'?)");
  usage({"brain", "sort-by-similarty", "d"}, "did you mean 'sort-by-similarity'?");
  usage({"brain", "sort-by-similarity", "d", "--query", "x", "--kk", "3"}, "unknown option '--kk' (did you mean '--k'?)");
  usage({"datasets", "list", "--jsn"}, "did you mean '--json'?");
  usage({"frobnicate"}, "unknown command 'frobnicate' (see fo --help)");
  usage({"brain", "compute-similarity", "d"}, "brain-key");

  std::string images = MakeImages("names", 2);
  for (const std::string& bad : {std::string("a/b"), std::string("tab\there"), std::string("")}) {
    CommandResult r = Run({"datasets", "create", bad, "--images", images});
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("dataset name"), std::string::npos) << r.err;
  }
  EXPECT_EQ(RunJson({"datasets", "list", "--json"}), json::array());
}

TEST_F(CliTest, DemoBuildsIndexesAndPrintsTopTen) {
  CommandResult r = Run({"demo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Result rows start with a rank and a 24-hex sample id: 10 images, then 10 patches.
  std::regex row(R"(^\s*(\d+)\s+([0-9a-f]{24})\s)");
  std::vector<std::string> rows;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) rows.push_back(m[2]);
  }
  ASSERT_EQ(rows.size(), 20u) << r.out;
  // The query sample is its own nearest neighbour.
  EXPECT_EQ(rows[0], Dataset::Load(Db(), "shapes").First().id) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("store/media/shapes")));

  EXPECT_EQ(RunJson({"brain", "list", "shapes", "--json"}), json({"img_sim", "patch_sim"}));
  json info = RunJson({"datasets", "info", "shapes", "--json"});
  EXPECT_EQ(info["count"], 200);
  ExpectError({"demo"}, "already exists");

  // --overwrite (what scripts/demo.sh passes) replaces it: fresh ids, same runs.
  CommandResult again = Run({"demo", "--overwrite"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(Dataset::Load(Db(), "shapes").First().id, rows[0]);
  EXPECT_EQ(RunJson({"brain", "list", "shapes", "--json"}), json({"img_sim", "patch_sim"}));

  CommandResult named = Run({"demo", "--name", "tour"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("store/media/tour")));
  EXPECT_EQ(RunJson({"datasets", "list", "--json"}), json({"shapes", "tour"}));
}

}  // namespace
}  // namespace fo
