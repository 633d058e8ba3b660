// The examples of FiftyOne's Qdrant integration page
// (../shared/spec/fiftyone-qdrant-integration.rst), in C++, against the
// project's Qdrant-compatible test server, or a real Qdrant when QDRANT_URL
// is set.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/demo.h"
#include "fo/embeddings.h"
#include "fo/error.h"
#include "fo/model.h"
#include "fo/object_id.h"
#include "fo/qdrant_backend.h"
#include "fo/qdrant_client.h"
#include "test_support.h"

namespace fo {
namespace {

using nlohmann::json;

class QdrantBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    images_ = new testing::TempDir();
    samples_ = new std::vector<Sample>(GenerateShapes(images_->path()));
    server_ = new testing::QdrantServer();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete samples_;
    delete images_;
  }

  void SetUp() override {
    setenv("FIFTYONE_BRAIN_CONFIG_PATH", dir_.File("brain_config.json").c_str(), 1);
    unsetenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL");
    unsetenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_API_KEY");
    unsetenv("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND");
    dataset_ = std::make_unique<Dataset>(Dataset::Create(store_.db, "quickstart"));
    ids_ = dataset_->AddSamples(*samples_);
  }

  void TearDown() override {
    for (const auto& key : ListBrainRuns(*dataset_)) {
      try {
        LoadBrainResults(*dataset_, key, Credentials())->Cleanup();
      } catch (const Error&) {
      }
    }
  }

  json Credentials() const {
    json c = {{"url", server_->url()}};
    if (!server_->api_key().empty()) c["api_key"] = server_->api_key();
    return c;
  }

  ComputeSimilarityOptions Qdrant(const std::string& key) const {
    ComputeSimilarityOptions o;
    o.brain_key = key;
    o.backend = "qdrant";
    o.params = Credentials();
    return o;
  }

  SortBySimilarityOptions Sort(const std::string& key, std::optional<size_t> k) const {
    SortBySimilarityOptions o;
    o.brain_key = key;
    o.k = k;
    o.credentials["url"] = server_->url();
    if (!server_->api_key().empty()) o.credentials["api_key"] = server_->api_key();
    return o;
  }

  static testing::TempDir* images_;
  static std::vector<Sample>* samples_;
  static testing::QdrantServer* server_;
  testing::TempDir dir_;
  testing::TempStore store_;
  std::unique_ptr<Dataset> dataset_;
  std::vector<std::string> ids_;
};

testing::TempDir* QdrantBackendTest::images_ = nullptr;
std::vector<Sample>* QdrantBackendTest::samples_ = nullptr;
testing::QdrantServer* QdrantBackendTest::server_ = nullptr;

// Basic recipe: index with the default model, query by id, clean up.
TEST_F(QdrantBackendTest, BasicRecipe) {
  auto index = ComputeSimilarity(dataset_->view(), Qdrant("qdrant_index"));
  EXPECT_EQ(index->total_index_size(), 200u);
  std::string collection = QdrantCollectionOf(*index);
  EXPECT_EQ(collection.rfind("fiftyone-quickstart", 0), 0u) << collection;
  auto view = SortBySimilarity(dataset_->view(), SimilarityQuery::ById(dataset_->First().id), Sort("qdrant_index", 10));
  auto rows = view.Rows();
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[0].sample_id, ids_[0]);  // the query sample itself comes first
  EXPECT_NEAR(*rows[0].distance, 0.0, 1e-5);
  index->Cleanup();
  EXPECT_FALSE(QdrantClientOf(*index).CollectionExists(collection));
  DeleteBrainRun(*dataset_, "qdrant_index");
  EXPECT_FALSE(HasBrainRun(*dataset_, "qdrant_index"));
}

