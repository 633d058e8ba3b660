// The sklearn backend's reduced-precision storage (storage = float16 | int8):
// the codes column is written with the run, appended to, compacted and
// reopened, and searches that scan it and re-rank on float32 return what an
// exact search would. References are computed here in double over the test's
// own copy of the vectors, never by the code under test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <random>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "test_support.h"

namespace fo {
namespace {

namespace fs = std::filesystem;

constexpr size_t kRows = 20000;
constexpr size_t kDim = 64;
constexpr size_t kK = 10;

// Rows around 40 random centres, as real embeddings cluster.
Matrix Clustered(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  Matrix centres(40, d);
  for (size_t i = 0; i < 40 * d; ++i) centres.data()[i] = g(rng);
  std::uniform_int_distribution<size_t> pick(0, 39);
  Matrix m(n, d);
  for (size_t i = 0; i < n; ++i) {
    size_t c = pick(rng);
    for (size_t j = 0; j < d; ++j) m.data()[i * d + j] = centres.row(c)[j] + 0.4f * g(rng);
  }
  return m;
}

double Cosine(const float* a, const float* b, size_t d) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < d; ++i) dot += double(a[i]) * b[i], na += double(a[i]) * a[i], nb += double(b[i]) * b[i];
  return 1 - dot / std::sqrt(na * nb);
}

double Euclidean(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t i = 0; i < d; ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return std::sqrt(s);
}

struct Case {
  const char* storage;
  const char* metric;
};

class IndexCodesTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    testing::IsolateBrainConfig(dir);
    ds.emplace(Dataset::Create(st.db, "ds"));
    ids = ds->AddSamples(NewSamples(kRows, 0));
    data = Clustered(kRows, kDim, 1);
    for (size_t i = 0; i < kRows; ++i) ref[ids[i]] = i;
    ComputeSimilarityOptions o;
    o.brain_key = "sim";
    o.embeddings = data;
    o.params["storage"] = GetParam().storage;
    o.params["metric"] = GetParam().metric;
    index = ComputeSimilarity(ds->view(), o);
  }

  static std::vector<Sample> NewSamples(size_t n, size_t offset) {
    std::vector<Sample> samples(n);
    for (size_t i = 0; i < n; ++i) {
      samples[i].filepath = "/img/" + std::to_string(offset + i) + ".jpg";
      samples[i].tags = {(offset + i) % 3 == 0 ? "third" : "rest"};
    }
    return samples;
  }

  double Distance(const float* a, const float* b) const {
    return std::string(GetParam().metric) == "cosine" ? Cosine(a, b, kDim) : Euclidean(a, b, kDim);
  }

  // Ids of the indexed items in `in` (all when empty), nearest to q first
  // (farthest first with reverse), by double-precision distance.
  std::vector<std::string> BruteForce(const std::vector<float>& q, size_t k, bool reverse,
                                      const std::vector<std::string>& in = {}) const {
    std::vector<std::pair<double, std::string>> all;
    auto add = [&](const std::string& id) {
      auto it = ref.find(id);
      if (it != ref.end()) all.emplace_back(Distance(q.data(), data.row(it->second).data()), id);
    };
    if (in.empty()) {
      for (const auto& [id, row] : ref) add(id);
    } else {
      for (const auto& id : in) add(id);
    }
    if (reverse) {
      std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first > b.first; });
    } else {
      std::sort(all.begin(), all.end());
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < all.size() && i < k; ++i) out.push_back(all[i].second);
    return out;
  }

  // A query near a random row (not equal to it, so that there is no exact tie).
  std::vector<float> QueryNear(std::mt19937& rng) const {
    std::uniform_int_distribution<size_t> pick(0, data.rows() - 1);
    std::normal_distribution<float> g(0, 0.3f);
    auto row = data.row(pick(rng));
    std::vector<float> q(row.begin(), row.end());
    for (float& v : q) v += g(rng);
    return q;
  }

  static std::vector<std::string> HitIds(const std::vector<Hit>& hits) {
    std::vector<std::string> out;
    for (const auto& h : hits) out.push_back(h.item_id);
    return out;
  }

  std::vector<std::string> Search(SimilarityIndex& i, const std::vector<float>& q, size_t k, bool reverse) {
    return HitIds(i.Query(SimilarityQuery::ByVector(q), k, reverse));
  }

  std::string Generation() const {
    std::vector<std::string> dirs;
    for (const auto& e : fs::directory_iterator(st.db->path() + ".files")) dirs.push_back(e.path().string());
    EXPECT_EQ(dirs.size(), 1u);
    return dirs.empty() ? "" : dirs[0];
  }

  std::string CodesPath() const {
    return Generation() + (std::string(GetParam().storage) == "int8" ? "/codes.i8" : "/codes.f16");
  }
  size_t CodeBytes() const { return std::string(GetParam().storage) == "int8" ? kDim : 2 * kDim; }

  std::unique_ptr<SimilarityIndex> Reopen() {
    db2 = Database::Open(st.db->path());
    return LoadBrainResults(Dataset::Load(db2, "ds"), "sim");
  }

  testing::TempDir dir;
  testing::TempStore st;
  std::shared_ptr<Database> db2;
  std::optional<Dataset> ds;
  std::vector<std::string> ids;
  Matrix data;                          // every vector ever indexed, by row
  std::map<std::string, size_t> ref;    // live item id -> row of `data`
  std::unique_ptr<SimilarityIndex> index;
};

