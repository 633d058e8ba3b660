// The sklearn backend's memory-mapped index files: persistence across
// handles, add/remove/upsert, compaction, crash atomicity, damaged files,
// and key-filtered search. References are computed here by brute force over
// the test's own copy of the vectors, never by the code under test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <thread>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "similarity/index_files.h"
#include "store/sqlite.h"
#include "test_support.h"

namespace fo {
namespace {

namespace fs = std::filesystem;
using Reference = std::map<std::string, std::vector<float>>;  // item id -> vector

double CosineDistance(std::span<const float> a, std::span<const float> b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += double(a[i]) * b[i], na += double(a[i]) * a[i], nb += double(b[i]) * b[i];
  return 1 - dot / std::sqrt(na * nb);
}

// Ids of the `allowed` items of `ref`, nearest to q first (cosine).
std::vector<std::string> BruteForce(const Reference& ref, std::span<const float> q, size_t k,
                                    const std::function<bool(const std::string&)>& allowed) {
  std::vector<std::pair<double, std::string>> all;
  for (const auto& [id, v] : ref)
    if (allowed(id)) all.emplace_back(CosineDistance(v, q), id);
  std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < all.size() && i < k; ++i) out.push_back(all[i].second);
  return out;
}

std::vector<std::string> HitIds(const std::vector<Hit>& hits) {
  std::vector<std::string> ids;
  for (const auto& h : hits) ids.push_back(h.item_id);
  return ids;
}

std::vector<std::string> GenerationDirs(const std::string& db_path) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(db_path + ".files", ec), end; !ec && it != end; it.increment(ec))
    out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class IndexFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::IsolateBrainConfig(dir);
  }

  Dataset MakeDataset(size_t n) {
    Dataset ds = Dataset::Create(st.db, "ds");
    ids = ds.AddSamples(NewSamples(n));
    return ds;
  }

  static std::vector<Sample> NewSamples(size_t n, size_t offset = 0) {
    std::vector<Sample> samples(n);
    for (size_t i = 0; i < n; ++i) {
      samples[i].filepath = "/img/" + std::to_string(offset + i) + ".jpg";
      samples[i].tags = {(offset + i) % 3 == 0 ? "third" : "rest"};
      Detection a, b;
      a.label = "a";
      b.label = "b";
      samples[i].label_fields["gt"].detections = {a, b};
    }
    return samples;
  }

  // Indexes `m` (row i = ids[order[i]]) under `key`, and records it in ref.
  std::unique_ptr<SimilarityIndex> Index(Dataset& ds, const std::string& key, const Matrix& m,
                                         const std::vector<std::string>& row_ids) {
    ComputeSimilarityOptions o;
    o.brain_key = key;
    o.embeddings = m;
    o.ids = row_ids;
    for (size_t i = 0; i < row_ids.size(); ++i) ref[row_ids[i]] = {m.row(i).begin(), m.row(i).end()};
    return ComputeSimilarity(ds.view(), o);
  }

  std::unique_ptr<SimilarityIndex> Reopen(const std::string& key) {
    db2 = Database::Open(st.db->path());
    return LoadBrainResults(Dataset::Load(db2, "ds"), key);
  }

  testing::TempDir dir;
  testing::TempStore st;
  std::shared_ptr<Database> db2;
  std::vector<std::string> ids;
  Reference ref;
};

TEST_F(IndexFilesTest, ReopenInANewHandleReturnsIdenticalResults) {
  Dataset ds = MakeDataset(300);
  Matrix m = testing::RandomMatrix(300, 24, 1);
  auto index = Index(ds, "sim", m, ids);
  Matrix queries = testing::RandomMatrix(5, 24, 2);
  std::vector<std::vector<Hit>> before;
  for (size_t q = 0; q < 5; ++q) {
    before.push_back(index->Query(SimilarityQuery::ByVector({queries.row(q).begin(), queries.row(q).end()}), 10, false));
    EXPECT_EQ(HitIds(before.back()), BruteForce(ref, queries.row(q), 10, [](auto&) { return true; }));
  }
  auto reopened = Reopen("sim");
  EXPECT_EQ(reopened->total_index_size(), 300u);
  for (size_t q = 0; q < 5; ++q) {
    auto after = reopened->Query(SimilarityQuery::ByVector({queries.row(q).begin(), queries.row(q).end()}), 10, false);
    ASSERT_EQ(after.size(), before[q].size());
    for (size_t i = 0; i < after.size(); ++i) {
      EXPECT_EQ(after[i].item_id, before[q][i].item_id);
      EXPECT_EQ(after[i].sample_id, before[q][i].sample_id);
      EXPECT_EQ(after[i].distance, before[q][i].distance);
      EXPECT_GT(after[i].sample_key, 0);
    }
  }
  // The vectors come back bit for bit.
  auto got = reopened->GetEmbeddings({ids[17], ids[250]});
  EXPECT_EQ(got.embeddings.row(0)[3], m.row(17)[3]);
  EXPECT_EQ(got.embeddings.row(1)[23], m.row(250)[23]);
  // One generation directory, named after the run.
  auto dirs = GenerationDirs(st.db->path());
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_THAT(dirs[0], ::testing::StartsWith("run-"));
}

