// A full disk (issue #11, "Bad input and faults"): `fo` commands that write
// the store run with an LD_PRELOAD shim (tests/fault/enospc_preload.c) that
// fails their writes under the store's directory with ENOSPC once a byte
// budget is spent, as a full file system does. A first run without a budget
// traces where the command's writes go; budgets are then aimed at each kind
// of file it writes (SQLite's -shm, WAL and main file, the index columns).
// For each budget the command either fails with one line saying the disk is
// full and leaves the store as it was (checked opened without the shim, with
// no file of the failed write left under <store>.files, and the same command
// then succeeding), or, when the disk only filled in a checkpoint after its
// commit, it succeeded whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/npy.h"
#include "fo/similarity.h"
#include "fo/value.h"
#include "image_links.h"
#include "test_support.h"

namespace fo {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;

// A stretch of consecutive writes to one file, from the shim's trace.
struct Segment {
  uint64_t start = 0;  // bytes written under the store before it
  uint64_t bytes = 0;
  std::string kind;    // "shm", "wal", "db" (the main file) or "index"
};

std::string KindOf(const std::string& path) {
  auto ends_with = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with("-shm")) return "shm";
  if (ends_with("-wal")) return "wal";
  if (path.find(".files/") != std::string::npos) return "index";
  return "db";
}

// The trace: "<bytes before> <path>" lines, then "<total> end".
std::vector<Segment> ReadTrace(const std::string& path) {
  std::vector<Segment> segments;
  std::istringstream in(testing::ReadFile(path));
  uint64_t at = 0;
  std::string file;
  while (in >> at && std::getline(in >> std::ws, file)) {
    if (!segments.empty()) segments.back().bytes = at - segments.back().start;
    if (file == "end") break;
    segments.push_back({at, 0, KindOf(file)});
  }
  return segments;
}

struct Budget {
  uint64_t bytes = 0;
  std::string kind;  // of the file whose write it stops
};

// No space at all; then the middle of the largest stretch of writes of each
// kind of file, and for the index columns also the middle of the first
// (their headers) and the first byte of the last (a row count in a header).
// Each stretch is aimed at once at most.
std::vector<Budget> AimedBudgets(const std::vector<Segment>& segments) {
  std::vector<Budget> budgets = {{0, segments.empty() ? "none" : segments.front().kind}};
  std::set<const Segment*> aimed;
  if (!segments.empty()) aimed.insert(&segments.front());
  auto aim = [&](const Segment* s, uint64_t offset) {
    if (aimed.insert(s).second) budgets.push_back({s->start + offset, s->kind});
  };
  for (const std::string kind : {"shm", "wal", "db", "index"}) {
    std::vector<const Segment*> of_kind;
    for (const Segment& s : segments)
      if (s.kind == kind && s.bytes > 1) of_kind.push_back(&s);
    if (of_kind.empty()) continue;
    const Segment* largest = *std::max_element(of_kind.begin(), of_kind.end(),
                                               [](const Segment* a, const Segment* b) { return a->bytes < b->bytes; });
    aim(largest, largest->bytes / 2);
    if (kind != "index") continue;
    aim(of_kind.front(), of_kind.front()->bytes / 2);
    aim(of_kind.back(), 1);
  }
  return budgets;
}

void CopyDir(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

// Names of the index generation directories beside the store.
std::set<std::string> GenerationDirs(const std::string& store) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(store + ".files", ec), end; !ec && it != end; it.increment(ec))
    names.insert(it->path().filename().string());
  return names;
}

class FullDiskTest : public ::testing::Test {
 protected:
  // A command and the states of the store it goes between.
  struct Case {
    std::vector<std::string> command;
    std::function<void(const std::shared_ptr<Database>&)> expect_before, expect_after;
  };

  void SetUp() override {
    testing::IsolateBrainConfig(dir_);
    fs::create_directories(store_dir());
  }

  std::string store_dir() const { return dir_.File("store"); }
  std::string store() const { return dir_.File("store/fo.db"); }
  std::shared_ptr<Database> Open() const { return Database::Open(store()); }

  // `fo args...` on the store, under the shim: with `budget` bytes of free
  // space (unlimited if none), tracing its writes into `trace` if given.
  CommandResult Run(const std::vector<std::string>& args, std::optional<uint64_t> budget,
                    const std::string& trace = "") const {
    std::vector<std::string> env = {"FO_DATABASE_PATH=" + store(), std::string("LD_PRELOAD=") + FO_ENOSPC_PRELOAD_PATH,
                                    "FO_TEST_ENOSPC_DIR=" + store_dir()};
    if (budget) env.push_back("FO_TEST_ENOSPC_AFTER_BYTES=" + std::to_string(*budget));
    if (!trace.empty()) env.push_back("FO_TEST_ENOSPC_TRACE=" + trace);
    return testing::RunCli(args, env);
  }