TEST_P(IndexCodesTest, SearchesEqualBruteForceOnTheDatasetAViewAndReversed) {
  EXPECT_EQ(fs::file_size(CodesPath()), 4096 + kRows * CodeBytes());
  View third = ds->view().MatchTags({"third"});
  std::vector<std::string> in_third = third.Ids();
  std::mt19937 rng(2);
  int whole = 0, view = 0, reversed = 0;
  for (int t = 0; t < 100; ++t) {
    std::vector<float> q = QueryNear(rng);
    index->ClearView();
    whole += Search(*index, q, kK, false) == BruteForce(q, kK, false);
    reversed += Search(*index, q, kK, true) == BruteForce(q, kK, true);
    index->UseView(third);
    view += Search(*index, q, kK, false) == BruteForce(q, kK, false, in_third);
  }
  EXPECT_EQ(whole, 100);
  EXPECT_EQ(view, 100);
  EXPECT_EQ(reversed, 100);
  // k beyond the candidate scheme (exact search): among 6000 hits some are
  // closer than float32 can order, so the distances are compared by rank.
  index->ClearView();
  std::vector<float> q = QueryNear(rng);
  auto many = index->Query(SimilarityQuery::ByVector(q), 6000, false);
  auto want = BruteForce(q, 6000, false);
  ASSERT_EQ(many.size(), want.size());
  for (size_t i = 0; i < many.size(); ++i)
    ASSERT_NEAR(many[i].distance, Distance(q.data(), data.row(ref.at(want[i])).data()), 1e-5) << i;
  // A tiny view.
  View few = ds->view().Take(50, 3);
  index->UseView(few);
  EXPECT_EQ(Search(*index, q, 20, false), BruteForce(q, 20, false, few.Ids()));
}

TEST_P(IndexCodesTest, TheCodesAreWhatIsScanned) {
  // Zeroed codes make every row look alike to the scan, so the top-k of a
  // new handle can no longer be the exact one: proof that the codes, not
  // the float32 rows, pick the candidates.
  {
    std::fstream f(CodesPath(), std::ios::in | std::ios::out | std::ios::binary);
    std::vector<char> zeros(kRows * CodeBytes(), 0);
    f.seekp(4096);
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  auto reopened = Reopen();
  std::mt19937 rng(3);
  int equal = 0;
  for (int t = 0; t < 10; ++t) {
    std::vector<float> q = QueryNear(rng);
    equal += Search(*reopened, q, kK, false) == BruteForce(q, kK, false);
  }
  EXPECT_LT(equal, 10);
}

TEST_P(IndexCodesTest, ReopenInANewHandleGivesIdenticalResults) {
  auto reopened = Reopen();
  std::mt19937 rng(4);
  for (int t = 0; t < 20; ++t) {
    std::vector<float> q = QueryNear(rng);
    auto a = index->Query(SimilarityQuery::ByVector(q), kK, false);
    auto b = reopened->Query(SimilarityQuery::ByVector(q), kK, false);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].item_id, b[i].item_id);
      EXPECT_EQ(a[i].distance, b[i].distance);
    }
  }
  EXPECT_EQ(GetBrainInfo(Dataset::Load(db2, "ds"), "sim").config["params"]["storage"], GetParam().storage);
}

TEST_P(IndexCodesTest, AddToIndexAppendsCodesAndCompactionKeepsThem) {
  // New samples, some far outside the first batch's range (clamped by int8).
  std::vector<std::string> added = ds->AddSamples(NewSamples(3000, kRows));
  Matrix more = Clustered(3000, kDim, 5);
  for (size_t i = 0; i < 100; ++i)
    for (size_t j = 0; j < kDim; ++j) more.data()[i * kDim + j] *= 3;
  index->AddToIndex(more, added);
  for (size_t i = 0; i < 3000; ++i) {
    data.AppendRow(more.row(i));
    ref[added[i]] = kRows + i;
  }
  EXPECT_EQ(fs::file_size(CodesPath()), 4096 + (kRows + 3000) * CodeBytes());
  std::mt19937 rng(6);
  auto check = [&](SimilarityIndex& i, const char* when) {
    int equal = 0;
    for (int t = 0; t < 30; ++t) {
      std::vector<float> q = QueryNear(rng);
      equal += Search(i, q, kK, false) == BruteForce(q, kK, false);
    }
    EXPECT_EQ(equal, 30) << when;
  };
  check(*index, "after add_to_index");
  // Remove 30% (more than a quarter): a new generation with live rows only.
  std::string before = Generation();
  std::vector<std::string> removed(ids.begin(), ids.begin() + 7000);
  index->RemoveFromIndex(removed);
  for (const auto& id : removed) ref.erase(id);
  index.reset();
  auto reopened = Reopen();  // collects the old generation
  EXPECT_NE(Generation(), before);
  EXPECT_EQ(fs::file_size(CodesPath()), 4096 + (kRows + 3000 - 7000) * CodeBytes());
  check(*reopened, "after compaction");
}

TEST_P(IndexCodesTest, ATruncatedCodesFileGivesTheOneLineError) {
  fs::resize_file(CodesPath(), 4096 + 100 * CodeBytes());
  Error e = testing::CaughtError([&] { Reopen()->Query(SimilarityQuery::ById(ids[0]), 5, false); });
  EXPECT_EQ(e.code(), ErrorCode::kCorruption);
  std::string msg = e.what();
  EXPECT_THAT(msg, ::testing::HasSubstr("the vectors of brain run 'sim' cannot be read ("));
  EXPECT_THAT(msg, ::testing::HasSubstr("(truncated)); run delete_brain_run('sim') and compute_similarity again"));
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  DeleteBrainRun(Dataset::Load(st.db, "ds"), "sim");
}

INSTANTIATE_TEST_SUITE_P(Storage, IndexCodesTest,
                         ::testing::Values(Case{"int8", "cosine"}, Case{"float16", "cosine"}, Case{"int8", "euclidean"}),
                         [](const auto& info) { return std::string(info.param.storage) + "_" + info.param.metric; });

}  // namespace
}  // namespace fo