TEST_F(IndexFilesTest, AddRemoveUpsertThenReopen) {
  Dataset ds = MakeDataset(100);
  auto index = Index(ds, "sim", testing::RandomMatrix(100, 12, 3), ids);
  // Add new samples, replace five vectors, remove ten (under a quarter).
  std::vector<std::string> added = ds.AddSamples(NewSamples(20, 100));
  Matrix more = testing::RandomMatrix(20, 12, 4);
  index->AddToIndex(more, added);
  for (size_t i = 0; i < 20; ++i) ref[added[i]] = {more.row(i).begin(), more.row(i).end()};
  std::vector<std::string> replaced = {ids[0], ids[5], ids[50], ids[99], added[3]};
  Matrix fresh = testing::RandomMatrix(5, 12, 5);
  index->AddToIndex(fresh, replaced);
  for (size_t i = 0; i < 5; ++i) ref[replaced[i]] = {fresh.row(i).begin(), fresh.row(i).end()};
  std::vector<std::string> removed(ids.begin() + 10, ids.begin() + 20);
  index->RemoveFromIndex(removed);
  for (const auto& id : removed) ref.erase(id);
  EXPECT_EQ(index->total_index_size(), 110u);

  auto reopened = Reopen("sim");
  EXPECT_EQ(reopened->total_index_size(), 110u);
  for (const auto& [id, v] : ref) EXPECT_EQ(reopened->GetEmbeddings({id}).embeddings.values(), v) << id;
  EXPECT_EQ(reopened->GetEmbeddings(removed).embeddings.rows(), 0u);
  Matrix q = testing::RandomMatrix(1, 12, 6);
  auto hits = reopened->Query(SimilarityQuery::ByVector({q.row(0).begin(), q.row(0).end()}), std::nullopt, false);
  EXPECT_EQ(HitIds(hits), BruteForce(ref, q.row(0), ref.size(), [](auto&) { return true; }));
  // The replaced vector itself is the nearest to itself; its old one is gone.
  auto self = reopened->Query(SimilarityQuery::ByVector({fresh.row(2).begin(), fresh.row(2).end()}), 1, false);
  ASSERT_EQ(self.size(), 1u);
  EXPECT_EQ(self[0].item_id, ids[50]);
}

TEST_F(IndexFilesTest, CompactionWritesANewGenerationAndTheOldOneIsCollected) {
  Dataset ds = MakeDataset(80);
  auto index = Index(ds, "sim", testing::RandomMatrix(80, 8, 7), ids);
  auto first = GenerationDirs(st.db->path());
  ASSERT_EQ(first.size(), 1u);
  std::vector<std::string> removed(ids.begin(), ids.begin() + 30);  // 37%: compacts
  index->RemoveFromIndex(removed);
  for (const auto& id : removed) ref.erase(id);
  index.reset();
  auto reopened = Reopen("sim");  // opening collects the unreferenced generation
  auto now = GenerationDirs(st.db->path());
  ASSERT_EQ(now.size(), 1u);
  EXPECT_NE(now[0], first[0]);
  EXPECT_EQ(reopened->total_index_size(), 50u);
  {
    auto& s = db2->sqlite();
    auto q = s.Prepare("SELECT rows, removed FROM index_files");
    ASSERT_TRUE(q.Step());
    EXPECT_EQ(q.Int(0), 50);  // only live rows were copied
    EXPECT_EQ(q.Int(1), 0);
  }
  Matrix q = testing::RandomMatrix(1, 8, 8);
  auto hits = reopened->Query(SimilarityQuery::ByVector({q.row(0).begin(), q.row(0).end()}), 20, false);
  EXPECT_EQ(HitIds(hits), BruteForce(ref, q.row(0), 20, [](auto&) { return true; }));
}