  void ExpectDiskFullLine(const std::string& err) const {
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(err.rfind("error: ", 0), 0u) << err;
    EXPECT_NE(err.find("the disk holding " + store_dir() + "/"), std::string::npos) << err;
    EXPECT_NE(err.find(" is full: free some space and try again\n"), std::string::npos) << err;
  }

  // Runs the command of `c` on a full disk at each aimed budget, each time
  // from the store as it is now. Returns how many budgets made it fail.
  int CheckOnAFullDisk(const Case& c) {
    CopyDir(store_dir(), dir_.File("kept"));
    auto restore = [&] { CopyDir(dir_.File("kept"), store_dir()); };
    c.expect_before(Open());
    const std::set<std::string> dirs_before = GenerationDirs(store());

    // Each run starts from a copy that no connection of this process has
    // open, so that each writes the same bytes in the same order.
    restore();
    const std::string trace = dir_.File("trace");
    CommandResult whole = Run(c.command, std::nullopt, trace);
    EXPECT_EQ(whole.exit_code, 0) << whole.err;
    c.expect_after(Open());
    std::vector<Budget> budgets = AimedBudgets(ReadTrace(trace));
    int failures = 0;
    for (const Budget& b : budgets) {
      SCOPED_TRACE("disk full after " + std::to_string(b.bytes) + " bytes, in a write to the " + b.kind + " file");
      restore();
      CommandResult r = Run(c.command, b.bytes);
      if (r.exit_code == 0) {
        // Only a checkpoint after the commit writes the main file: the
        // command was done when the disk filled.
        EXPECT_EQ(b.kind, "db") << "succeeded though the disk filled before its commit";
        c.expect_after(Open());
        continue;
      }
      ++failures;
      ExpectDiskFullLine(r.err);
      EXPECT_EQ(GenerationDirs(store()), dirs_before) << "the failed write left index files";
      c.expect_before(Open());
      EXPECT_EQ(GenerationDirs(store()), dirs_before);
      CommandResult again = Run(c.command, std::nullopt);
      EXPECT_EQ(again.exit_code, 0) << again.err;
      c.expect_after(Open());
    }
    return failures;
  }

  testing::TempDir dir_;
};

TEST_F(FullDiskTest, IngestFailsWithOneLineAndLeavesNoDataset) {
  {
    Dataset keep = Dataset::Create(Open(), "keep");
    Sample s;
    s.filepath = "/a.jpg";
    keep.AddSamples({s, s, s});
  }
  // Long paths make a transaction of more than 1000 pages cheaply, so that
  // the commit is followed by a checkpoint that the disk can fill.
  const std::string images = dir_.File(std::string(200, 'i') + "/" + std::string(200, 'j'));
  constexpr size_t kImages = 9000;
  std::vector<std::string> paths = testing::MakeImageLinks(images, kImages);
  const std::set<std::string> expected(paths.begin(), paths.end());
  Case c;
  c.command = {"datasets", "create", "photos", "--images", images};
  c.expect_before = [&](const std::shared_ptr<Database>& db) {
    EXPECT_EQ(Dataset::List(db), std::vector<std::string>{"keep"});
    EXPECT_EQ(Dataset::Load(db, "keep").Count(), 3u);
  };
  c.expect_after = [&](const std::shared_ptr<Database>& db) {
    EXPECT_EQ(Dataset::List(db), (std::vector<std::string>{"keep", "photos"}));
    if (!Dataset::Exists(db, "photos")) return;
    Dataset photos = Dataset::Load(db, "photos");
    EXPECT_EQ(photos.Count(), kImages);
    std::set<std::string> filepaths;
    for (const Value& v : photos.view().Values("filepath")) filepaths.insert(v.as<std::string>());
    EXPECT_TRUE(filepaths == expected) << filepaths.size() << " filepaths, not the directory's images";
  };
  EXPECT_GE(CheckOnAFullDisk(c), 2);
}

// A dataset of 3000 samples and an sklearn run "k0" of the first 2000 of
// them, with the vectors and ids as files for the CLI.
class FullDiskIndexTest : public FullDiskTest {
 protected:
  static constexpr size_t kN = 3000, kD = 64, kFirst = 2000;

