// The store of issue #11: schema-2 migration, keys that are never reused,
// views compiled to SQL (checked against a reference written here over the
// samples' own lists), readers that never wait for a writer, and kill -9 of
// the CLI during ingest, indexing and deletion.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/npy.h"
#include "fo/similarity.h"
#include "fo/value.h"
#include "image_links.h"
#include "store/sqlite.h"
#include "store/view_keys.h"
#include "test_support.h"

namespace fo {
namespace {

using testing::TempDir;
using testing::TempStore;
namespace fs = std::filesystem;

std::string V1Fixture() { return testing::SourceDir() + "/tests/data/store_v1.db"; }

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

int64_t QueryInt(Database& db, const std::string& sql) {
  std::lock_guard lock(db.sqlite().mutex());
  auto q = db.sqlite().Prepare(sql);
  EXPECT_TRUE(q.Step()) << sql;
  return q.Int(0);
}

TEST(MigrationTest, AVersion1StoreOpensMigratedWithItsDataAndIndexes) {
  TempDir dir;
  std::string path = dir.File("fo.db");
  fs::copy_file(V1Fixture(), path);
  auto db = Database::Open(path);
  EXPECT_EQ(QueryInt(*db, "SELECT value FROM meta WHERE key = 'schema_version'"), Database::kSchemaVersion);
  Dataset ds = Dataset::Load(db, "v1");
  // tests/data/make_store_v1.py: 20 samples, the last deleted; tags "even"
  // on even positions and "three" on multiples of 3; two detections each.
  ASSERT_EQ(ds.Count(), 19u);
  EXPECT_EQ(ds.view().MatchTags({"even"}).Count(), 10u);
  EXPECT_EQ(ds.view().MatchTags({"even", "three"}, true).Count(), 4u);  // 0, 6, 12, 18
  EXPECT_EQ(ds.view().MatchTags({"three"}).Values("filepath").front(), Value("/images/00.jpg"));
  EXPECT_EQ(ds.First().label_fields.at("gt").detections.size(), 2u);
  // New keys continue after the old ones.
  int64_t max_before = QueryInt(*db, "SELECT max(seq) FROM samples");
  Sample s;
  s.filepath = "/images/new.jpg";
  std::string new_id = ds.AddSample(s);
  EXPECT_GT(QueryInt(*db, "SELECT seq FROM samples WHERE id = '" + new_id + "'"), max_before);
  EXPECT_EQ(ds.Count(), 20u);

  // The runs answer as a brute force over the vectors the fixture indexed.
  Matrix emb = ReadNpy(testing::SourceDir() + "/tests/data/store_v1_emb.npy");
  std::vector<std::string> ids = ds.Ids();
  std::vector<std::pair<double, size_t>> want;
  auto norm = [&](size_t r) { double n = 0; for (float x : emb.row(r)) n += double(x) * x; return std::sqrt(n); };
  for (size_t r = 0; r < 19; ++r) {
    double dot = 0;
    for (size_t c = 0; c < emb.cols(); ++c) dot += double(emb.row(0)[c]) * emb.row(r)[c];
    want.push_back({1 - dot / (norm(0) * norm(r)), r});
  }
  std::sort(want.begin(), want.end());
  SortBySimilarityOptions o;
  o.k = 5;
  o.brain_key = "img";
  auto got = SortBySimilarity(ds.view(), SimilarityQuery::ById(ids[0]), o).Ids();
  ASSERT_EQ(got.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(got[i], ids[want[i].second]) << i;
  EXPECT_EQ(LoadBrainResults(ds, "patches")->total_index_size(), 40u);
}

TEST(MigrationTest, AFailedMigrationLeavesTheFileAsItWas) {
  TempDir dir;
  std::string path = dir.File("fo.db");
  fs::copy_file(V1Fixture(), path);  // in WAL mode, as every store fo writes
  {
    // A table in the way of the migration makes its second statement fail.
    internal::Sqlite raw(path);
    raw.Exec("CREATE TABLE sample_tags(x)");
  }
  std::string before = ReadBytes(path);
  EXPECT_THROW(Database::Open(path), Error);
  EXPECT_TRUE(ReadBytes(path) == before) << "the failed migration changed the file";
  internal::Sqlite raw(path);
  auto q = raw.Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Text(0), "1");
  auto cols = raw.Prepare("SELECT count(*) FROM pragma_table_info('datasets') WHERE name = 'sample_count'");
  cols.Step();
  EXPECT_EQ(cols.Int(0), 0);
}

std::vector<Sample> TaggedSamples(size_t n, std::mt19937_64& rng) {
  const std::vector<std::string> kTags = {"a", "b", "c", "d"};
  std::vector<Sample> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i].filepath = "/img/" + std::to_string(i) + ".jpg";
    for (const auto& t : kTags)
      if (rng() % 3 == 0) out[i].tags.push_back(t);
  }
  return out;
}

