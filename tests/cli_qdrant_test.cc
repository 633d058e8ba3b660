// The Qdrant integration page's examples as `fo` commands, against the
// project's Qdrant-compatible test server (or $QDRANT_URL).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/demo.h"
#include "fo/npy.h"
#include "fo/object_id.h"
#include "test_support.h"

namespace fo {
namespace {

using nlohmann::json;

class CliQdrantTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new testing::QdrantServer(); }
  static void TearDownTestSuite() { delete server_; }

  void SetUp() override {
    env_ = {"FO_DATABASE_PATH=" + dir_.File("fo.db"), "FIFTYONE_BRAIN_CONFIG_PATH=" + dir_.File("brain.json"),
            "HOME=" + dir_.path()};
    auto db = Database::Open(dir_.File("fo.db"));
    ShapesOptions so;
    so.num_images = 40;
    ids_ = Dataset::Create(db, "quickstart").AddSamples(GenerateShapes(dir_.File("img"), so));
  }

  std::vector<std::string> Url() const {
    std::vector<std::string> a = {"--url", server_->url()};
    if (!server_->api_key().empty()) a.insert(a.end(), {"--api-key", server_->api_key()});
    return a;
  }

  testing::CommandResult Fo(std::vector<std::string> args, bool with_url = true) {
    if (with_url) {
      auto u = Url();
      args.insert(args.end(), u.begin(), u.end());
    }
    return testing::RunCli(args, env_);
  }

  json FoJson(std::vector<std::string> args, bool with_url = true) {
    auto r = Fo(std::move(args), with_url);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }

  static testing::QdrantServer* server_;
  testing::TempDir dir_;
  std::vector<std::string> env_;
  std::vector<std::string> ids_;
};

testing::QdrantServer* CliQdrantTest::server_ = nullptr;

TEST_F(CliQdrantTest, PageWorkflow) {
  // Basic recipe: compute, query by id, clean up, delete the record.
  auto r = Fo({"brain", "compute-similarity", "quickstart", "--brain-key", "qdrant_index", "--backend", "qdrant"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rows = FoJson({"brain", "sort-by-similarity", "quickstart", "--brain-key", "qdrant_index", "--query", ids_[0],
                      "--k", "10", "--json"});
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[0]["id"], ids_[0]);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_LE(rows[i - 1]["distance"].get<double>(), rows[i]["distance"].get<double>());
  // Query by a list of ids and by a vector.
  json two = FoJson({"brain", "sort-by-similarity", "quickstart", "--brain-key", "qdrant_index", "--query",
                     ids_[0] + "," + ids_[39], "--k", "10", "--json"});
  EXPECT_EQ(two.size(), 10u);
  // A view-restricted query returns only samples of the view.
  json in_view = FoJson({"brain", "sort-by-similarity", "quickstart", "--brain-key", "qdrant_index", "--query", ids_[0],
                         "--take", "7", "--seed", "3", "--json"});
  auto db = Database::Open(dir_.File("fo.db"));
  auto view_ids = Dataset::Load(db, "quickstart").view().Take(7, 3).Ids();
  ASSERT_EQ(in_view.size(), 7u);
  for (const auto& row : in_view)
    EXPECT_NE(std::find(view_ids.begin(), view_ids.end(), row["id"].get<std::string>()), view_ids.end());
  json info = FoJson({"brain", "index-info", "quickstart", "qdrant_index", "--json"});
  EXPECT_EQ(info["total_index_size"], 40);
  std::string collection = info["collection_name"];
  EXPECT_EQ(collection.rfind("fiftyone-quickstart", 0), 0u);
  auto emb = Fo({"brain", "get-embeddings", "quickstart", "qdrant_index", "--output", dir_.File("e.npy"), "--json"});
  ASSERT_EQ(emb.exit_code, 0) << emb.err;
  EXPECT_EQ(json::parse(emb.out)["shape"][0], 40);
  Matrix all = ReadNpy(dir_.File("e.npy"));
  WriteNpy(Matrix(1, all.cols(), std::vector<float>(all.row(3).begin(), all.row(3).end())), dir_.File("q.npy"));
  json by_vector = FoJson({"brain", "sort-by-similarity", "quickstart", "--brain-key", "qdrant_index", "--vector",
                           dir_.File("q.npy"), "--k", "3", "--json"});
  EXPECT_EQ(by_vector[0]["id"], ids_[3]);
  // Client access: the collection is on the server.
  json names = FoJson({"qdrant", "collections", "--json"});
  EXPECT_NE(std::find(names.begin(), names.end(), collection), names.end());
  // Credentials are not in the record.
  auto brain_info = Fo({"brain", "info", "quickstart", "qdrant_index", "--json"}, false);
  EXPECT_EQ(brain_info.out.find(server_->url()), std::string::npos);
  // Remove and add, 40 -> 38 -> 40.
  ASSERT_EQ(Fo({"brain", "remove-from-index", "quickstart", "qdrant_index", "--ids", ids_[1] + "," + ids_[2]}).exit_code, 0);
  EXPECT_EQ(FoJson({"brain", "index-info", "quickstart", "qdrant_index", "--json"})["total_index_size"], 38);
  WriteNpy(Matrix(2, all.cols(), std::vector<float>(all.data() + all.cols(), all.data() + 3 * all.cols())), dir_.File("add.npy"));
  testing::WriteFile(dir_.File("add.txt"), ids_[1] + "\n" + ids_[2] + "\n");
  auto add = Fo({"brain", "add-to-index", "quickstart", "qdrant_index", "--embeddings", dir_.File("add.npy"), "--ids",
                 dir_.File("add.txt")});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("total_index_size 40"), std::string::npos);
  // Delete with cleanup removes the collection too.
  ASSERT_EQ(Fo({"brain", "delete", "quickstart", "qdrant_index", "--cleanup"}).exit_code, 0);
  names = FoJson({"qdrant", "collections", "--json"});
  EXPECT_EQ(std::find(names.begin(), names.end(), collection), names.end());
}