// Results equal the exact sklearn backend's on the same vectors.
TEST_F(QdrantBackendTest, QueriesMatchExactSearch) {
  // Unit rows: a Cosine collection stores normalised vectors, so the mean of
  // several ids' vectors would otherwise differ from sklearn's mean of the raw ones.
  Matrix m = testing::RandomMatrix(200, 32, 1);
  for (size_t i = 0; i < m.rows(); ++i) {
    double n = 0;
    for (float x : m.row(i)) n += x * x;
    for (float& x : m.row(i)) x = static_cast<float>(x / std::sqrt(n));
  }
  for (std::string metric : {"cosine", "dotproduct", "euclidean"}) {
    auto q = Qdrant("q_" + metric);
    q.embeddings = m;
    q.ids = ids_;
    q.params["metric"] = metric;
    ComputeSimilarity(dataset_->view(), q);
    ComputeSimilarityOptions s;
    s.brain_key = "s_" + metric;
    s.embeddings = m;
    s.ids = ids_;
    s.params["metric"] = metric;
    ComputeSimilarity(dataset_->view(), s);
    std::vector<SimilarityQuery> queries = {SimilarityQuery::ById(ids_[3]), SimilarityQuery::ByIds({ids_[0], ids_[199]}),
                                            SimilarityQuery::ByVectors(testing::RandomMatrix(1, 32, 2))};
    for (const auto& query : queries) {
      auto got = SortBySimilarity(dataset_->view(), query, Sort("q_" + metric, 10)).Rows();
      auto want = SortBySimilarity(dataset_->view(), query, Sort("s_" + metric, 10)).Rows();
      ASSERT_EQ(got.size(), 10u);
      for (size_t i = 0; i < 10; ++i) {
        EXPECT_EQ(got[i].sample_id, want[i].sample_id) << metric << " rank " << i;
        EXPECT_NEAR(*got[i].distance, *want[i].distance, 1e-4) << metric << " rank " << i;
      }
      if (metric == "euclidean") continue;
      auto sort = Sort("q_" + metric, 10);
      sort.reverse = true;
      auto rev = SortBySimilarity(dataset_->view(), query, sort).Rows();
      sort.brain_key = "s_" + metric;
      auto rev_want = SortBySimilarity(dataset_->view(), query, sort).Rows();
      for (size_t i = 0; i < 10; ++i) EXPECT_EQ(rev[i].sample_id, rev_want[i].sample_id) << metric << " reverse " << i;
    }
  }
  auto sort = Sort("q_euclidean", 5);
  sort.reverse = true;
  try {
    SortBySimilarity(dataset_->view(), SimilarityQuery::ById(ids_[0]), sort).Rows();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("euclidean"), std::string::npos) << e.what();
  }
}

// Options 1-4 of "Create a similarity index".
TEST_F(QdrantBackendTest, CreateFromModelMatrixAndField) {
  auto by_model = Qdrant("by_model");
  by_model.model = kColorGradientDescriptor;
  auto a = ComputeSimilarity(dataset_->view(), by_model);
  EXPECT_EQ(a->total_index_size(), 200u);
  EXPECT_EQ(GetBrainInfo(*dataset_, "by_model").config["model"], kColorGradientDescriptor);

  auto model = LoadModel(kColorGradientDescriptor);
  ComputeEmbeddingsOptions eo;
  eo.embeddings_field = "embeddings";
  EmbeddingsResult e = ComputeEmbeddings(dataset_->view(), *model, eo);
  auto by_matrix = Qdrant("by_matrix");
  by_matrix.embeddings = e.embeddings;
  by_matrix.ids = e.sample_ids;
  EXPECT_EQ(ComputeSimilarity(dataset_->view(), by_matrix)->total_index_size(), 200u);

  auto by_field = Qdrant("by_field");
  by_field.embeddings_field = "embeddings";
  auto c = ComputeSimilarity(dataset_->view(), by_field);
  EXPECT_EQ(c->total_index_size(), 200u);
  // Cosine collections store normalised vectors; compare directions.
  auto va = a->GetEmbeddings({ids_[7]}).embeddings;
  auto vc = c->GetEmbeddings({ids_[7]}).embeddings;
  ASSERT_EQ(va.cols(), vc.cols());
  double dot = 0;
  for (size_t j = 0; j < va.cols(); ++j) dot += va.data()[j] * vc.data()[j];
  EXPECT_NEAR(dot, 1.0, 1e-4);
}