TEST(ViewSqlTest, StagesMatchAReferenceOverTheSamplesLists) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  std::mt19937_64 rng(3);
  std::vector<Sample> samples = TaggedSamples(400, rng);
  std::vector<std::string> ids = ds.AddSamples(samples);
  for (size_t i = 0; i < samples.size(); ++i) samples[i].id = ids[i];
  // Delete some, so keys have gaps.
  std::vector<std::string> doomed;
  for (size_t i = 0; i < ids.size(); i += 7) doomed.push_back(ids[i]);
  ds.DeleteSamples(doomed);
  std::erase_if(samples, [&](const Sample& s) { return std::find(doomed.begin(), doomed.end(), s.id) != doomed.end(); });

  auto has = [](const Sample& s, const std::string& t) { return std::find(s.tags.begin(), s.tags.end(), t) != s.tags.end(); };
  auto ref_ids = [](const std::vector<Sample>& v) {
    std::vector<std::string> out;
    for (const auto& s : v) out.push_back(s.id);
    return out;
  };
  // match_tags(any of a, c) > exclude(first 5 of it) > skip(3) > limit(50)
  std::vector<Sample> ref;
  for (const auto& s : samples)
    if (has(s, "a") || has(s, "c")) ref.push_back(s);
  std::vector<std::string> excluded = ref_ids({ref.begin(), ref.begin() + 5});
  ref.erase(ref.begin(), ref.begin() + 5);
  ref.erase(ref.begin(), ref.begin() + 3);
  ref.resize(50);
  View v = ds.view().MatchTags({"c", "a"}).Exclude(excluded).Skip(3).Limit(50);
  EXPECT_EQ(v.Ids(), ref_ids(ref));
  EXPECT_EQ(v.Count(), 50u);
  EXPECT_EQ(v.First().id, ref.front().id);
  EXPECT_EQ(v.Last().id, ref.back().id);
  auto page = v.Page(10, 5);
  ASSERT_EQ(page.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(page[i].id, ref[10 + i].id);
  EXPECT_EQ(v.Values("filepath")[7], Value(ref[7].filepath));

  // match_tags(all of b, d) > select(some, given out of order)
  std::vector<Sample> both;
  for (const auto& s : samples)
    if (has(s, "b") && has(s, "d")) both.push_back(s);
  ASSERT_GT(both.size(), 10u);
  std::vector<std::string> chosen = {both[9].id, both[2].id, samples[0].id, both[4].id};
  std::vector<std::string> want = {both[2].id, both[4].id, both[9].id};
  if (has(samples[0], "b") && has(samples[0], "d")) want.insert(want.begin(), samples[0].id);
  EXPECT_EQ(ds.view().MatchTags({"b", "d"}, true).Select(chosen).Ids(), want);
  EXPECT_EQ(ds.view().MatchTags({"b", "d"}, true).Count(), both.size());

  // Sorted keys for other layers: exactly the view's samples.
  auto keys = internal::ViewSampleKeys(v);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.size(), 50u);

  // Tag edits move samples in and out of match_tags views.
  ds.SetValues("tags", {{ref[0].id, Value(ValueList{Value("zz")})}});
  EXPECT_EQ(ds.view().MatchTags({"zz"}).Ids(), std::vector<std::string>{ref[0].id});
  size_t any_ac = 0;
  for (const auto& x : samples) any_ac += x.id != ref[0].id && (has(x, "a") || has(x, "c"));
  EXPECT_EQ(ds.view().MatchTags({"a", "c"}).Count(), any_ac);
}