  void SetUp() override {
    FullDiskTest::SetUp();
    auto db = Open();
    Dataset ds = Dataset::Create(db, "d");
    std::vector<Sample> samples(kN);
    for (size_t i = 0; i < kN; ++i) samples[i].filepath = "/x/" + std::to_string(i) + ".jpg";
    ids_ = ds.AddSamples(samples);
    emb_ = testing::RandomMatrix(kN, kD, 7);
    WriteRows(0, kN, "all");
    WriteRows(kFirst, kN, "rest");
    ComputeSimilarityOptions o;
    o.brain_key = "k0";
    o.backend = "sklearn";
    o.embeddings = Matrix(kFirst, kD, std::vector<float>(emb_.data(), emb_.data() + kFirst * kD));
    o.ids = std::vector<std::string>(ids_.begin(), ids_.begin() + kFirst);
    auto index = ComputeSimilarity(ds.view(), o);
  }

  // Rows [begin, end) as <name>.npy and <name>.txt (their sample ids).
  void WriteRows(size_t begin, size_t end, const std::string& name) {
    WriteNpy(Matrix(end - begin, kD, std::vector<float>(emb_.data() + begin * kD, emb_.data() + end * kD)),
             dir_.File(name + ".npy"));
    std::ofstream out(dir_.File(name + ".txt"));
    for (size_t i = begin; i < end; ++i) out << ids_[i] << "\n";
  }

  std::vector<std::string> VectorsOf(const std::string& name) const {
    return {"--embeddings", dir_.File(name + ".npy"), "--ids", dir_.File(name + ".txt")};
  }

  // The run `key` holds `size` vectors and finds each of `rows`'s vectors
  // as its own sample.
  void ExpectWholeRun(const std::shared_ptr<Database>& db, const std::string& key, size_t size,
                      const std::vector<size_t>& rows) const {
    Dataset ds = Dataset::Load(db, "d");
    ASSERT_TRUE(HasBrainRun(ds, key)) << key;
    EXPECT_EQ(LoadBrainResults(ds, key)->total_index_size(), size) << key;
    for (size_t r : rows) {
      SortBySimilarityOptions o;
      o.k = 1;
      o.brain_key = key;
      auto v = emb_.row(r);
      EXPECT_EQ(SortBySimilarity(ds.view(), SimilarityQuery::ByVector({v.begin(), v.end()}), o).Ids(),
                std::vector<std::string>{ids_[r]})
          << key << ", row " << r;
    }
  }

  bool HasRun(const std::shared_ptr<Database>& db, const std::string& key) const {
    return HasBrainRun(Dataset::Load(db, "d"), key);
  }

  std::vector<std::string> ids_;
  Matrix emb_;
};

TEST_F(FullDiskIndexTest, ComputeSimilarityFailsWithOneLineAndLeavesNoRun) {
  Case c;
  c.command = {"brain", "compute-similarity", "d", "--brain-key", "k", "--backend", "sklearn"};
  for (const auto& a : VectorsOf("all")) c.command.push_back(a);
  c.expect_before = [&](const std::shared_ptr<Database>& db) {
    EXPECT_FALSE(HasRun(db, "k"));
    ExpectWholeRun(db, "k0", kFirst, {0, kFirst - 1});
  };
  c.expect_after = [&](const std::shared_ptr<Database>& db) {
    ExpectWholeRun(db, "k", kN, {0, kFirst, kN - 1});
    ExpectWholeRun(db, "k0", kFirst, {0});
  };
  EXPECT_GE(CheckOnAFullDisk(c), 4);
}

TEST_F(FullDiskIndexTest, AddToIndexFailsWithOneLineAndLeavesTheRunAsItWas) {
  Case c;
  c.command = {"brain", "add-to-index", "d", "k0"};
  for (const auto& a : VectorsOf("rest")) c.command.push_back(a);
  c.expect_before = [&](const std::shared_ptr<Database>& db) { ExpectWholeRun(db, "k0", kFirst, {0, kFirst - 1}); };
  c.expect_after = [&](const std::shared_ptr<Database>& db) { ExpectWholeRun(db, "k0", kN, {0, kFirst, kN - 1}); };
  EXPECT_GE(CheckOnAFullDisk(c), 4);
}

TEST_F(FullDiskIndexTest, DeletingARunFailsWithOneLineAndLeavesTheRun) {
  Case c;
  c.command = {"brain", "delete", "d", "k0"};
  c.expect_before = [&](const std::shared_ptr<Database>& db) { ExpectWholeRun(db, "k0", kFirst, {7}); };
  c.expect_after = [&](const std::shared_ptr<Database>& db) { EXPECT_FALSE(HasRun(db, "k0")); };
  EXPECT_GE(CheckOnAFullDisk(c), 2);
}

}  // namespace
}  // namespace fo