TEST_F(IndexFilesTest, ACrashBeforeCommitLeavesTheOldRunAndItsOrphanIsRemoved) {
  Dataset ds = MakeDataset(60);
  auto index = Index(ds, "sim", testing::RandomMatrix(60, 8, 9), ids);
  Matrix q = testing::RandomMatrix(1, 8, 10);
  auto expected = BruteForce(ref, q.row(0), 10, [](auto&) { return true; });
  // 1. An append written and synced, then the process "dies" before the
  // commit: the files hold rows the store does not count.
  std::vector<std::string> extra = ds.AddSamples(NewSamples(5, 60));
  try {
    internal::Transaction txn(st.db->sqlite());
    index->AddToIndex(testing::RandomMatrix(5, 8, 11), extra);
    index->RemoveFromIndex({ids[0]});
    throw std::runtime_error("crash");
  } catch (const std::runtime_error&) {
  }
  // 2. A new run whose files were written but whose record never committed:
  // the rollback deletes its directory at once.
  try {
    internal::Transaction txn(st.db->sqlite());
    ComputeSimilarityOptions o;
    o.brain_key = "lost";
    o.embeddings = testing::RandomMatrix(60, 8, 12);
    o.ids = ids;
    auto lost = ComputeSimilarity(ds.view(), o);
    EXPECT_EQ(GenerationDirs(st.db->path()).size(), 2u);
    throw std::runtime_error("crash");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(GenerationDirs(st.db->path()).size(), 1u);
  // A process that dies there never rolls back: its directory stays, an
  // orphan (made here as a copy of the live one under a new name).
  const std::string root = st.db->path() + ".files/";
  fs::copy(root + GenerationDirs(st.db->path())[0], root + "run-999-00000000deadbeef");
  EXPECT_EQ(GenerationDirs(st.db->path()).size(), 2u);  // the orphan is there
  index.reset();
  auto reopened = Reopen("sim");
  EXPECT_EQ(GenerationDirs(st.db->path()).size(), 1u);  // and gone on open
  EXPECT_FALSE(HasBrainRun(Dataset::Load(db2, "ds"), "lost"));
  EXPECT_EQ(reopened->total_index_size(), 60u);
  EXPECT_EQ(HitIds(reopened->Query(SimilarityQuery::ByVector({q.row(0).begin(), q.row(0).end()}), 10, false)), expected);
  // The next append cuts off the uncommitted bytes and lands after row 60.
  Matrix m = testing::RandomMatrix(5, 8, 13);
  reopened->AddToIndex(m, extra);
  for (size_t i = 0; i < 5; ++i) ref[extra[i]] = {m.row(i).begin(), m.row(i).end()};
  auto third = Reopen("sim");
  EXPECT_EQ(third->total_index_size(), 65u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(third->GetEmbeddings({extra[i]}).embeddings.values(), ref[extra[i]]);
  auto dirs = GenerationDirs(st.db->path());
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(fs::file_size(st.db->path() + ".files/" + dirs[0] + "/vectors.f32"), 4096u + 65 * 8 * sizeof(float));
}

TEST_F(IndexFilesTest, ADamagedVectorFileGivesOneLineNamingTheRun) {
  Dataset ds = MakeDataset(40);
  Index(ds, "sim", testing::RandomMatrix(40, 8, 14), ids);
  std::string gen = st.db->path() + ".files/" + GenerationDirs(st.db->path())[0];
  auto expect_clear_error = [&](const std::string& what) {
    Error e = testing::CaughtError([&] {
      auto index = Reopen("sim");
      index->Query(SimilarityQuery::ById(ids[0]), 5, false);
    });
    EXPECT_EQ(e.code(), ErrorCode::kCorruption) << what;
    std::string msg = e.what();
    EXPECT_THAT(msg, ::testing::HasSubstr("brain run 'sim'")) << what;
    EXPECT_THAT(msg, ::testing::HasSubstr("delete_brain_run('sim') and compute_similarity again")) << what;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << what;
  };
  fs::resize_file(gen + "/vectors.f32", 4096 + 10 * 8 * sizeof(float));
  expect_clear_error("truncated");
  fs::remove(gen + "/vectors.f32");
  expect_clear_error("missing");
  // The CLI prints that one line and exits 1; deleting the run still works.
  auto r = testing::RunCli({"brain", "sort-by-similarity", "ds", "--brain-key", "sim", "--query", ids[0], "--k", "3"},
                           {"FO_DATABASE_PATH=" + st.db->path(), "FIFTYONE_BRAIN_CONFIG_PATH=" + dir.File("brain_config.json")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr("delete_brain_run('sim')"));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  DeleteBrainRun(Dataset::Load(st.db, "ds"), "sim");
}

// Views of every shape, on an image index whose rows are NOT in key order
// (so the permutation path runs) and on a patch index.
TEST_F(IndexFilesTest, KeyFilteredSearchEqualsBruteForceOverTheView) {
  Dataset ds = MakeDataset(200);
  std::vector<std::string> shuffled = ids;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(15));
  Matrix m = testing::RandomMatrix(200, 16, 16);
  auto index = Index(ds, "sim", m, shuffled);
  ds.DeleteSamples({shuffled[0], shuffled[1], shuffled[2]});
  Matrix q = testing::RandomMatrix(1, 16, 17);
  std::vector<float> qv(q.row(0).begin(), q.row(0).end());
  std::vector<View> views = {ds.view(), ds.view().Take(5, 3), ds.view().MatchTags({"third"}),
                             ds.view().Select({ids[10], ids[20], shuffled[0]}), ds.view().Exclude({ids[3], ids[4]}),
                             ds.view().Skip(150)};
  for (const View& v : views) {
    std::vector<std::string> in = v.Ids();
    auto allowed = [&](const std::string& id) { return std::find(in.begin(), in.end(), id) != in.end(); };
    for (size_t k : {1, 7, 300}) {
      index->UseView(v);
      auto got = HitIds(index->Query(SimilarityQuery::ByVector(qv), k, false));
      EXPECT_EQ(got, BruteForce(ref, qv, k, allowed)) << v.Describe() << " k=" << k;
    }
  }
  // The whole dataset with deleted samples among the nearest still fills k.
  index->ClearView();
  auto nearest = BruteForce(ref, qv, 3, [](auto&) { return true; });
  ds.DeleteSamples(nearest);
  auto live = ds.view().Ids();
  auto got = HitIds(index->Query(SimilarityQuery::ByVector(qv), 10, false));
  EXPECT_EQ(got, BruteForce(ref, qv, 10, [&](const std::string& id) { return std::count(live.begin(), live.end(), id) > 0; }));
}

TEST_F(IndexFilesTest, PatchIndexFiltersBySampleKey) {
  Dataset ds = MakeDataset(50);
  auto label_lists = ds.Values("gt.detections.id");
  std::vector<std::string> label_ids;
  std::map<std::string, std::string> owner;
  for (size_t i = 0; i < label_lists.size(); ++i)
    for (const auto& l : label_lists[i].as<ValueList>()) {
      label_ids.push_back(l.as<std::string>());
      owner[label_ids.back()] = ids[i];
    }
  Matrix m = testing::RandomMatrix(label_ids.size(), 8, 18);
  ComputeSimilarityOptions o;
  o.brain_key = "patches";
  o.patches_field = "gt";
  o.embeddings = m;
  o.ids = label_ids;
  auto index = ComputeSimilarity(ds.view(), o);
  for (size_t i = 0; i < label_ids.size(); ++i) ref[label_ids[i]] = {m.row(i).begin(), m.row(i).end()};
  Matrix q = testing::RandomMatrix(1, 8, 19);
  std::vector<float> qv(q.row(0).begin(), q.row(0).end());
  View v = ds.view().MatchTags({"third"});
  std::vector<std::string> in = v.Ids();
  index->UseView(v);
  auto hits = index->Query(SimilarityQuery::ByVector(qv), 8, false);
  EXPECT_EQ(HitIds(hits), BruteForce(ref, qv, 8, [&](const std::string& label) {
              return std::count(in.begin(), in.end(), owner[label]) > 0;
            }));
  for (const auto& h : hits) EXPECT_EQ(h.sample_id, owner[h.item_id]);
}

TEST_F(IndexFilesTest, StorageIsValidatedAndRecorded) {
  Dataset ds = MakeDataset(10);
  ComputeSimilarityOptions o;
  o.brain_key = "bad";
  o.embeddings = testing::RandomMatrix(10, 4, 20);
  o.params["storage"] = "int4";
  EXPECT_EQ(testing::CodeOf([&] { ComputeSimilarity(ds.view(), o); }), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(HasBrainRun(ds, "bad"));
  o.brain_key = "half";
  o.params["storage"] = "float16";
  ComputeSimilarity(ds.view(), o);
  EXPECT_EQ(GetBrainInfo(ds, "half").config["params"]["storage"], "float16");
}


// A new handle's first scan reads the files with pread, later ones the
// mapping in place: the answers never change,
// for a float32 run and for an int8 run (codes scanned, float32 re-ranked).
TEST_F(IndexFilesTest, ColdAndWarmScansOfANewHandleAgreeWithBruteForce) {
  Dataset ds = MakeDataset(3000);
  Matrix m = testing::RandomMatrix(3000, 16, 81);
  Index(ds, "f32", m, ids);
  ComputeSimilarityOptions o;
  o.brain_key = "i8";
  o.embeddings = m;
  o.ids = ids;
  o.params["storage"] = "int8";
  ComputeSimilarity(ds.view(), o);
  Matrix queries = testing::RandomMatrix(6, 16, 82);
  for (std::string key : {"f32", "i8"}) {
    auto index = Reopen(key);
    for (size_t q = 0; q < queries.rows(); ++q) {
      SCOPED_TRACE(key + " query " + std::to_string(q));
      auto hits = index->Query(SimilarityQuery::ByVector({queries.row(q).begin(), queries.row(q).end()}), 10, false);
      EXPECT_EQ(HitIds(hits), BruteForce(ref, queries.row(q), 10, [](auto&) { return true; }));
    }
  }
}

TEST(RunFilesTest, ScansCopyFirstAndAfterASlowInPlaceScan) {
  testing::TempDir dir;
  const size_t dim = 8, n = 5000;
  auto files = internal::RunFiles::Create(dir.File("run-1-0"), dim, {});
  std::vector<float> vectors(n * dim), norms(n, 1.0f);
  std::iota(vectors.begin(), vectors.end(), 0.0f);
  std::vector<int64_t> keys(n);
  std::iota(keys.begin(), keys.end(), 1);
  std::vector<uint8_t> oids(n * 24, 7);
  internal::RowBatch batch{n, dim, vectors.data(), norms.data(), keys.data(), keys.data(), oids.data()};
  files->Append(batch, 0);
  std::vector<float> row(3 * dim);
  files->ReadVectors(100, 3, row.data());
  EXPECT_TRUE(std::equal(row.begin(), row.end(), vectors.begin() + 100 * dim));
  EXPECT_FALSE(files->ScanInPlace());
  files->Scanned(false, 0.010);
  EXPECT_TRUE(files->ScanInPlace()) << "after one copying scan (the CLI's only one), scans read in place";
  // The first in-place scan faults the pages in: however slow, it stays in place.
  files->Scanned(true, 0.5);
  EXPECT_TRUE(files->ScanInPlace());
  // In place as fast as copying (or untimed): stays in place.
  files->Scanned(true, 0.015);
  files->Scanned(true, -1);
  EXPECT_TRUE(files->ScanInPlace());
  // Slower than twice the last copying scan: the next 8 scans copy; after
  // a second slow try, 16; after a fast one, 8 again.
  auto copies_before_in_place = [&] {
    int copies = 0;
    for (; !files->ScanInPlace() && copies < 100; ++copies) files->Scanned(false, 0.010);
    return copies;
  };
  files->Scanned(true, 0.021);
  EXPECT_EQ(copies_before_in_place(), internal::RunFiles::kCopiesAfterSlowScan);
  files->Scanned(true, 0.5);
  EXPECT_EQ(copies_before_in_place(), 2 * internal::RunFiles::kCopiesAfterSlowScan);
  files->Scanned(true, 0.012);
  files->Scanned(true, 0.5);
  EXPECT_EQ(copies_before_in_place(), internal::RunFiles::kCopiesAfterSlowScan);
  EXPECT_TRUE(files->ScanInPlace());
  // Appended rows are cold again: copy once, then fault them in, unjudged.
  files->Append(batch, n);
  EXPECT_FALSE(files->ScanInPlace());
  files->Scanned(false, 0.010);
  files->Scanned(true, 0.5);
  EXPECT_TRUE(files->ScanInPlace());
  // A file cut short under a reader: one line, no crash.
  fs::resize_file(dir.File("run-1-0") + "/vectors.f32", 4096 + 10 * dim * sizeof(float));
  Error e = testing::CaughtError([&] { files->ReadVectors(n - 1, 1, row.data()); });
  EXPECT_EQ(e.code(), ErrorCode::kCorruption);
  EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr("vectors.f32"));
}

}  // namespace
}  // namespace fo