TEST(ViewSqlTest, TakeIsUniformDeterministicAndSkipsDeletedSamples) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  std::mt19937_64 rng(1);
  std::vector<std::string> ids = ds.AddSamples(TaggedSamples(2000, rng));
  std::vector<std::string> doomed(ids.begin() + 100, ids.begin() + 600);  // a hole in the keys
  ds.DeleteSamples(doomed);
  std::set<std::string> deleted(doomed.begin(), doomed.end());
  std::map<std::string, int> hits;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    auto a = ds.view().Take(20, seed).Ids();
    ASSERT_EQ(a, ds.view().Take(20, seed).Ids());
    ASSERT_EQ(a.size(), 20u);
    ASSERT_EQ(std::set<std::string>(a.begin(), a.end()).size(), 20u);
    for (const auto& id : a) {
      ASSERT_FALSE(deleted.count(id)) << "take returned a deleted sample";
      ++hits[id];
    }
  }
  // 4000 draws over 1500 samples: each is drawn ~2.7 times; samples before
  // and after the hole are drawn alike (a biased sampler would favour one side).
  double before = 0, after = 0;
  for (size_t i = 0; i < 100; ++i) before += hits[ids[i]];
  for (size_t i = 1900; i < 2000; ++i) after += hits[ids[i]];
  EXPECT_NEAR(before / 100, 4000.0 / 1500, 0.8);
  EXPECT_NEAR(after / 100, 4000.0 / 1500, 0.8);
  // A take after another stage, and a take of more than there is.
  auto tagged = ds.view().MatchTags({"a"});
  auto t = tagged.Take(30, 5).Ids();
  std::set<std::string> all_tagged;
  for (auto& id : tagged.Ids()) all_tagged.insert(id);
  for (const auto& id : t) EXPECT_TRUE(all_tagged.count(id));
  EXPECT_EQ(ds.view().Take(5000, 1).Count(), 1500u);
}

TEST(ViewSqlTest, TakeOfFewFromASmallDatasetEnds) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  std::mt19937_64 rng(2);
  auto ids = ds.AddSamples(TaggedSamples(10, rng));
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto a = ds.view().Take(2, seed).Ids();
    ASSERT_EQ(a.size(), 2u);
    ASSERT_NE(a[0], a[1]);
  }
}

TEST(ViewSqlTest, SkipIsRightWithAndWithoutGapsInTheKeys) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  Dataset other = Dataset::Create(st.db, "other");
  std::mt19937_64 rng(4);
  std::vector<std::string> ids = ds.AddSamples(TaggedSamples(300, rng));
  auto window = [&](size_t from, size_t n) { return std::vector<std::string>(ids.begin() + from, ids.begin() + from + n); };
  EXPECT_EQ(ds.view().Skip(120).Limit(7).Ids(), window(120, 7));  // keys without gaps: an index seek
  EXPECT_EQ(ds.view().Skip(295).Ids(), window(295, 5));
  EXPECT_EQ(ds.view().Skip(300).Count(), 0u);
  other.AddSamples(TaggedSamples(5, rng));  // another dataset's keys after ours
  ds.DeleteSamples({ids[10]});
  ids.erase(ids.begin() + 10);
  std::vector<std::string> more = ds.AddSamples(TaggedSamples(3, rng));
  ids.insert(ids.end(), more.begin(), more.end());
  EXPECT_EQ(ds.view().Skip(120).Limit(7).Ids(), window(120, 7));
  EXPECT_EQ(ds.view().Skip(298).Ids(), window(298, 4));
}

