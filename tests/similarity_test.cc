#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <random>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/demo.h"
#include "fo/embeddings.h"
#include "fo/error.h"
#include "fo/model.h"
#include "brain/index_cache.h"
#include "brain/run_store.h"
#include "store/sqlite.h"
#include "fo/object_id.h"
#include "test_support.h"

namespace fo {
namespace {

using nlohmann::json;

// Plain brute-force reference: ids of the base rows sorted by distance.
std::vector<size_t> BruteForce(const Matrix& base, std::span<const float> q, const std::string& metric) {
  std::vector<double> dist(base.rows());
  for (size_t i = 0; i < base.rows(); ++i) {
    double dot = 0, nx = 0, nq = 0, l2 = 0;
    for (size_t j = 0; j < base.cols(); ++j) {
      double x = base.row(i)[j], y = q[j];
      dot += x * y, nx += x * x, nq += y * y, l2 += (x - y) * (x - y);
    }
    dist[i] = metric == "cosine" ? 1 - dot / std::sqrt(nx * nq) : metric == "dotproduct" ? -dot : std::sqrt(l2);
  }
  std::vector<size_t> order(base.rows());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dist[a] < dist[b]; });
  return order;
}

class SimilarityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::IsolateBrainConfig(dir);
    unsetenv("FIFTYONE_BRAIN_SIMILARITY_SKLEARN_METRIC");
  }

  Dataset MakeDataset(size_t n) {
    Dataset ds = Dataset::Create(st.db, "ds");
    std::vector<Sample> samples(n);
    for (size_t i = 0; i < n; ++i) {
      samples[i].filepath = "/img/" + std::to_string(i) + ".jpg";
      samples[i].tags = {i % 3 == 0 ? "third" : "rest"};
      Detection a, b;
      a.label = "a";
      b.label = "b";
      samples[i].label_fields["gt"].detections = {a, b};
    }
    ids = ds.AddSamples(samples);
    return ds;
  }

  std::unique_ptr<SimilarityIndex> IndexFromMatrix(Dataset& ds, const std::string& key, const Matrix& m,
                                                   const std::string& metric = "cosine") {
    ComputeSimilarityOptions o;
    o.brain_key = key;
    o.embeddings = m;
    o.ids = ids;
    o.params["metric"] = metric;
    return ComputeSimilarity(ds.view(), o);
  }

  testing::TempDir dir;
  testing::TempStore st;
  std::vector<std::string> ids;
};

TEST_F(SimilarityTest, QueryByIdMatchesBruteForceForEachMetric) {
  Dataset ds = MakeDataset(60);
  Matrix m = testing::RandomMatrix(60, 16, 1);
  for (std::string metric : {"cosine", "dotproduct", "euclidean"}) {
    IndexFromMatrix(ds, "r_" + metric, m, metric);
    auto order = BruteForce(m, m.row(7), metric);
    SortBySimilarityOptions o;
    o.brain_key = "r_" + metric;
    o.k = 10;
    auto got = SortBySimilarity(ds.view(), SimilarityQuery::ById(ids[7]), o).Ids();
    ASSERT_EQ(got.size(), 10u);
    for (size_t i = 0; i < 10; ++i) EXPECT_EQ(got[i], ids[order[i]]) << metric << " rank " << i;
    if (metric != "dotproduct") EXPECT_EQ(got[0], ids[7]);  // the query ranks first
    o.reverse = true;
    auto rev = SortBySimilarity(ds.view(), SimilarityQuery::ById(ids[7]), o).Ids();
    for (size_t i = 0; i < 10; ++i) EXPECT_EQ(rev[i], ids[order[59 - i]]) << metric << " reverse rank " << i;
  }
}