TEST_F(QdrantBackendTest, PatchIndex) {
  auto o = Qdrant("qdrant_patches");
  o.patches_field = "ground_truth";
  o.model = kColorGradientDescriptor;
  auto index = ComputeSimilarity(dataset_->view(), o);
  size_t dets = 0;
  for (const auto& v : dataset_->Values("ground_truth.detections.id")) dets += v.as<ValueList>().size();
  EXPECT_EQ(index->total_index_size(), dets);
  std::string label = dataset_->First().label_fields["ground_truth"].detections[0].id;
  auto rows = SortBySimilarity(dataset_->view(), SimilarityQuery::ById(label), Sort("qdrant_patches", 10)).Rows();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].patches[0].label_id, label);
  EXPECT_EQ(rows[0].sample_id, ids_[0]);
  // Patch vectors by sample id: every patch of those samples, across scroll pages.
  auto got = index->GetEmbeddings(ids_);
  EXPECT_EQ(got.label_ids.size(), dets);
  index->RemoveFromIndex({ids_[0]});
  EXPECT_EQ(index->total_index_size(), dets - dataset_->First().label_fields["ground_truth"].detections.size());
}

// "Connect to an existing index".
TEST_F(QdrantBackendTest, ConnectToExistingCollection) {
  std::string name = "your-collection-" + NewObjectId();
  auto first = Qdrant("first");
  first.params["collection_name"] = name;
  first.embeddings = testing::RandomMatrix(200, 16, 3);
  first.ids = ids_;
  ComputeSimilarity(dataset_->view(), first);
  auto o = Qdrant("qdrant_index");
  o.model = kColorGradientDescriptor;
  o.no_embeddings = true;
  o.params["collection_name"] = name;
  auto index = ComputeSimilarity(dataset_->view(), o);
  EXPECT_EQ(index->total_index_size(), 200u);
  EXPECT_EQ(GetBrainInfo(*dataset_, "qdrant_index").config["params"]["collection_name"], name);
  auto rows = SortBySimilarity(dataset_->view(), SimilarityQuery::ById(ids_[5]), Sort("qdrant_index", 3)).Rows();
  EXPECT_EQ(rows[0].sample_id, ids_[5]);
  // Not embeddings given and a collection that already holds points: reused, nothing added.
  auto again = Qdrant("again");
  again.params["collection_name"] = name;
  EXPECT_EQ(ComputeSimilarity(dataset_->view(), again)->total_index_size(), 200u);
  DeleteBrainRun(*dataset_, "again");
  DeleteBrainRun(*dataset_, "qdrant_index");
}

// "Add/remove embeddings from an index": 200 -> 210.
TEST_F(QdrantBackendTest, AddAndRemove) {
  auto o = Qdrant("qdrant_index");
  o.model = kColorGradientDescriptor;
  auto index = ComputeSimilarity(dataset_->view(), o);
  EXPECT_EQ(index->total_index_size(), 200u);
  View view = dataset_->view().Take(10);
  std::vector<std::string> ids = view.Ids();
  dataset_->DeleteSamples(ids);
  index->RemoveFromIndex(ids);
  std::vector<Sample> samples(20);
  for (int i = 0; i < 20; ++i) samples[i].filepath = "tmp" + std::to_string(i) + ".jpg";
  auto sample_ids = dataset_->AddSamples(samples);
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<float> u(0, 1);
  Matrix emb(20, LoadModel(kColorGradientDescriptor)->dimension());
  for (size_t i = 0; i < emb.rows() * emb.cols(); ++i) emb.data()[i] = u(rng);
  index->AddToIndex(emb, sample_ids);
  EXPECT_EQ(index->total_index_size(), 210u);
  AddToIndexOptions strict;
  strict.overwrite = false;
  strict.allow_existing = false;
  EXPECT_THROW(index->AddToIndex(emb, sample_ids, {}, strict), Error);
  RemoveFromIndexOptions must_exist;
  must_exist.allow_missing = false;
  EXPECT_THROW(index->RemoveFromIndex(ids, {}, must_exist), Error);
  EXPECT_EQ(index->total_index_size(), 210u);
}

// "Retrieve embeddings from an index".
TEST_F(QdrantBackendTest, GetEmbeddings) {
  auto o = Qdrant("qdrant_index");
  o.embeddings = testing::RandomMatrix(200, 24, 5);
  o.ids = ids_;
  auto index = ComputeSimilarity(dataset_->view(), o);
  auto all = index->GetEmbeddings(dataset_->Ids());
  EXPECT_EQ(all.embeddings.rows(), 200u);
  EXPECT_EQ(all.embeddings.cols(), 24u);
  EXPECT_EQ(all.sample_ids, ids_);
  auto some_ids = dataset_->view().Take(10).Ids();
  auto some = index->GetEmbeddings(some_ids);
  EXPECT_EQ(some.embeddings.rows(), 10u);
  EXPECT_EQ(some.sample_ids, some_ids);
  EXPECT_EQ(index->GetEmbeddings({}).embeddings.rows(), 200u);  // the whole index, by pages
}