// compute_similarity indexes in batches; the int8 quantiser must be fitted
// to all the rows, not to the first batch (here 1000 rows of a much narrower
// range than the rest, which a first-batch fit would clamp to one point).
TEST(Int8Test, TheQuantiserIsFittedToAllRowsNotTheFirstBatch) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  constexpr size_t kN = 4000, kD = 16;
  std::vector<Sample> samples(kN);
  for (size_t i = 0; i < kN; ++i) samples[i].filepath = "/x/" + std::to_string(i) + ".jpg";
  std::vector<std::string> ids = ds.AddSamples(samples);
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<float> uniform(-1, 1);
  Matrix m(kN, kD);
  for (size_t r = 0; r < kN; ++r)
    for (size_t c = 0; c < kD; ++c) m.row(r)[c] = uniform(rng) * (r < 1000 ? 0.01f : 1.0f);
  ComputeSimilarityOptions o;
  o.brain_key = "q";
  o.backend = "sklearn";
  o.embeddings = m;
  o.params["storage"] = "int8";
  o.params["metric"] = "euclidean";
  ComputeSimilarity(ds.view(), o);
  size_t exact = 0;
  for (size_t t = 0; t < 40; ++t) {
    size_t qrow = 1000 + t * 70;
    std::vector<std::pair<double, size_t>> all;
    for (size_t r = 0; r < kN; ++r) {
      double d2 = 0;
      for (size_t c = 0; c < kD; ++c) d2 += std::pow(double(m.row(r)[c]) - m.row(qrow)[c], 2);
      all.push_back({d2, r});
    }
    std::partial_sort(all.begin(), all.begin() + 10, all.end());
    std::set<std::string> want;
    for (size_t i = 0; i < 10; ++i) want.insert(ids[all[i].second]);
    SortBySimilarityOptions so;
    so.k = 10;
    so.brain_key = "q";
    auto got = SortBySimilarity(ds.view(), SimilarityQuery::ByVector({m.row(qrow).begin(), m.row(qrow).end()}), so).Ids();
    exact += std::set<std::string>(got.begin(), got.end()) == want;
  }
  EXPECT_GE(exact, 39u);
}

TEST(KeysTest, KeysOfDeletedSamplesAreNeverReused) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  Sample s;
  s.filepath = "/a.jpg";
  auto ids = ds.AddSamples({s, s, s});
  int64_t last = QueryInt(*st.db, "SELECT seq FROM samples WHERE id = '" + ids[2] + "'");
  ds.DeleteSamples({ids[2]});
  std::string again = ds.AddSample(s);
  EXPECT_GT(QueryInt(*st.db, "SELECT seq FROM samples WHERE id = '" + again + "'"), last);
  EXPECT_EQ(ds.Count(), 3u);
  EXPECT_EQ(QueryInt(*st.db, "SELECT count(*) FROM samples"), 3);
}

TEST(ConcurrencyTest, ReadersProceedDuringAWriteAndAWriterGivesUpWithOneLine) {
  TempDir dir;
  std::string path = dir.File("fo.db");
  auto writer = Database::Open(path);
  Dataset ds = Dataset::Create(writer, "d");
  Sample s;
  s.filepath = "/a.jpg";
  ds.AddSamples({s, s, s});
  // A long write in progress on one connection (another process, as far as
  // SQLite's locks go).
  internal::Transaction long_write(writer->sqlite());
  ds.AddSamples({s, s});
  setenv("FO_BUSY_TIMEOUT", "0.5", 1);
  auto t0 = std::chrono::steady_clock::now();
  auto reader = Database::Open(path);  // opening takes no write lock
  Dataset seen = Dataset::Load(reader, "d");
  EXPECT_EQ(seen.Count(), 3u);  // the committed state
  EXPECT_EQ(seen.view().Take(2, 1).Count(), 2u);
  double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(read_s, 0.4);
  try {
    seen.AddSamples({s});
    FAIL() << "a second writer got in";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
    EXPECT_NE(std::string(e.what()).find("another process holds the store's write lock"), std::string::npos) << e.what();
  }
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GT(waited, 0.45);
  EXPECT_LT(waited, 5);
  unsetenv("FO_BUSY_TIMEOUT");
  long_write.Commit();
  EXPECT_EQ(seen.Count(), 5u);
}