TEST_F(SimilarityTest, VectorsIdListsDistancesAndDistField) {
  Dataset ds = MakeDataset(40);
  Matrix m = testing::RandomMatrix(40, 8, 2);
  IndexFromMatrix(ds, "sim", m);
  SortBySimilarityOptions o;
  o.k = 5;
  o.dist_field = "dist";  // brain_key omitted: the only run is used
  auto rows = SortBySimilarity(ds.view(), SimilarityQuery::ByVector({m.row(3).begin(), m.row(3).end()}), o).Rows();
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].sample_id, ids[3]);
  EXPECT_NEAR(*rows[0].distance, 0.0, 1e-5);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_LE(*rows[i - 1].distance, *rows[i].distance);
  EXPECT_NEAR(ds.GetSample(rows[2].sample_id).fields["dist"].as<double>(), *rows[2].distance, 1e-6);
  // Several ids query with their mean.
  Matrix mean(1, 8);
  for (size_t j = 0; j < 8; ++j) mean.data()[j] = (m.row(1)[j] + m.row(2)[j]) / 2;
  auto by_ids = SortBySimilarity(ds.view(), SimilarityQuery::ByIds({ids[1], ids[2]}), o).Ids();
  auto by_mean = SortBySimilarity(ds.view(), SimilarityQuery::ByVectors(mean), o).Ids();
  EXPECT_EQ(by_ids, by_mean);
  Matrix two(2, 8);
  std::copy(m.row(1).begin(), m.row(1).end(), two.data());
  std::copy(m.row(2).begin(), m.row(2).end(), two.data() + 8);
  EXPECT_EQ(SortBySimilarity(ds.view(), SimilarityQuery::ByVectors(two), o).Ids(), by_mean);
  // No k: every indexed sample, sorted.
  EXPECT_EQ(SortBySimilarity(ds.view(), SimilarityQuery::ById(ids[0])).Count(), 40u);
}

TEST_F(SimilarityTest, ViewsRestrictResults) {
  Dataset ds = MakeDataset(30);
  Matrix m = testing::RandomMatrix(30, 8, 3);
  IndexFromMatrix(ds, "sim", m);
  SortBySimilarityOptions o;
  o.brain_key = "sim";
  o.k = 100;
  View thirds = ds.view().MatchTags({"third"});
  auto got = SortBySimilarity(thirds, SimilarityQuery::ById(ids[1]), o).Ids();  // query from outside the view
  EXPECT_EQ(got.size(), 10u);
  for (const auto& id : got) EXPECT_EQ(ds.GetSample(id).tags[0], "third");
  // Stages after the sort apply to the sorted order.
  auto top2 = SortBySimilarity(ds.view(), SimilarityQuery::ById(ids[1]), o).Limit(2).Ids();
  EXPECT_EQ(top2[0], ids[1]);
  EXPECT_EQ(top2.size(), 2u);
}