TEST_F(CliQdrantTest, PatchesCustomCollectionAndConnectExisting) {
  std::string name = "cli-custom-" + NewObjectId();
  auto r = Fo({"brain", "compute-similarity", "quickstart", "--brain-key", "qdrant_patches", "--backend", "qdrant",
               "--patches-field", "ground_truth", "--model", "color-gradient-descriptor", "--collection-name", name,
               "--metric", "dotproduct", "--set", "replication_factor=1", "--set", "shard_number=2", "--set",
               "hnsw_config.m=32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rows = FoJson({"brain", "sort-by-similarity", "quickstart", "--brain-key", "qdrant_patches", "--query", ids_[0],
                      "--k", "5", "--json"});
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_TRUE(rows[0].contains("label_id"));
  json info = FoJson({"brain", "info", "quickstart", "qdrant_patches", "--json"}, false);
  EXPECT_EQ(info["config"]["metric"], "dotproduct");
  EXPECT_EQ(info["config"]["params"]["hnsw_config"]["m"], 32);
  EXPECT_EQ(info["config"]["params"]["collection_name"], name);
  // Connect a second run to the existing collection, without embeddings.
  auto c = Fo({"brain", "compute-similarity", "quickstart", "--brain-key", "connected", "--backend", "qdrant",
               "--patches-field", "ground_truth", "--collection-name", name, "--no-embeddings", "--metric", "dotproduct"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  json connected = FoJson({"brain", "index-info", "quickstart", "connected", "--json"});
  json original = FoJson({"brain", "index-info", "quickstart", "qdrant_patches", "--json"});
  EXPECT_EQ(connected["total_index_size"], original["total_index_size"]);
  // The url may come from the environment instead of flags.
  env_.push_back("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL=" + server_->url());
  if (!server_->api_key().empty()) env_.push_back("FIFTYONE_BRAIN_SIMILARITY_QDRANT_API_KEY=" + server_->api_key());
  auto from_env = Fo({"brain", "sort-by-similarity", "quickstart", "--brain-key", "connected", "--query", ids_[0], "--k", "2",
                      "--json"},
                     false);
  ASSERT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_EQ(json::parse(from_env.out).size(), 2u);
  ASSERT_EQ(Fo({"brain", "delete", "quickstart", "connected"}).exit_code, 0);
  ASSERT_EQ(Fo({"brain", "delete", "quickstart", "qdrant_patches", "--cleanup"}).exit_code, 0);
}

TEST_F(CliQdrantTest, ErrorsAreOneClearLine) {
  auto down = testing::RunCli({"brain", "compute-similarity", "quickstart", "--brain-key", "k", "--backend", "qdrant",
                               "--url", "localhost:1"},
                              env_);
  EXPECT_NE(down.exit_code, 0);
  EXPECT_NE(down.err.find("Failed to connect to Qdrant at http://localhost:1"), std::string::npos) << down.err;
  EXPECT_EQ(std::count(down.err.begin(), down.err.end(), '\n'), 1) << down.err;
  auto metric = Fo({"brain", "compute-similarity", "quickstart", "--brain-key", "k", "--backend", "qdrant", "--metric",
                    "manhattan"});
  EXPECT_NE(metric.exit_code, 0);
  EXPECT_NE(metric.err.find("supported metrics are [cosine, dotproduct, euclidean]"), std::string::npos) << metric.err;
}

}  // namespace
}  // namespace fo