// Starts `fo args...` with the store at db_path; returns its pid.
pid_t SpawnCli(const std::vector<std::string>& args, const std::string& db_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    setenv("FO_DATABASE_PATH", db_path.c_str(), 1);
    std::string cli = testing::CliPath();
    std::vector<std::string> copy = args;
    std::vector<char*> argv = {cli.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(cli.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// kill -9 at random moments of indexing and of deleting a run: each time
// the store opens, the run is either absent or whole (every vector, answering
// as a brute force), and the same command then runs again to completion.
TEST(CrashTest, KillNineDuringIndexingOrDeletionLeavesAWholeStateAndTheCommandRunsAgain) {
  TempDir dir;
  std::string path = dir.File("fo.db");
  constexpr size_t kN = 60000, kD = 64;
  std::vector<std::string> ids;
  Matrix emb(kN, kD);
  {
    auto db = Database::Open(path);
    Dataset ds = Dataset::Create(db, "d");
    std::vector<Sample> samples(kN);
    for (size_t i = 0; i < kN; ++i) samples[i].filepath = "/x/" + std::to_string(i) + ".jpg";
    ids = ds.AddSamples(samples);
  }
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < kN * kD; ++i) emb.data()[i] = normal(rng);
  WriteNpy(emb, dir.File("e.npy"));
  {
    std::ofstream out(dir.File("ids.txt"));
    for (const auto& id : ids) out << id << "\n";
  }
  const std::vector<std::string> compute = {"brain", "compute-similarity", "d", "--brain-key", "k", "--backend", "sklearn",
                                            "--embeddings", dir.File("e.npy"), "--ids", dir.File("ids.txt")};
  const std::vector<std::string> remove = {"brain", "delete", "d", "k"};
  auto check_whole = [&](const char* when) {
    auto db = Database::Open(path);
    Dataset ds = Dataset::Load(db, "d");
    if (!HasBrainRun(ds, "k")) return false;
    auto index = LoadBrainResults(ds, "k");
    EXPECT_EQ(index->total_index_size(), kN) << when;
    SortBySimilarityOptions o;
    o.k = 1;
    o.brain_key = "k";
    size_t probe = static_cast<size_t>(rng() % kN);
    EXPECT_EQ(SortBySimilarity(ds.view(), SimilarityQuery::ByVector({emb.row(probe).begin(), emb.row(probe).end()}), o).Ids(),
              std::vector<std::string>{ids[probe]})
        << when;
    return true;
  };
  std::uniform_int_distribution<int> delay_ms(300, 2500);
  int killed = 0;
  for (int round = 0; round < 6; ++round) {
    bool present = check_whole("before the round");
    const auto& cmd = present ? remove : compute;
    pid_t pid = SpawnCli(cmd, path);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    killed += kill(pid, SIGKILL) == 0;
    int status = 0;
    waitpid(pid, &status, 0);
    check_whole("after kill -9");
    // The same command again, to completion.
    bool now_present = check_whole("before the rerun");
    if (now_present == present) {
      auto again = testing::RunCli(cmd, {"FO_DATABASE_PATH=" + path});
      ASSERT_EQ(again.exit_code, 0) << again.err;
      EXPECT_EQ(check_whole("after the rerun"), !present);
    }
  }
  EXPECT_GT(killed, 0);
  // No orphan files stay: every generation directory is a committed run's.
  auto db = Database::Open(path);
  Dataset ds = Dataset::Load(db, "d");
  if (HasBrainRun(ds, "k")) LoadBrainResults(ds, "k")->total_index_size();
  size_t dirs = 0;
  if (fs::exists(path + ".files"))
    for (const auto& e : fs::directory_iterator(path + ".files")) dirs += e.is_directory();
  EXPECT_LE(dirs, HasBrainRun(ds, "k") ? 1u : 0u);
}

// True while another connection holds the store's write lock (a command
// between BEGIN IMMEDIATE and the end of its COMMIT).
bool WriteLockHeld(internal::Sqlite& probe) {
  try {
    probe.Exec("BEGIN IMMEDIATE");
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kUnavailable) return true;
    throw;
  }
  probe.Exec("ROLLBACK");
  return false;
}

// kill -9 of `fo datasets create` at random moments of its write (from the
// moment it takes the store's write lock): each time the store opens and
// the dataset is absent or holds every image of the directory (never a
// part of them, nor none: the dataset row and its samples are one
// transaction), and the same command then runs to completion.
TEST(CrashTest, KillNineDuringIngestLeavesNoDatasetOrAWholeOneAndTheCommandRunsAgain) {
  TempDir dir;
  const std::string path = dir.File("fo.db");
  constexpr size_t kN = 25000;
  const std::vector<std::string> files = testing::MakeImageLinks(dir.File("images"), kN);
  const std::set<std::string> expected(files.begin(), files.end());
  Database::Open(path);  // the store exists, so that its write lock can be probed
  auto create = [&](const std::string& name) {
    return std::vector<std::string>{"datasets", "create", name, "--images", dir.File("images")};
  };
  auto check_whole = [&](const std::string& name, const char* when) {
    auto db = Database::Open(path);
    if (!Dataset::Exists(db, name)) return false;
    Dataset ds = Dataset::Load(db, name);
    EXPECT_EQ(ds.Count(), kN) << name << " " << when;
    std::set<std::string> filepaths;
    for (const Value& v : ds.view().Values("filepath")) filepaths.insert(v.as<std::string>());
    EXPECT_EQ(filepaths.size(), kN) << name << " " << when;
    EXPECT_TRUE(filepaths == expected) << name << " " << when << ": not the directory's images";
    return true;
  };
  // A started command; `status` is set once it has been reaped (its pid is
  // never signalled after that).
  struct Child {
    pid_t pid = -1;
    std::optional<int> status;
    bool Ended() {
      int st = 0;
      if (!status && waitpid(pid, &st, WNOHANG) == pid) status = st;
      return status.has_value();
    }
    int Wait() {
      int st = 0;
      if (!status && waitpid(pid, &st, 0) == pid) status = st;
      return status.value_or(-1);
    }
  };
  // Starts the command and returns once it holds the write lock (or ended).
  auto start_writing = [&](const std::string& name, internal::Sqlite& probe) {
    Child child;
    child.pid = SpawnCli(create(name), path);
    while (!child.Ended() && !WriteLockHeld(probe)) std::this_thread::sleep_for(std::chrono::microseconds(500));
    return child;
  };

  // A whole run first: how long the command writes.
  double write_s = 0;
  {
    internal::Sqlite probe(path, 0);
    Child child = start_writing("reference", probe);
    auto t0 = std::chrono::steady_clock::now();
    int status = child.Wait();
    write_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  ASSERT_TRUE(check_whole("reference", "after a whole run"));

  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> delay_s(0, write_s);
  int killed_while_writing = 0;
  for (int round = 0; round < 4; ++round) {
    const std::string name = "d" + std::to_string(round);
    {
      internal::Sqlite probe(path, 0);
      Child child = start_writing(name, probe);
      std::this_thread::sleep_for(std::chrono::duration<double>(delay_s(rng)));
      if (!child.Ended()) {
        killed_while_writing += WriteLockHeld(probe);
        kill(child.pid, SIGKILL);  // unreaped: still ours even if it just exited
      }
      child.Wait();
    }
    bool present = check_whole(name, "after kill -9");
    // The same command again: it completes, or refuses a dataset that the
    // killed one had finished.
    auto again = testing::RunCli(create(name), {"FO_DATABASE_PATH=" + path});
    if (present) {
      EXPECT_NE(again.exit_code, 0);
      EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
    } else {
      EXPECT_EQ(again.exit_code, 0) << again.err;
    }
    EXPECT_TRUE(check_whole(name, "after the rerun"));
  }
  EXPECT_GT(killed_while_writing, 0) << "no kill landed inside the write; the test proved nothing";
  auto db = Database::Open(path);
  EXPECT_EQ(Dataset::List(db), (std::vector<std::string>{"d0", "d1", "d2", "d3", "reference"}));
}

TEST(ConcurrencyTest, ABadBusyTimeoutIsOneLine) {
  setenv("FO_BUSY_TIMEOUT", "soon", 1);
  TempDir dir;
  try {
    Database::Open(dir.File("fo.db"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("FO_BUSY_TIMEOUT='soon' is not a number of seconds"), std::string::npos);
  }
  unsetenv("FO_BUSY_TIMEOUT");
}

}  // namespace
}  // namespace fo