TEST_F(SimilarityTest, BadQueriesGiveClearErrors) {
  Dataset ds = MakeDataset(10);
  IndexFromMatrix(ds, "sim", testing::RandomMatrix(10, 4, 4));
  auto run = [&](SimilarityQuery q, SortBySimilarityOptions o) { SortBySimilarity(ds.view(), std::move(q), o).Ids(); };
  SortBySimilarityOptions o;
  o.brain_key = "sim";
  auto expect_code = [&](auto fn, ErrorCode code, const std::string& needle) {
    try {
      fn();
      FAIL() << "expected " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_code([&] { run(SimilarityQuery::ByVector({1, 2, 3}), o); }, ErrorCode::kInvalidArgument, "dimension 3");
  expect_code([&] { run(SimilarityQuery::ByVector({1, NAN, 3, 4}), o); }, ErrorCode::kInvalidArgument, "NaN");
  expect_code([&] { run(SimilarityQuery::ById(NewObjectId()), o); }, ErrorCode::kNotFound, "not in index");
  expect_code([&] { run(SimilarityQuery::ById("nothex"), o); }, ErrorCode::kInvalidArgument, "ObjectId");
  expect_code([&] { run(SimilarityQuery::ByText("a dog"), o); }, ErrorCode::kInvalidArgument, "prompts");
  auto bad_key = o;
  bad_key.brain_key = "nope";
  expect_code([&] { run(SimilarityQuery::ById(ids[0]), bad_key); }, ErrorCode::kNotFound, "nope");
  auto zero_k = o;
  zero_k.k = 0;
  expect_code([&] { run(SimilarityQuery::ById(ids[0]), zero_k); }, ErrorCode::kInvalidArgument, "k must be");
}

TEST_F(SimilarityTest, ComputeSimilarityRejectsBadInputAndWritesNothing) {
  Dataset ds = MakeDataset(5);
  auto expect_fail = [&](ComputeSimilarityOptions o, const std::string& needle) {
    try {
      ComputeSimilarity(ds.view(), o);
      FAIL() << "expected " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_TRUE(ListBrainRuns(ds).empty() || ListBrainRuns(ds) == std::vector<std::string>{"first"});
  };
  ComputeSimilarityOptions o;
  o.brain_key = "k1";
  o.embeddings = testing::RandomMatrix(5, 4, 5);
  o.ids = ids;
  auto nan = o;
  nan.embeddings->data()[3] = INFINITY;
  expect_fail(nan, "NaN or Inf");
  auto short_ids = o;
  short_ids.ids.pop_back();
  expect_fail(short_ids, "4 ids");
  auto unknown_id = o;
  unknown_id.ids[4] = NewObjectId();
  expect_fail(unknown_id, "not in dataset");
  auto metric = o;
  metric.params["metric"] = "manhattan";
  expect_fail(metric, "unsupported metric 'manhattan'");
  auto backend = o;
  backend.backend = "pinecone";
  expect_fail(backend, "Unsupported backend 'pinecone'");
  auto bad_key = o;
  bad_key.brain_key = "1 bad";
  expect_fail(bad_key, "not a valid identifier");
  auto first = o;
  first.brain_key = "first";
  ComputeSimilarity(ds.view(), first);
  auto no_patches = o;
  no_patches.patches_field = "nope";
  expect_fail(no_patches, "no field 'nope'");
}

// As FiftyOne's register_run(overwrite=True): computing a run under a key
// that holds one replaces it (with a notice), in one transaction; the old
// run's index files go; a run of another type under the key is an error.
TEST_F(SimilarityTest, ComputeSimilarityReplacesARunOfTheSameKey) {
  Dataset ds = MakeDataset(30);
  Matrix old_vectors = testing::RandomMatrix(30, 8, 3), new_vectors = testing::RandomMatrix(30, 8, 4);
  IndexFromMatrix(ds, "sim", old_vectors, "cosine");
  ::testing::internal::CaptureStderr();
  IndexFromMatrix(ds, "sim", new_vectors, "euclidean");
  std::string notice = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(notice.find("brain run 'sim' on dataset 'ds' replaced the previous run"), std::string::npos) << notice;
  EXPECT_EQ(notice.find("left in place"), std::string::npos) << "the sklearn index lives in the store: " << notice;
  EXPECT_EQ(std::count(notice.begin(), notice.end(), '\n'), 1) << notice;

  EXPECT_EQ(ListBrainRuns(ds), std::vector<std::string>{"sim"});
  EXPECT_EQ(GetBrainInfo(ds, "sim").config["metric"], "euclidean");
  SortBySimilarityOptions o;
  o.brain_key = "sim";
  auto got = SortBySimilarity(ds.view(), SimilarityQuery::ByVector({new_vectors.row(5).begin(), new_vectors.row(5).end()}), o).Ids();
  std::vector<std::string> expected;
  for (size_t i : BruteForce(new_vectors, new_vectors.row(5), "euclidean")) expected.push_back(ids[i]);
  EXPECT_EQ(got, expected);

  // Only the new run's index files remain once the store is opened again.
  const std::string store_path = st.dir.File("fo.db");
  const std::string files = store_path + ".files";
  auto reopened = Database::Open(store_path);
  LoadBrainResults(Dataset::Load(reopened, "ds"), "sim")->total_index_size();
  size_t dirs = 0;
  for (const auto& e : std::filesystem::directory_iterator(files)) dirs += e.is_directory();
  EXPECT_EQ(dirs, 1u);

  // A run of another type is not replaced.
  {
    auto& db = st.db->sqlite();
    internal::Transaction txn(db);
    internal::InsertRun(db, ds.id(), {0, "other", "uniqueness", "sklearn", "0", "now", json::object()});
    txn.Commit();
  }
  ComputeSimilarityOptions other;
  other.brain_key = "other";
  other.embeddings = new_vectors;
  other.ids = ids;
  try {
    ComputeSimilarity(ds.view(), other);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
    EXPECT_NE(std::string(e.what()).find("is a uniqueness run"), std::string::npos) << e.what();
  }
  EXPECT_EQ(GetBrainInfo(ds, "other").type, "uniqueness");
}

TEST_F(SimilarityTest, EmptyDatasetWithModelIsAnError) {
  Dataset ds = Dataset::Create(st.db, "empty");
  ComputeSimilarityOptions o;
  o.brain_key = "k";
  try {
    ComputeSimilarity(ds.view(), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kFailedPrecondition);
  }
  EXPECT_FALSE(HasBrainRun(ds, "k"));
}

TEST_F(SimilarityTest, EmptyIndexThenAddRemoveGet) {
  Dataset ds = MakeDataset(20);
  ComputeSimilarityOptions o;
  o.brain_key = "live";
  o.no_embeddings = true;
  auto index = ComputeSimilarity(ds.view(), o);
  EXPECT_EQ(index->total_index_size(), 0u);
  Matrix m = testing::RandomMatrix(20, 6, 6);
  index->AddToIndex(m, ids);
  EXPECT_EQ(index->total_index_size(), 20u);
  EXPECT_THROW(index->AddToIndex(testing::RandomMatrix(1, 5, 7), {ids[0]}), Error);  // wrong dimension
  EXPECT_THROW(index->AddToIndex(testing::RandomMatrix(2, 6, 7), {ids[0]}), Error);  // size mismatch
  AddToIndexOptions keep;
  keep.overwrite = false;
  index->AddToIndex(testing::RandomMatrix(1, 6, 8), {ids[0]}, {}, keep);  // skipped
  EXPECT_EQ(index->GetEmbeddings({ids[0]}).embeddings.values(), std::vector<float>(m.row(0).begin(), m.row(0).end()));
  keep.allow_existing = false;
  EXPECT_THROW(index->AddToIndex(testing::RandomMatrix(1, 6, 8), {ids[0]}, {}, keep), Error);
  index->AddToIndex(testing::RandomMatrix(1, 6, 9), {ids[0]});  // overwritten
  EXPECT_NE(index->GetEmbeddings({ids[0]}).embeddings.values(), std::vector<float>(m.row(0).begin(), m.row(0).end()));
  index->RemoveFromIndex({ids[1], ids[2]});
  EXPECT_EQ(index->total_index_size(), 18u);
  RemoveFromIndexOptions strict;
  strict.allow_missing = false;
  EXPECT_THROW(index->RemoveFromIndex({ids[1]}, {}, strict), Error);
  auto got = index->GetEmbeddings({ids[3], ids[1], ids[4]});
  EXPECT_EQ(got.sample_ids, (std::vector<std::string>{ids[3], ids[4]}));
  EXPECT_EQ(got.embeddings.rows(), 2u);
  EXPECT_THROW(index->GetEmbeddings({ids[1]}, {}, false), Error);
  EXPECT_EQ(index->GetEmbeddings({}).embeddings.rows(), 18u);
  // Persisted: a new process (handle) sees the same index.
  auto db2 = Database::Open(st.db->path());
  auto reloaded = LoadBrainResults(Dataset::Load(db2, "ds"), "live");
  EXPECT_EQ(reloaded->total_index_size(), 18u);
  EXPECT_EQ(reloaded->GetEmbeddings({ids[5]}).embeddings.values(), index->GetEmbeddings({ids[5]}).embeddings.values());
}

TEST_F(SimilarityTest, DeletedSamplesAreReportedMissingAndNeverReturned) {
  Dataset ds = MakeDataset(12);
  Matrix m = testing::RandomMatrix(12, 4, 10);
  IndexFromMatrix(ds, "sim", m);
  ds.DeleteSamples({ids[0], ids[1]});
  auto index = LoadBrainResults(ds, "sim");
  EXPECT_EQ(index->total_index_size(), 12u);
  EXPECT_EQ(index->index_size(), 10u);
  EXPECT_FALSE(index->missing_size().has_value());
  ds.AddSamples({Sample{"", "/new.jpg", {}, {}, {}, {}, {}}});
  EXPECT_EQ(*index->missing_size(), 1u);
  // A deleted sample's vector can still be the query, and never comes back.
  SortBySimilarityOptions o;
  o.brain_key = "sim";
  auto got = SortBySimilarity(ds.view(), SimilarityQuery::ById(ids[0]), o).Ids();
  EXPECT_EQ(got.size(), 10u);
  for (const auto& id : got) EXPECT_NE(id, ids[0]);
}

TEST_F(SimilarityTest, PatchIndexReturnsPatchesWithTheirSamples) {
  Dataset ds = MakeDataset(10);
  auto label_lists = ds.Values("gt.detections.id");
  std::vector<std::string> label_ids, owners;
  for (size_t i = 0; i < label_lists.size(); ++i)
    for (const auto& l : label_lists[i].as<ValueList>()) {
      label_ids.push_back(l.as<std::string>());
      owners.push_back(ids[i]);
    }
  Matrix m = testing::RandomMatrix(label_ids.size(), 8, 11);
  ComputeSimilarityOptions o;
  o.brain_key = "patches";
  o.patches_field = "gt";
  o.embeddings = m;
  o.ids = label_ids;
  auto index = ComputeSimilarity(ds.view(), o);
  EXPECT_TRUE(index->is_patch_index());
  EXPECT_EQ(index->total_index_size(), 20u);
  SortBySimilarityOptions so;
  so.brain_key = "patches";
  so.k = 6;
  so.dist_field = "d";
  auto rows = SortBySimilarity(ds.view(), SimilarityQuery::ById(label_ids[5]), so).Rows();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].sample_id, owners[5]);
  EXPECT_EQ(rows[0].patches[0].label_id, label_ids[5]);
  size_t patches = 0;
  for (const auto& r : rows) {
    for (const auto& p : r.patches) {
      auto it = std::find(label_ids.begin(), label_ids.end(), p.label_id);
      ASSERT_NE(it, label_ids.end());
      EXPECT_EQ(owners[it - label_ids.begin()], r.sample_id);
      ++patches;
    }
  }
  EXPECT_EQ(patches, 6u);
  auto order = BruteForce(m, m.row(5), "cosine");
  EXPECT_EQ(rows[0].patches.size() > 1 ? rows[0].patches[1].label_id : rows[1].patches[0].label_id, label_ids[order[1]]);
  // dist_field lands on the detections.
  Sample s = ds.GetSample(owners[5]);
  bool found = false;
  for (const auto& d : s.label_fields["gt"].detections)
    if (d.id == label_ids[5]) found = d.attributes.count("d") > 0;
  EXPECT_TRUE(found);
  // Sample ids on a patch index mean all of their patches.
  EXPECT_EQ(index->GetEmbeddings({owners[0]}).label_ids.size(), 2u);
  index->RemoveFromIndex({owners[0]});
  EXPECT_EQ(index->total_index_size(), 18u);
  EXPECT_THROW(IndexFromMatrix(ds, "x", m), Error);  // rows != sample ids
}

TEST_F(SimilarityTest, EmbeddingsFieldAndModelSources) {
  Dataset ds = Dataset::Create(st.db, "shapes");
  ShapesOptions so;
  so.num_images = 12;
  auto samples = GenerateShapes(dir.File("img"), so);
  ids = ds.AddSamples(samples);
  // (c) model, storing vectors in a field, (b) then that field.
  ComputeSimilarityOptions by_model;
  by_model.brain_key = "model";
  by_model.model = kColorGradientDescriptor;
  by_model.embeddings_field = "emb";
  auto a = ComputeSimilarity(ds.view(), by_model);
  EXPECT_EQ(a->total_index_size(), 12u);
  EXPECT_TRUE(ds.First().fields["emb"].is_vector());
  ComputeSimilarityOptions by_field;
  by_field.brain_key = "field";
  by_field.embeddings_field = "emb";
  auto b = ComputeSimilarity(ds.view(), by_field);
  EXPECT_EQ(b->GetEmbeddings({ids[4]}).embeddings.values(), a->GetEmbeddings({ids[4]}).embeddings.values());
  auto info = GetBrainInfo(ds, "field");
  EXPECT_EQ(info.config["embeddings_field"], "emb");
  EXPECT_EQ(GetBrainInfo(ds, "model").config["model"], kColorGradientDescriptor);
  EXPECT_EQ(GetBrainInfo(ds, "model").config["supports_prompts"], false);
  // Patches through the model, vectors on the detections.
  ComputeSimilarityOptions patches;
  patches.brain_key = "patch_model";
  patches.patches_field = "ground_truth";
  patches.embeddings_field = "patch_emb";
  patches.model = kColorGradientDescriptor;
  auto p = ComputeSimilarity(ds.view(), patches);
  size_t dets = 0;
  for (const auto& v : ds.Values("ground_truth.detections.patch_emb")) dets += v.as<ValueList>().size();
  EXPECT_EQ(p->total_index_size(), dets);
  EXPECT_GT(dets, 12u);
}

TEST_F(SimilarityTest, AddToIndexReadsAViewOfTheCallersBuffer) {
  Dataset ds = MakeDataset(6);
  ComputeSimilarityOptions o;
  o.brain_key = "view";
  o.no_embeddings = true;
  auto index = ComputeSimilarity(ds.view(), o);
  std::vector<float> buffer(6 * 3);
  std::iota(buffer.begin(), buffer.end(), 1.0f);
  index->AddToIndex(MatrixView(buffer.data(), 6, 3), ids);
  EXPECT_EQ(index->GetEmbeddings({ids[2]}).embeddings.values(), (std::vector<float>{7, 8, 9}));
  buffer[4] = std::nanf("");
  Error e = testing::CaughtError([&] { index->AddToIndex(MatrixView(buffer.data(), 6, 3), ids); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(e.what(), ::testing::HasSubstr("NaN or Inf at row 1, column 1"));
}

TEST_F(SimilarityTest, EmbeddingsWithoutIdsFollowTheViewOrder) {
  Dataset ds = MakeDataset(10);
  Matrix m = testing::RandomMatrix(4, 5, 21);
  ComputeSimilarityOptions o;
  o.brain_key = "ordered";
  o.embeddings = m;  // no ids: rows are the view's samples
  auto index = ComputeSimilarity(ds.view().Skip(3).Limit(4), o);
  EXPECT_EQ(index->total_index_size(), 4u);
  EXPECT_EQ(index->GetEmbeddings({ids[3]}).embeddings.values(), std::vector<float>(m.row(0).begin(), m.row(0).end()));
  EXPECT_EQ(index->GetEmbeddings({ids[6]}).embeddings.values(), std::vector<float>(m.row(3).begin(), m.row(3).end()));
  // Patches: the view's labels in order (2 per sample here).
  ComputeSimilarityOptions p;
  p.brain_key = "patch_rows";
  p.patches_field = "gt";
  p.embeddings = testing::RandomMatrix(4, 5, 22);
  auto patches = ComputeSimilarity(ds.view().Limit(2), p);
  EXPECT_EQ(patches->total_index_size(), 4u);
  // A matrix that does not fit the view is an error, and nothing is registered.
  ComputeSimilarityOptions bad;
  bad.brain_key = "bad";
  bad.embeddings = testing::RandomMatrix(3, 5, 23);
  EXPECT_EQ(testing::CodeOf([&] { ComputeSimilarity(ds.view(), bad); }), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(HasBrainRun(ds, "bad"));
}

TEST_F(SimilarityTest, ALoadedModelIsUsedAndRecordedByName) {
  Dataset ds = Dataset::Create(st.db, "shapes");
  ShapesOptions so;
  so.num_images = 6;
  ids = ds.AddSamples(GenerateShapes(dir.File("img"), so));
  std::shared_ptr<Model> model = LoadModel(kColorGradientDescriptor);
  ComputeSimilarityOptions o;
  o.brain_key = "loaded";
  o.model_instance = model;
  auto index = ComputeSimilarity(ds.view(), o);
  EXPECT_EQ(GetBrainInfo(ds, "loaded").config["model"], kColorGradientDescriptor);
  Matrix direct = ComputeEmbeddings(ds.view(), *model).embeddings;
  EXPECT_EQ(index->GetEmbeddings({ids[0]}).embeddings.values(),
            std::vector<float>(direct.row(0).begin(), direct.row(0).end()));
  // The index embeds new samples with the run's model, ready for AddToIndex.
  EmbeddingsResult more = index->ComputeEmbeddings(ds.view().Limit(2));
  EXPECT_EQ(more.sample_ids, (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_EQ(more.embeddings.values(), std::vector<float>(direct.data(), direct.data() + 2 * direct.cols()));
  ComputeSimilarityOptions given;
  given.brain_key = "given";
  given.embeddings = direct;
  auto no_model = ComputeSimilarity(ds.view(), given);
  EXPECT_EQ(testing::CodeOf([&] { no_model->ComputeEmbeddings(ds.view()); }), ErrorCode::kFailedPrecondition);
}

TEST_F(SimilarityTest, ASortedViewKeepsItsOrderAfterTheRunIsGone) {
  Dataset ds = MakeDataset(20);
  Matrix m = testing::RandomMatrix(20, 8, 31);
  IndexFromMatrix(ds, "once", m);
  SortBySimilarityOptions o;
  o.brain_key = "once";
  o.k = 5;
  View sorted = SortBySimilarity(ds.view(), SimilarityQuery::ById(ids[4]), o);
  std::vector<std::string> first = sorted.Ids();
  ASSERT_EQ(first.size(), 5u);
  DeleteBrainRun(ds, "once");
  EXPECT_EQ(sorted.Ids(), first);  // no second search: the run is gone
  ds.DeleteSamples({first[1]});
  std::vector<std::string> rest = first;
  rest.erase(rest.begin() + 1);
  EXPECT_EQ(sorted.Ids(), rest);  // deleted samples drop out
  EXPECT_EQ(sorted.Count(), 4u);
}

// Sorts reuse loaded sklearn indexes (src/brain/index_cache.h); every commit,
// through this handle or another connection, must still be seen.
TEST_F(SimilarityTest, SortsSeeEveryWriteDespiteTheIndexCache) {
  Dataset ds = MakeDataset(12);
  Matrix m = testing::RandomMatrix(12, 6, 41);
  IndexFromMatrix(ds, "cached", m, "euclidean");
  SortBySimilarityOptions o;
  o.brain_key = "cached";
  o.k = 1;
  auto nearest = [&](std::span<const float> q) {
    Matrix query(1, q.size(), std::vector<float>(q.begin(), q.end()));
    return SortBySimilarity(ds.view(), SimilarityQuery::ByVectors(query), o).Ids().at(0);
  };
  std::vector<float> far(6, 100.0f);
  EXPECT_NE(nearest(far), ids[0]);  // loads and caches the index

  // Another connection moves sample 0 next to the query.
  auto other = Database::Open(st.db->path());
  LoadBrainResults(Dataset::Load(other, "ds"), "cached")->AddToIndex(Matrix(1, 6, far), {ids[0]});
  EXPECT_EQ(nearest(far), ids[0]);

  // This connection, through another index object, moves sample 1 there too and removes 0.
  auto mine = LoadBrainResults(ds, "cached");
  std::vector<float> farther(6, 200.0f);
  mine->AddToIndex(Matrix(1, 6, farther), {ids[1]});
  EXPECT_EQ(nearest(farther), ids[1]);
  mine->RemoveFromIndex({ids[1]});
  EXPECT_NE(nearest(farther), ids[1]);

  // The run recomputed under the same key.
  DeleteBrainRun(ds, "cached");
  Matrix flipped = m;
  for (size_t j = 0; j < 6; ++j) flipped.row(5)[j] = 300.0f;
  IndexFromMatrix(ds, "cached", flipped, "euclidean");
  EXPECT_EQ(nearest(std::vector<float>(6, 300.0f)), ids[5]);
}

TEST_F(SimilarityTest, TheIndexCacheKeepsToItsBudget) {
  Dataset ds = MakeDataset(10);
  IndexFromMatrix(ds, "a", testing::RandomMatrix(10, 8, 51));
  IndexFromMatrix(ds, "b", testing::RandomMatrix(10, 8, 52));
  const size_t one_run = 10 * 8 * sizeof(float);
  auto sort_both = [&](internal::IndexCache& cache) {
    for (const char* key : {"a", "b"}) {
      auto sorted = cache.Sort(ds, ds.view(), key, SimilarityQuery::ById(ids[0]), 3, false);
      EXPECT_EQ(sorted.hits.at(0).item_id, ids[0]);
    }
    return cache.cached_runs();
  };
  internal::IndexCache roomy(4, 2 * one_run);
  EXPECT_EQ(sort_both(roomy), 2u);
  internal::IndexCache one_fits(4, one_run);
  EXPECT_EQ(sort_both(one_fits), 1u);
  internal::IndexCache tiny(4, 1);  // the newest run stays, whatever its size
  EXPECT_EQ(sort_both(tiny), 1u);
  internal::IndexCache two_slots(1, 1 << 20);
  EXPECT_EQ(sort_both(two_slots), 1u);
  internal::IndexCache off(0, 0);
  EXPECT_EQ(sort_both(off), 0u);
}

TEST_F(SimilarityTest, BrainRunManagement) {
  Dataset ds = MakeDataset(6);
  ComputeSimilarityOptions o;
  o.brain_key = "img";
  o.embeddings = testing::RandomMatrix(6, 4, 12);
  o.ids = ids;
  o.params["url"] = "http://secret-host:6333";
  o.params["api_key"] = "SECRET-KEY";
  o.params["custom"] = 5;
  ComputeSimilarity(ds.view(), o);
  ComputeSimilarityOptions p;
  p.brain_key = "patch";
  p.no_embeddings = true;
  p.patches_field = "gt";
  ComputeSimilarity(ds.view(), p);
  EXPECT_EQ(ListBrainRuns(ds), (std::vector<std::string>{"img", "patch"}));
  EXPECT_EQ(ListBrainRuns(ds, {"similarity", "", {{"patches_field", "gt"}}}), std::vector<std::string>{"patch"});
  EXPECT_EQ(ListBrainRuns(ds, {"similarity", "", {{"patches_field", nullptr}}}), std::vector<std::string>{"img"});
  EXPECT_TRUE(ListBrainRuns(ds, {"visualization", "", {}}).empty());
  EXPECT_EQ(ListBrainRuns(ds, {"", "sklearn", {}}).size(), 2u);
  BrainInfo info = GetBrainInfo(ds, "img");
  EXPECT_EQ(info.key, "img");
  EXPECT_EQ(info.version, Version());
  EXPECT_EQ(info.config["method"], "sklearn");
  EXPECT_EQ(info.config["params"]["custom"], 5);
  // Credentials never reach the store.
  std::string raw = testing::ReadFile(st.db->path()) + testing::ReadFile(st.db->path() + "-wal");
  EXPECT_EQ(raw.find("SECRET-KEY"), std::string::npos);
  EXPECT_EQ(raw.find("secret-host"), std::string::npos);
  EXPECT_EQ(info.config.dump().find("api_key"), std::string::npos);
  RenameBrainRun(ds, "img", "img2");
  EXPECT_FALSE(HasBrainRun(ds, "img"));
  EXPECT_EQ(LoadBrainResults(ds, "img2")->total_index_size(), 6u);
  EXPECT_THROW(RenameBrainRun(ds, "img2", "patch"), Error);
  EXPECT_THROW(RenameBrainRun(ds, "nope", "x"), Error);
  DeleteBrainRun(ds, "img2");
  EXPECT_EQ(ListBrainRuns(ds), std::vector<std::string>{"patch"});
  EXPECT_THROW(GetBrainInfo(ds, "img2"), Error);
  DeleteBrainRuns(ds);
  EXPECT_TRUE(ListBrainRuns(ds).empty());
}

TEST_F(SimilarityTest, BrainConfigPrecedence) {
  Dataset ds = MakeDataset(4);
  testing::WriteFile(dir.File("brain_config.json"),
                     R"({"default_similarity_backend": "sklearn", "similarity_backends": {"sklearn": {"metric": "dotproduct"}}})");
  ComputeSimilarityOptions o;
  o.embeddings = testing::RandomMatrix(4, 3, 13);
  o.ids = ids;
  o.brain_key = "file";
  EXPECT_EQ(ComputeSimilarity(ds.view(), o)->config().metric, "dotproduct");
  setenv("FIFTYONE_BRAIN_SIMILARITY_SKLEARN_METRIC", "euclidean", 1);
  o.brain_key = "env";
  EXPECT_EQ(ComputeSimilarity(ds.view(), o)->config().metric, "euclidean");
  o.brain_key = "arg";
  o.params["metric"] = "cosine";
  EXPECT_EQ(ComputeSimilarity(ds.view(), o)->config().metric, "cosine");
  unsetenv("FIFTYONE_BRAIN_SIMILARITY_SKLEARN_METRIC");
  setenv("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND", "nosuch", 1);
  o.brain_key = "bad_backend";
  try {
    ComputeSimilarity(ds.view(), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nosuch"), std::string::npos);
  }
  o.backend = "sklearn";  // an explicit argument beats env
  EXPECT_NO_THROW(ComputeSimilarity(ds.view(), o));
  unsetenv("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND");
  testing::WriteFile(dir.File("brain_config.json"), "{not json");
  o.brain_key = "broken";
  try {
    ComputeSimilarity(ds.view(), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("brain_config.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fo