// Views restrict results on the server, for small and for large views.
TEST_F(QdrantBackendTest, ViewRestrictedQueries) {
  auto o = Qdrant("qdrant_index");
  o.embeddings = testing::RandomMatrix(200, 8, 6);
  o.ids = ids_;
  ComputeSimilarity(dataset_->view(), o);
  View small = dataset_->view().Take(15, 3);
  auto small_ids = small.Ids();
  auto got = SortBySimilarity(small, SimilarityQuery::ById(ids_[0]), Sort("qdrant_index", 100)).Ids();
  EXPECT_EQ(got.size(), 15u);
  for (const auto& id : got) EXPECT_NE(std::find(small_ids.begin(), small_ids.end(), id), small_ids.end());
  // Most of the index: sent as must_not of the complement.
  View large = dataset_->view().Exclude({ids_[1], ids_[2]});
  auto big = SortBySimilarity(large, SimilarityQuery::ById(ids_[1]), Sort("qdrant_index", 300)).Ids();
  EXPECT_EQ(big.size(), 198u);
  for (const auto& id : big) EXPECT_TRUE(id != ids_[1] && id != ids_[2]);
  // Samples deleted since indexing never come back.
  dataset_->DeleteSamples({ids_[4]});
  auto after = SortBySimilarity(dataset_->view(), SimilarityQuery::ById(ids_[4]), Sort("qdrant_index", 5)).Ids();
  EXPECT_EQ(after.size(), 5u);
  for (const auto& id : after) EXPECT_NE(id, ids_[4]);
}

// "Accessing the Qdrant client", and FiftyOne's point id / payload layout.
TEST_F(QdrantBackendTest, ClientAccessAndPointLayout) {
  auto o = Qdrant("qdrant_index");
  o.embeddings = testing::RandomMatrix(200, 8, 7);
  o.ids = ids_;
  auto index = ComputeSimilarity(dataset_->view(), o);
  QdrantClient& client = QdrantClientOf(*index);
  auto names = client.ListCollections();
  std::string collection = QdrantCollectionOf(*index);
  EXPECT_NE(std::find(names.begin(), names.end(), collection), names.end());
  auto points = client.Retrieve(collection, {ObjectIdToPointId(ids_[9])}, false, true);
  ASSERT_EQ(points.size(), 1u);
  std::string simple = ids_[9] + "00000000";
  std::string hyphenated = simple.substr(0, 8) + "-" + simple.substr(8, 4) + "-" + simple.substr(12, 4) + "-" +
                           simple.substr(16, 4) + "-" + simple.substr(20);
  EXPECT_EQ(points[0].id, hyphenated);
  EXPECT_EQ(points[0].payload, (json{{"sample_id", ids_[9]}}));
  ComputeSimilarityOptions sk;
  sk.brain_key = "sk";
  sk.embeddings = testing::RandomMatrix(200, 8, 7);
  sk.ids = ids_;
  auto sklearn = ComputeSimilarity(dataset_->view(), sk);
  EXPECT_THROW(QdrantClientOf(*sklearn), Error);
}

