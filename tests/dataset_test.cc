#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "fo/object_id.h"
#include "store/sqlite.h"
#include "test_support.h"

namespace fo {
namespace {

using testing::TempStore;

Sample MakeSample(const std::string& path, std::vector<std::string> tags = {}) {
  Sample s;
  s.filepath = path;
  s.tags = std::move(tags);
  s.width = 64;
  s.height = 48;
  return s;
}

std::vector<Sample> MakeSamples(int n) {
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) out.push_back(MakeSample("/img/" + std::to_string(i) + ".jpg", {i % 2 ? "odd" : "even"}));
  return out;
}

TEST(DatabaseTest, DefaultPathHonoursEnv) {
  setenv("FO_DATABASE_PATH", "/tmp/somewhere/x.db", 1);
  EXPECT_EQ(Database::DefaultPath(), "/tmp/somewhere/x.db");
  unsetenv("FO_DATABASE_PATH");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(Database::DefaultPath(), "/home/u/.fiftyone/cpp/fo.db");
}

TEST(DatabaseTest, RejectsAFileThatIsNotAStore) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("junk.db"), "this is not sqlite at all, just some text that is long enough");
  try {
    Database::Open(dir.File("junk.db"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("junk.db"), std::string::npos) << e.what();
  }
}

TEST(DatabaseTest, RefusesANewerSchema) {
  testing::TempDir dir;
  {
    auto db = Database::Open(dir.File("s.db"));
    db->sqlite().Exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  }
  try {
    Database::Open(dir.File("s.db"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("schema version 99"), std::string::npos) << e.what();
  }
}

TEST(DatabaseTest, ReopensWithData) {
  testing::TempDir dir;
  {
    auto db = Database::Open(dir.File("s.db"));
    Dataset::Create(db, "a").AddSamples(MakeSamples(3));
  }
  auto db = Database::Open(dir.File("s.db"));
  EXPECT_EQ(Dataset::Load(db, "a").Count(), 3u);
}

TEST(DatasetTest, CreateLoadListExistsRenameDelete) {
  TempStore st;
  Dataset a = Dataset::Create(st.db, "a");
  Dataset::Create(st.db, "b");
  EXPECT_THROW(Dataset::Create(st.db, "a"), Error);
  EXPECT_EQ(Dataset::List(st.db), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(Dataset::Exists(st.db, "a"));
  a.Rename("c");
  EXPECT_FALSE(Dataset::Exists(st.db, "a"));
  EXPECT_TRUE(Dataset::Exists(st.db, "c"));
  try {
    a.Rename("b");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
  }
  Dataset::Delete(st.db, "c");
  EXPECT_EQ(Dataset::List(st.db), std::vector<std::string>{"b"});
  try {
    Dataset::Load(st.db, "nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
  EXPECT_THROW(Dataset::Delete(st.db, "nope"), Error);
}

TEST(DatasetTest, AddSamplesAssignsIdsAndRoundTripsFields) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  Sample s = MakeSample("/a.jpg", {"x", "y"});
  s.fields["n"] = 3;
  s.fields["f"] = 2.5;
  s.fields["b"] = true;
  s.fields["s"] = "hello";
  s.fields["l"] = ValueList{1, "two", 3.5};
  s.fields["v"] = FloatVector{0.5f, -1.0f, 2.0f};
  Detection d;
  d.label = "cat";
  d.bounding_box = {0.1, 0.2, 0.3, 0.4};
  d.confidence = 0.9;
  d.attributes["emb"] = FloatVector{1, 2};
  d.attributes["iscrowd"] = false;
  s.label_fields["gt"].detections.push_back(d);
  auto ids = ds.AddSamples({s});
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(IsObjectId(ids[0]));
  Sample got = ds.GetSample(ids[0]);
  EXPECT_EQ(got.filepath, "/a.jpg");
  EXPECT_EQ(got.tags, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(*got.width, 64);
  EXPECT_EQ(got.fields["n"], Value(3));
  EXPECT_EQ(got.fields["f"], Value(2.5));
  EXPECT_EQ(got.fields["b"], Value(true));
  EXPECT_EQ(got.fields["s"], Value("hello"));
  EXPECT_EQ(got.fields["l"], (Value(ValueList{1, "two", 3.5})));
  EXPECT_EQ(got.fields["v"], (Value(FloatVector{0.5f, -1.0f, 2.0f})));
  const Detection& gd = got.label_fields["gt"].detections.at(0);
  EXPECT_TRUE(IsObjectId(gd.id));
  EXPECT_EQ(gd.label, "cat");
  EXPECT_DOUBLE_EQ(gd.bounding_box[3], 0.4);
  EXPECT_DOUBLE_EQ(*gd.confidence, 0.9);
  EXPECT_EQ(gd.attributes.at("emb"), (Value(FloatVector{1, 2})));
  EXPECT_EQ(gd.attributes.at("iscrowd"), Value(false));
  auto label_ids = ds.Values("gt.detections.id");
  ASSERT_EQ(label_ids.size(), 1u);
  EXPECT_EQ(label_ids[0], (Value(ValueList{gd.id})));
}

TEST(DatasetTest, BadSamplesAddNothing) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  ds.AddSamples(MakeSamples(2));
  auto bad_box = MakeSamples(3);
  Detection d;
  d.bounding_box = {0.5, 0.5, 1.5, 0.1};
  bad_box[2].label_fields["gt"].detections.push_back(d);
  EXPECT_THROW(ds.AddSamples(bad_box), Error);
  auto bad_vec = MakeSamples(3);
  bad_vec[1].fields["v"] = FloatVector{1.0f, NAN};
  EXPECT_THROW(ds.AddSamples(bad_vec), Error);
  auto bad_id = MakeSamples(2);
  bad_id[1].id = "xyz";
  EXPECT_THROW(ds.AddSamples(bad_id), Error);
  // A duplicate of an existing id fails in the middle of the write.
  auto dup = MakeSamples(3);
  dup[2].id = ds.First().id;
  try {
    ds.AddSamples(dup);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  auto type_clash = MakeSamples(2);
  type_clash[0].fields["k"] = 1;
  type_clash[1].fields["k"] = "one";
  EXPECT_THROW(ds.AddSamples(type_clash), Error);
  EXPECT_EQ(ds.Count(), 2u);
  EXPECT_EQ(ds.Fields().size(), 4u);  // built-ins only: nothing half-declared
}

// AddSampleBatches writes every batch in one transaction: a failure in a
// later batch (the producer's, or a bad sample) leaves none of them.
TEST(DatasetTest, SampleBatchesAreOneTransaction) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  auto batches_of = [](std::vector<std::vector<Sample>> batches, bool fail_at_end) {
    return [batches = std::move(batches), fail_at_end, next = size_t{0}](std::vector<Sample>& out) mutable {
      EXPECT_TRUE(out.empty());
      if (next == batches.size()) {
        if (fail_at_end) throw std::runtime_error("producer failed");
        return false;
      }
      out = batches[next++];
      return true;
    };
  };
  std::vector<Sample> a = MakeSamples(3), b = MakeSamples(2);
  std::vector<std::string> ids = ds.AddSampleBatches(batches_of({a, {}, b}, false), 5);
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(ds.Ids(), ids);
  std::vector<std::string> expected_paths;
  for (const auto& s : a) expected_paths.push_back(s.filepath);
  for (const auto& s : b) expected_paths.push_back(s.filepath);
  std::vector<std::string> paths;
  for (const Value& v : ds.Values("filepath")) paths.push_back(v.as<std::string>());
  EXPECT_EQ(paths, expected_paths);

  EXPECT_THROW(ds.AddSampleBatches(batches_of({MakeSamples(4)}, true)), std::runtime_error);
  EXPECT_EQ(ds.Count(), 5u);
  // The same id given in two batches is a duplicate, as within one.
  std::vector<Sample> first = MakeSamples(1), second = MakeSamples(1);
  first[0].id = second[0].id = NewObjectId();
  try {
    ds.AddSampleBatches(batches_of({first, second}, false));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate sample id"), std::string::npos) << e.what();
  }
  EXPECT_EQ(ds.Count(), 5u);
  EXPECT_EQ(ds.Ids(), ids);
}

TEST(DatasetTest, DeleteSamplesIsAllOrNothing) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  auto ids = ds.AddSamples(MakeSamples(4));
  EXPECT_THROW(ds.DeleteSamples({ids[0], NewObjectId()}), Error);
  EXPECT_EQ(ds.Count(), 4u);
  ds.DeleteSamples({ids[0], ids[2]});
  EXPECT_EQ(ds.Ids(), (std::vector<std::string>{ids[1], ids[3]}));
  EXPECT_THROW(ds.GetSample(ids[0]), Error);
}

TEST(DatasetTest, SetValuesInBulkAndAtomically) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  auto ids = ds.AddSamples(MakeSamples(3));
  ds.SetValues("score", {{ids[0], 1.5}, {ids[2], 3}});
  auto vals = ds.Values("score");
  EXPECT_EQ(vals[0], Value(1.5));
  EXPECT_TRUE(vals[1].is_null());
  EXPECT_EQ(vals[2], Value(3));
  ds.SetValues("emb", {{ids[1], FloatVector{1, 2, 3}}});
  EXPECT_EQ(ds.GetSample(ids[1]).fields["emb"], (Value(FloatVector{1, 2, 3})));
  EXPECT_THROW(ds.SetValues("score", {{ids[0], 9.0}, {NewObjectId(), 1.0}}), Error);
  EXPECT_EQ(ds.Values("score")[0], Value(1.5));  // rolled back
  EXPECT_THROW(ds.SetValues("score", {{ids[0], "text"}}), Error);
  EXPECT_THROW(ds.SetValues("filepath", {{ids[0], "x"}}), Error);
  ds.SetValues("tags", {{ids[0], ValueList{"new"}}});
  EXPECT_EQ(ds.GetSample(ids[0]).tags, std::vector<std::string>{"new"});
}

TEST(ViewTest, StagesComposeLazily) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  auto ids = ds.AddSamples(MakeSamples(10));
  View v = ds.view().Skip(2).Limit(5);
  EXPECT_EQ(v.Ids(), std::vector<std::string>(ids.begin() + 2, ids.begin() + 7));
  EXPECT_EQ(v.Count(), 5u);
  EXPECT_EQ(v.First().id, ids[2]);
  EXPECT_EQ(v.Last().id, ids[6]);
  // Lazy: a sample added after building the view shows up.
  View all = ds.view().Skip(8);
  auto more = ds.AddSamples(MakeSamples(1));
  EXPECT_EQ(all.Count(), 3u);
  EXPECT_EQ(ds.view().Select({ids[5], ids[1], "000000000000000000000000"}).Ids(), (std::vector<std::string>{ids[1], ids[5]}));
  EXPECT_EQ(ds.view().Exclude({ids[0]}).Count(), 10u);
  EXPECT_EQ(ds.view().MatchTags({"odd"}).Count(), 5u);
  EXPECT_EQ(ds.view().MatchTags({"odd", "even"}).Count(), 11u);
  EXPECT_EQ(ds.view().MatchTags({"odd", "even"}, true).Count(), 0u);
  EXPECT_EQ(ds.view().Values("filepath")[3], Value("/img/3.jpg"));
  EXPECT_EQ(ds.view().Limit(2).Values("metadata.width")[1], Value(64));
  EXPECT_THROW(ds.view().Skip(100).First(), Error);
}

TEST(ViewTest, TakeIsRandomButReproducible) {
  TempStore st;
  Dataset ds = Dataset::Create(st.db, "d");
  auto ids = ds.AddSamples(MakeSamples(50));
  auto a = ds.view().Take(10, 7).Ids();
  auto b = ds.view().Take(10, 7).Ids();
  auto c = ds.view().Take(10, 8).Ids();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_NE(a, std::vector<std::string>(ids.begin(), ids.begin() + 10));
  std::set<std::string> unique(a.begin(), a.end());
  EXPECT_EQ(unique.size(), 10u);
  EXPECT_EQ(ds.view().Take(100).Count(), 50u);
}

}  // namespace
}  // namespace fo