// A custom collection: dotproduct metric, replication and shard settings, nested configs.
TEST_F(QdrantBackendTest, CustomCollectionSettings) {
  auto o = Qdrant("qdrant_index");
  std::string name = "custom-" + NewObjectId();
  o.params["collection_name"] = name;
  o.params["metric"] = "dotproduct";
  o.params["replication_factor"] = 1;
  o.params["shard_number"] = 2;
  o.params["hnsw_config"] = {{"m", 32}, {"ef_construct", 100}, {"on_disk", nullptr}};
  o.params["wal_config"] = {{"wal_capacity_mb", 32}};
  o.embeddings = testing::RandomMatrix(200, 8, 8);
  o.ids = ids_;
  auto index = ComputeSimilarity(dataset_->view(), o);
  json info = QdrantClientOf(*index).GetCollection(name);
  EXPECT_EQ(info["config"]["params"]["vectors"]["distance"], "Dot");
  EXPECT_EQ(info["config"]["params"]["shard_number"], 2);
  EXPECT_EQ(info["config"]["hnsw_config"]["m"], 32);
  json stored = GetBrainInfo(*dataset_, "qdrant_index").config;
  EXPECT_EQ(stored["metric"], "dotproduct");
  EXPECT_EQ(stored["params"]["shard_number"], 2);
  auto bad = Qdrant("bad");
  bad.params["metric"] = "manhattan";
  try {
    ComputeSimilarity(dataset_->view(), bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cosine, dotproduct, euclidean"), std::string::npos) << e.what();
  }
}

// Credentials: never stored; taken again at load, from arguments or env.
TEST_F(QdrantBackendTest, CredentialsFromArgumentsEnvAndConfig) {
  auto o = Qdrant("qdrant_index");
  o.embeddings = testing::RandomMatrix(200, 8, 9);
  o.ids = ids_;
  ComputeSimilarity(dataset_->view(), o);
  json stored = GetBrainInfo(*dataset_, "qdrant_index").config;
  EXPECT_FALSE(stored["params"].contains("url"));
  EXPECT_FALSE(stored["params"].contains("api_key"));
  EXPECT_EQ(LoadBrainResults(*dataset_, "qdrant_index", Credentials())->total_index_size(), 200u);
  setenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL", server_->url().c_str(), 1);
  if (!server_->api_key().empty()) setenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_API_KEY", server_->api_key().c_str(), 1);
  EXPECT_EQ(LoadBrainResults(*dataset_, "qdrant_index")->total_index_size(), 200u);
  unsetenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL");
  unsetenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_API_KEY");
  json file = {{"similarity_backends", {{"qdrant", Credentials()}}}};
  testing::WriteFile(dir_.File("brain_config.json"), file.dump());
  EXPECT_EQ(LoadBrainResults(*dataset_, "qdrant_index")->total_index_size(), 200u);
  // The default backend from the config file.
  testing::WriteFile(dir_.File("brain_config.json"),
                     json{{"default_similarity_backend", "qdrant"}, {"similarity_backends", {{"qdrant", Credentials()}}}}.dump());
  ComputeSimilarityOptions by_default;
  by_default.brain_key = "by_default";
  by_default.embeddings = testing::RandomMatrix(200, 8, 10);
  by_default.ids = ids_;
  EXPECT_EQ(ComputeSimilarity(dataset_->view(), by_default)->config().backend, "qdrant");
}

TEST_F(QdrantBackendTest, UnreachableServerIsAClearError) {
  auto o = Qdrant("down");
  o.params["url"] = "localhost:1";  // no scheme: http is assumed
  o.no_embeddings = true;
  try {
    ComputeSimilarity(dataset_->view(), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
    EXPECT_NE(std::string(e.what()).find("Failed to connect to Qdrant at http://localhost:1"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(HasBrainRun(*dataset_, "down"));
}

TEST_F(QdrantBackendTest, NewCollectionNamesAreUnique) {
  auto a = Qdrant("a");
  a.no_embeddings = true;
  auto first = ComputeSimilarity(dataset_->view(), a);
  first->AddToIndex(testing::RandomMatrix(2, 4, 12), {ids_[0], ids_[1]});
  auto b = Qdrant("b");
  b.no_embeddings = true;
  auto second = ComputeSimilarity(dataset_->view(), b);
  second->AddToIndex(testing::RandomMatrix(2, 4, 13), {ids_[0], ids_[1]});
  std::string na = QdrantCollectionOf(*first), nb = QdrantCollectionOf(*second);
  EXPECT_NE(na, nb);
  EXPECT_EQ(nb.rfind("fiftyone-quickstart-", 0), 0u) << nb;
  EXPECT_EQ(GetBrainInfo(*dataset_, "b").config["params"]["collection_name"], nb);
}

// Replacing a Qdrant run (FiftyOne's overwrite) makes a new collection and,
// as FiftyOne's compute_similarity does (cleanup=False), leaves the old one;
// the notice names it.
TEST_F(QdrantBackendTest, ReplacingARunKeepsTheOldCollection) {
  auto first = ComputeSimilarity(dataset_->view(), Qdrant("qdrant_index"));
  const std::string old_collection = QdrantCollectionOf(*first);
  ::testing::internal::CaptureStderr();
  auto second = ComputeSimilarity(dataset_->view(), Qdrant("qdrant_index"));
  std::string notice = ::testing::internal::GetCapturedStderr();
  const std::string new_collection = QdrantCollectionOf(*second);
  EXPECT_NE(new_collection, old_collection);
  EXPECT_EQ(GetBrainInfo(*dataset_, "qdrant_index").config["params"]["collection_name"], new_collection);
  EXPECT_TRUE(QdrantClientOf(*second).CollectionExists(old_collection));
  EXPECT_NE(notice.find("replaced the previous run"), std::string::npos) << notice;
  EXPECT_NE(notice.find(old_collection), std::string::npos) << notice;
  EXPECT_NE(notice.find("left in place"), std::string::npos) << notice;
  auto rows = SortBySimilarity(dataset_->view(), SimilarityQuery::ById(ids_[3]), Sort("qdrant_index", 1)).Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].sample_id, ids_[3]);
  first->Cleanup();  // what a user does to delete the old collection
  EXPECT_FALSE(QdrantClientOf(*second).CollectionExists(old_collection));
}

// A failure halfway through add_to_index says how much was written, and
// running it again finishes the job.
TEST_F(QdrantBackendTest, HalfwayFailureReportsProgressAndRerunFinishes) {
  if (!server_->is_test_server()) GTEST_SKIP() << "needs the test server's fault injection";
  auto o = Qdrant("qdrant_index");
  o.no_embeddings = true;
  auto index = ComputeSimilarity(dataset_->view(), o);
  Matrix m = testing::RandomMatrix(200, 8, 14);
  index->AddToIndex(Matrix(1, 8, std::vector<float>(m.row(0).begin(), m.row(0).end())), {ids_[0]});  // creates the collection
  std::string points = "/collections/" + QdrantCollectionOf(*index) + "/points";
  // Two upserts pass (stall 0 ms), the third is refused.
  json plan = json::array({{{"mode", "stall"}, {"stall_ms", 0}, {"count", 2}, {"method", "PUT"}, {"path_prefix", points}},
                           {{"mode", "status"}, {"status", 400}, {"count", 1}, {"method", "PUT"}, {"path_prefix", points}}});
  QdrantClientOf(*index).Request("POST", "/__test/faults", plan.dump());
  AddToIndexOptions batches;
  batches.batch_size = 50;
  try {
    index->AddToIndex(m, ids_, {}, batches);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("100 of 200 embeddings were added"), std::string::npos) << e.what();
  }
  EXPECT_EQ(index->total_index_size(), 100u);
  index->AddToIndex(m, ids_, {}, batches);
  EXPECT_EQ(index->total_index_size(), 200u);
}

TEST(QdrantAuthTest, ApiKeyIsSentAndNeverShown) {
  if (std::getenv("QDRANT_URL")) GTEST_SKIP() << "needs the test server";
  testing::QdrantServer server("s3cret-key");
  testing::TempStore store;
  setenv("FIFTYONE_BRAIN_CONFIG_PATH", (store.dir.path() + "/none.json").c_str(), 1);
  Dataset ds = Dataset::Create(store.db, "d");
  auto ids = ds.AddSamples({Sample{"", "/a.jpg", {}, {}, {}, {}, {}}, Sample{"", "/b.jpg", {}, {}, {}, {}, {}}});
  ComputeSimilarityOptions o;
  o.brain_key = "k";
  o.backend = "qdrant";
  o.embeddings = testing::RandomMatrix(2, 4, 11);
  o.ids = ids;
  o.params = {{"url", server.url()}, {"api_key", "wrong-key"}};
  try {
    ComputeSimilarity(ds.view(), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated);
    EXPECT_EQ(std::string(e.what()).find("wrong-key"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(server.url()), std::string::npos) << e.what();
  }
  o.params["api_key"] = "s3cret-key";
  auto index = ComputeSimilarity(ds.view(), o);
  EXPECT_EQ(index->total_index_size(), 2u);
  EXPECT_EQ((testing::ReadFile(store.db->path()) + testing::ReadFile(store.db->path() + "-wal")).find("s3cret"), std::string::npos);
  index->Cleanup();
}

}  // namespace
}  // namespace fo
