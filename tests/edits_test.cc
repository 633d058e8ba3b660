// Edits that persist (fo/edits.h): each edit is checked by reopening the
// store in a fresh Database, against expectations computed here from the
// samples the test made.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/edits.h"
#include "fo/error.h"
#include "fo/metadata.h"
#include "fo/object_id.h"
#include "store/sqlite.h"
#include "test_support.h"

namespace fo {
namespace {

using testing::CodeOf;

Detection Box(const std::string& label, double x, std::optional<double> confidence = std::nullopt) {
  Detection d;
  d.label = label;
  d.bounding_box = {x, 0.1, 0.2, 0.3};
  d.confidence = confidence;
  return d;
}

// n samples: i-th has n=i, name "s<i>", tag "even"/"odd", two boxes in gt
// (labels "a<i>", "b<i>").
std::vector<Sample> MakeSamples(int n) {
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) {
    Sample s;
    s.filepath = "/img/" + std::to_string(i) + ".jpg";
    s.tags = {i % 2 ? "odd" : "even"};
    s.fields["n"] = i;
    s.fields["name"] = "s" + std::to_string(i);
    s.label_fields["gt"].detections = {Box("a" + std::to_string(i), 0.1), Box("b" + std::to_string(i), 0.5, 0.9)};
    out.push_back(std::move(s));
  }
  return out;
}

class EditsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(path_);
    Dataset ds = Dataset::Create(db, "d", MakeSamples(10));
    ids_ = ds.Ids();
  }
  // A fresh handle on the store, as another process would open it.
  Dataset Reopened(const std::string& name = "d") const { return Dataset::Load(Database::Open(path_), name); }
  std::shared_ptr<Database> Db() const { return Database::Open(path_); }

  testing::TempDir dir_;
  std::string path_ = dir_.File("fo.db");
  std::vector<std::string> ids_;
};

Dataset Reopened_(const std::string& path, const std::string& name) { return Dataset::Load(Database::Open(path), name); }

// --- SaveSample ---

TEST_F(EditsTest, SaveWritesFieldsTagsAndDetections) {
  auto db = Db();
  Dataset ds = Dataset::Load(db, "d");
  Sample s = ds.GetSample(ids_[3]);
  const std::string kept_id = s.label_fields["gt"].detections[1].id;
  const std::string dropped_id = s.label_fields["gt"].detections[0].id;
  int64_t kept_key = 0;
  {
    auto q = db->sqlite().Prepare("SELECT seq FROM labels WHERE id = ?");
    q.Bind(1, kept_id);
    ASSERT_TRUE(q.Step());
    kept_key = q.Int(0);
  }
  s.fields["n"] = 42;
  s.fields.erase("name");
  s.fields["flag"] = true;
  s.fields["emb"] = FloatVector{1, 2, 3};
  s.tags.push_back("edited");
  s.label_fields["gt"].detections[1].label = "renamed";
  s.label_fields["gt"].detections.erase(s.label_fields["gt"].detections.begin());
  s.label_fields["gt"].detections.push_back(Box("new", 0.7, 0.5));
  SaveSample(db, s);
  const std::string new_id = s.label_fields["gt"].detections[1].id;
  EXPECT_TRUE(IsObjectId(new_id));

  Dataset again = Reopened();
  Sample got = again.GetSample(ids_[3]);
  EXPECT_EQ(got.Get("n"), Value(42));
  EXPECT_TRUE(got.Get("name").is_null());
  EXPECT_EQ(got.Get("flag"), Value(true));
  EXPECT_EQ(got.Get("emb"), Value(FloatVector{1, 2, 3}));
  EXPECT_EQ(got.tags, (std::vector<std::string>{"odd", "edited"}));
  ASSERT_EQ(got.label_fields["gt"].detections.size(), 2u);
  EXPECT_EQ(got.label_fields["gt"].detections[0].id, kept_id);
  EXPECT_EQ(got.label_fields["gt"].detections[0].label, "renamed");
  EXPECT_EQ(got.label_fields["gt"].detections[1].id, new_id);
  EXPECT_EQ(got.label_fields["gt"].detections[1].label, "new");
  EXPECT_EQ(again.view().MatchTags({"edited"}).Ids(), std::vector<std::string>{ids_[3]});
  auto q = again.database()->sqlite().Prepare("SELECT seq FROM labels WHERE id = ?");
  q.Bind(1, kept_id);
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Int(0), kept_key);  // patch indexes hold this key
  q.Reset();
  q.Bind(1, dropped_id);
  EXPECT_FALSE(q.Step());
  // The other samples are untouched.
  EXPECT_EQ(again.GetSample(ids_[4]).Get("name"), Value("s4"));
}

TEST_F(EditsTest, SaveRefusesASampleOutsideADatasetAndBadValues) {
  auto db = Db();
  Sample loose;
  loose.filepath = "/x.jpg";
  EXPECT_EQ(CodeOf([&] { SaveSample(db, loose); }), ErrorCode::kFailedPrecondition);
  loose.id = NewObjectId();
  EXPECT_EQ(CodeOf([&] { SaveSample(db, loose); }), ErrorCode::kNotFound);

  Sample s = Dataset::Load(db, "d").GetSample(ids_[0]);
  s.fields["n"] = "not an int";
  s.tags = {"must-not-appear"};
  Error e = testing::CaughtError([&] { SaveSample(db, s); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("'n'"), std::string::npos) << e.what();
  s.fields["n"] = 1;
  s.label_fields["gt"].detections[0].bounding_box[0] = 3;  // not relative
  EXPECT_EQ(CodeOf([&] { SaveSample(db, s); }), ErrorCode::kInvalidArgument);
  Sample got = Reopened().GetSample(ids_[0]);
  EXPECT_EQ(got.Get("n"), Value(0));
  EXPECT_EQ(got.tags, std::vector<std::string>{"even"});
}

// --- SetValues ---

TEST_F(EditsTest, SetValuesFollowsViewOrderAndPersists) {
  Dataset ds = Dataset::Load(Db(), "d");
  View view = ds.view().Take(6, 3);
  std::vector<std::string> order = view.Ids();
  std::vector<Value> values;
  for (size_t i = 0; i < order.size(); ++i) values.push_back(i == 2 ? Value() : Value(static_cast<double>(i) * 1.5));
  SetValues(view, "score", values);
  std::vector<Value> flags;
  for (size_t i = 0; i < order.size(); ++i) flags.push_back(Value(i % 2 == 0));
  SetValues(view, "flag", flags);

  Dataset again = Reopened();
  for (size_t i = 0; i < order.size(); ++i) {
    Sample s = again.GetSample(order[i]);
    EXPECT_EQ(s.Get("score"), values[i]) << i;
    EXPECT_EQ(s.Get("flag"), Value(i % 2 == 0)) << i;  // a bool, not 0/1
  }
  std::set<std::string> in_view(order.begin(), order.end());
  for (const auto& id : ids_)
    if (!in_view.count(id)) EXPECT_TRUE(again.GetSample(id).Get("score").is_null());
  auto fields = again.Fields();
  EXPECT_TRUE(std::any_of(fields.begin(), fields.end(), [](const FieldInfo& f) { return f.name == "score" && f.type == "float"; }));
}

TEST_F(EditsTest, SetValuesOfListsVectorsAndTags) {
  Dataset ds = Dataset::Load(Db(), "d");
  View view = ds.view().Skip(7);  // samples 7, 8, 9
  SetValues(view, "words", {Value(ValueList{"x", 1}), Value(ValueList{}), Value()});
  SetValues(view, "emb", {Value(FloatVector{1, 2}), Value(), Value(FloatVector{3, 4})});
  SetValues(view, "tags", {Value(ValueList{"p", "q"}), Value(ValueList{}), Value(ValueList{"q"})});
  Dataset again = Reopened();
  EXPECT_EQ(again.GetSample(ids_[7]).Get("words"), Value(ValueList{"x", 1}));
  EXPECT_EQ(again.GetSample(ids_[8]).Get("words"), Value(ValueList{}));
  EXPECT_EQ(again.GetSample(ids_[7]).Get("emb"), Value(FloatVector{1, 2}));
  EXPECT_TRUE(again.GetSample(ids_[8]).Get("emb").is_null());
  EXPECT_EQ(again.GetSample(ids_[9]).Get("emb"), Value(FloatVector{3, 4}));
  EXPECT_EQ(again.GetSample(ids_[7]).tags, (std::vector<std::string>{"p", "q"}));
  EXPECT_TRUE(again.GetSample(ids_[8]).tags.empty());
  EXPECT_EQ(again.view().MatchTags({"q"}).Ids(), (std::vector<std::string>{ids_[7], ids_[9]}));
  // Sample 9 was "odd"; the tag index must no longer say so.
  std::vector<std::string> odd;
  for (int i : {1, 3, 5}) odd.push_back(ids_[i]);
  EXPECT_EQ(again.view().MatchTags({"odd"}).Ids(), odd);
}

TEST_F(EditsTest, SetValuesOfDetectionAttributes) {
  Dataset ds = Dataset::Load(Db(), "d");
  View view = ds.view().Limit(2);
  SetValues(view, "gt.detections.label", {Value(ValueList{"x0", "y0"}), Value(ValueList{"x1", "y1"})});
  SetValues(view, "gt.detections.confidence", {Value(ValueList{0.25, Value()}), Value(ValueList{1, 0.5})});
  SetValues(view, "gt.detections.iscrowd", {Value(ValueList{true, false}), Value(ValueList{Value(), false})});
  Dataset again = Reopened();
  const std::vector<Detection> d0 = again.GetSample(ids_[0]).label_fields.at("gt").detections;
  const std::vector<Detection> d1 = again.GetSample(ids_[1]).label_fields.at("gt").detections;
  EXPECT_EQ(d0[0].label, "x0");
  EXPECT_EQ(d0[1].label, "y0");
  EXPECT_EQ(d1[1].label, "y1");
  EXPECT_EQ(d0[0].confidence, 0.25);
  EXPECT_FALSE(d0[1].confidence.has_value());
  EXPECT_EQ(d1[0].confidence, 1.0);
  EXPECT_EQ(d0[0].attributes.at("iscrowd"), Value(true));
  EXPECT_EQ(d0[1].attributes.at("iscrowd"), Value(false));
  EXPECT_EQ(d1[0].attributes.count("iscrowd"), 0u);
  EXPECT_EQ(again.GetSample(ids_[2]).label_fields.at("gt").detections[0].label, "a2");
}

TEST_F(EditsTest, SetValuesRejectsBadInputAndWritesNothing) {
  Dataset ds = Dataset::Load(Db(), "d");
  View view = ds.view().Limit(3);
  Error e = testing::CaughtError([&] { SetValues(view, "score", {1, 2}); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("view of 3 samples"), std::string::npos) << e.what();
  e = testing::CaughtError([&] { SetValues(view, "score", {1, "two", 3}); });
  EXPECT_NE(std::string(e.what()).find("values[1] is of type string"), std::string::npos) << e.what();
  e = testing::CaughtError([&] { SetValues(view, "n", {"a", "b", "c"}); });  // n holds ints
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("field 'n' holds int"), std::string::npos) << e.what();
  e = testing::CaughtError(
      [&] { SetValues(view, "gt.detections.label", {Value(ValueList{"x"}), Value(ValueList{"a", "b"}), Value(ValueList{"a", "b"})}); });
  EXPECT_NE(std::string(e.what()).find("values[0] has 1 values but its sample has 2 detections"), std::string::npos) << e.what();
  EXPECT_EQ(CodeOf([&] { SetValues(view, "id", {"a", "b", "c"}); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { SetValues(view, "tags", {1, 2, 3}); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { SetValues(view, "nope.detections.label", {Value(), Value(), Value()}); }), ErrorCode::kInvalidArgument);
  Dataset again = Reopened();
  for (int i = 0; i < 3; ++i) {
    Sample s = again.GetSample(ids_[i]);
    EXPECT_EQ(s.Get("n"), Value(i));
    EXPECT_TRUE(s.Get("score").is_null());
    EXPECT_EQ(s.label_fields.at("gt").detections[0].label, "a" + std::to_string(i));
  }
  auto fields = again.Fields();
  EXPECT_FALSE(std::any_of(fields.begin(), fields.end(), [](const FieldInfo& f) { return f.name == "score"; }));
}

// --- Tags ---

TEST_F(EditsTest, TagAndUntagSamplesOfAView) {
  Dataset ds = Dataset::Load(Db(), "d");
  View evens = ds.view().MatchTags({"even"});
  TagSamples(evens, {"sel", "even", "sel", "z"});
  TagSamples(ds.view().Limit(2), {"z"});  // sample 1 gets z; sample 0 already has it
  Dataset again = Reopened();
  for (int i = 0; i < 10; ++i) {
    std::vector<std::string> want = {i % 2 ? "odd" : "even"};
    if (i % 2 == 0) want.insert(want.end(), {"sel", "z"});
    if (i == 1) want.push_back("z");
    EXPECT_EQ(again.GetSample(ids_[i]).tags, want) << i;
  }
  EXPECT_EQ(again.view().MatchTags({"z"}).Count(), 6u);
  UntagSamples(again.view().Skip(4), {"sel", "missing"});
  Dataset third = Reopened();
  std::vector<std::string> sel;
  for (int i : {0, 2}) sel.push_back(ids_[i]);
  EXPECT_EQ(third.view().MatchTags({"sel"}).Ids(), sel);
  EXPECT_EQ(third.GetSample(ids_[4]).tags, (std::vector<std::string>{"even", "z"}));
  EXPECT_EQ(CodeOf([&] { TagSamples(third.view(), {""}); }), ErrorCode::kInvalidArgument);
}

TEST_F(EditsTest, TagAndUntagLabels) {
  Dataset ds = Dataset::Load(Db(), "d");
  TagLabels(ds.view().Limit(2), {"check"});
  TagLabels(ds.view().Limit(1), {"check", "twice"}, {"gt"});
  Dataset again = Reopened();
  auto tags_of = [&](int i, int j) {
    const Sample s = again.GetSample(ids_[i]);
    const auto& attrs = s.label_fields.at("gt").detections[j].attributes;
    auto it = attrs.find("tags");
    return it == attrs.end() ? Value() : it->second;
  };
  EXPECT_EQ(tags_of(0, 0), Value(ValueList{"check", "twice"}));
  EXPECT_EQ(tags_of(1, 1), Value(ValueList{"check"}));
  EXPECT_TRUE(tags_of(2, 0).is_null());
  UntagLabels(again.view(), {"check"});
  EXPECT_EQ(tags_of(0, 0), Value(ValueList{"twice"}));
  EXPECT_EQ(tags_of(1, 0), Value(ValueList{}));
  EXPECT_EQ(CodeOf([&] { TagLabels(again.view(), {"x"}, {"n"}); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { TagLabels(again.view(), {"x"}, {"nope"}); }), ErrorCode::kInvalidArgument);
}

// --- Fields ---

TEST_F(EditsTest, AddDeleteAndRenameFields) {
  Dataset ds = Dataset::Load(Db(), "d");
  AddSampleField(ds, "count", "int");
  AddSampleField(ds, "count", "int");  // again: nothing to do
  EXPECT_EQ(CodeOf([&] { AddSampleField(ds, "count", "string"); }), ErrorCode::kAlreadyExists);
  EXPECT_EQ(CodeOf([&] { AddSampleField(ds, "x", "complex"); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { AddSampleField(ds, "filepath", "string"); }), ErrorCode::kInvalidArgument);
  // A declared field fixes the type of later writes.
  EXPECT_EQ(CodeOf([&] { SetValues(ds.view(), "count", std::vector<Value>(10, Value("many"))); }), ErrorCode::kInvalidArgument);

  RenameSampleField(ds, "name", "title");
  RenameSampleField(ds, "gt", "boxes");
  SetValues(ds.view().Limit(1), "boxes.detections.iscrowd", {Value(ValueList{true, false})});
  DeleteSampleField(ds, "n");
  EXPECT_EQ(CodeOf([&] { DeleteSampleField(ds, "n"); }), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { RenameSampleField(ds, "title", "boxes"); }), ErrorCode::kAlreadyExists);
  EXPECT_EQ(CodeOf([&] { RenameSampleField(ds, "nope", "x"); }), ErrorCode::kNotFound);
  EXPECT_EQ(CodeOf([&] { DeleteSampleField(ds, "tags"); }), ErrorCode::kInvalidArgument);

  Dataset again = Reopened();
  std::map<std::string, std::string> types;
  for (const auto& f : again.Fields()) types[f.name] = f.type;
  EXPECT_EQ(types.count("n"), 0u);
  EXPECT_EQ(types.count("name"), 0u);
  EXPECT_EQ(types.count("gt"), 0u);
  EXPECT_EQ(types["title"], "string");
  EXPECT_EQ(types["boxes"], "detections");
  EXPECT_EQ(types["count"], "int");
  EXPECT_EQ(types["boxes.detections.iscrowd"], "bool");
  for (int i = 0; i < 10; ++i) {
    Sample s = again.GetSample(ids_[i]);
    EXPECT_EQ(s.Get("title"), Value("s" + std::to_string(i)));
    EXPECT_TRUE(s.Get("n").is_null());
    EXPECT_EQ(s.label_fields.count("gt"), 0u);
    ASSERT_EQ(s.label_fields.at("boxes").detections.size(), 2u);
    EXPECT_EQ(s.label_fields.at("boxes").detections[0].label, "a" + std::to_string(i));
  }
  DeleteSampleField(again, "boxes");
  Dataset third = Reopened();
  EXPECT_EQ(third.CountLabels("boxes"), 0u);
  for (const auto& f : third.Fields()) EXPECT_NE(f.name.rfind("boxes", 0), 0u) << f.name;
}

// --- Clone ---

TEST_F(EditsTest, CloneOfAViewCopiesItsSamplesInViewOrderWithNewIds) {
  auto db = Db();
  Dataset ds = Dataset::Load(db, "d");
  SetValues(ds.view(), "emb", std::vector<Value>(10, Value(FloatVector{0.5f, 1.5f})));
  View view = ds.view().MatchTags({"odd"}).Take(4, 9);
  std::vector<Sample> source = view.Samples();
  Clone(view, "copy");
  EXPECT_EQ(CodeOf([&] { Clone(view, "copy"); }), ErrorCode::kAlreadyExists);

  Dataset copy = Reopened("copy");
  std::vector<Sample> got = copy.view().Samples();
  ASSERT_EQ(got.size(), source.size());
  EXPECT_EQ(copy.Count(), source.size());
  std::set<std::string> label_ids;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NE(got[i].id, source[i].id);
    EXPECT_EQ(got[i].filepath, source[i].filepath);
    EXPECT_EQ(got[i].tags, source[i].tags);
    EXPECT_EQ(got[i].fields, source[i].fields);
    const auto& a = got[i].label_fields.at("gt").detections;
    const auto& b = source[i].label_fields.at("gt").detections;
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      EXPECT_NE(a[j].id, b[j].id);
      EXPECT_EQ(a[j].label, b[j].label);
      EXPECT_EQ(a[j].bounding_box, b[j].bounding_box);
      EXPECT_EQ(a[j].confidence, b[j].confidence);
      label_ids.insert(a[j].id);
    }
  }
  EXPECT_EQ(label_ids.size(), 2 * got.size());
  EXPECT_EQ(copy.view().MatchTags({"odd"}).Count(), source.size());
  EXPECT_EQ(copy.Fields().size(), ds.Fields().size());
  // Edits of the copy leave the source alone.
  TagSamples(copy.view(), {"copied"});
  EXPECT_EQ(Reopened().view().MatchTags({"copied"}).Count(), 0u);
  EXPECT_EQ(Reopened().Count(), 10u);
  // A whole dataset, then one more sample added to the copy takes a new key.
  Dataset all = Clone(ds.view(), "all");
  EXPECT_EQ(all.Count(), 10u);
  Sample extra;
  extra.filepath = "/extra.jpg";
  all.AddSample(extra);
  EXPECT_EQ(Reopened("all").Count(), 11u);
  EXPECT_EQ(CodeOf([&] { Clone(ds.view(), ""); }), ErrorCode::kInvalidArgument);
}

// --- Image metadata ---

namespace fs = std::filesystem;

struct ExpectedImage {
  std::string path;
  int width, height, channels;
  std::string mime;
};

// The CLIP fixtures' images with the sizes and PIL modes PIL reported
// (../shared/clip/reference.json), file sizes from the file system.
std::vector<ExpectedImage> ClipImages() {
  const std::string dir = testing::SharedDir() + "/clip/";
  auto ref = nlohmann::json::parse(testing::ReadFile(dir + "reference.json"));
  const std::map<std::string, int> bands = {{"L", 1}, {"LA", 2}, {"RGB", 3}, {"RGBA", 4}};
  std::vector<ExpectedImage> out;
  for (const auto& im : ref["images"]) {
    std::string file = im["file"];
    std::string mime = file.substr(file.size() - 4) == ".png" ? "image/png" : "image/jpeg";
    out.push_back({dir + file, im["width"], im["height"], bands.at(im["pil_mode"]), mime});
  }
  return out;
}

// A sample per image, then one whose file `missing_path` does not exist.
std::vector<Sample> SamplesOf(const std::vector<ExpectedImage>& images, const std::string& missing_path) {
  std::vector<Sample> samples;
  for (const auto& im : images) {
    Sample s;
    s.filepath = im.path;
    samples.push_back(s);
  }
  Sample missing;
  missing.filepath = missing_path;
  samples.push_back(missing);
  return samples;
}

std::string Le(uint32_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

// A BMP of which only the headers matter: `dib` bytes of DIB header.
std::string BmpHeader(int32_t width, int32_t height, int bpp, uint32_t compression, uint32_t dib, uint32_t alpha_mask) {
  std::string d = Le(dib, 4) + Le(static_cast<uint32_t>(width), 4) + Le(static_cast<uint32_t>(height), 4) + Le(1, 2) +
                  Le(bpp, 2) + Le(compression, 4) + std::string(20, '\0');
  if (dib >= 56) d += Le(0xFF0000, 4) + Le(0xFF00, 4) + Le(0xFF, 4) + Le(alpha_mask, 4);
  d.resize(dib, '\0');
  return "BM" + Le(14 + dib, 4) + Le(0, 4) + Le(14 + dib, 4) + d + std::string(64, '\0');
}

std::string Riff(const std::string& chunk) { return "RIFF" + Le(4 + chunk.size(), 4) + "WEBP" + chunk; }

TEST(ImageMetadataTest, ReadsSizesAndChannelsFromHeaders) {
  for (const auto& im : ClipImages()) {
    ImageMetadata m = ReadImageMetadata(im.path);
    EXPECT_EQ(m.width, im.width) << im.path;
    EXPECT_EQ(m.height, im.height) << im.path;
    EXPECT_EQ(m.num_channels, im.channels) << im.path;
    EXPECT_EQ(m.mime_type, im.mime) << im.path;
    EXPECT_EQ(m.size_bytes, static_cast<int64_t>(fs::file_size(im.path))) << im.path;
  }
  testing::TempDir dir;
  struct Case {
    std::string name, bytes, mime;
    int width, height, channels;
  };
  const std::vector<Case> cases = {
      {"rgb.bmp", BmpHeader(33, -17, 24, 0, 40, 0), "image/bmp", 33, 17, 3},
      {"rgba.bmp", BmpHeader(5, 7, 32, 3, 124, 0xFF000000u), "image/bmp", 5, 7, 4},
      {"rgbx.bmp", BmpHeader(5, 7, 32, 3, 124, 0), "image/bmp", 5, 7, 3},
      {"palette.bmp", BmpHeader(9, 4, 8, 0, 40, 0), "image/bmp", 9, 4, 1},
      {"lossy.webp", Riff("VP8 " + Le(10, 4) + std::string("\x10\x02\x00\x9d\x01\x2a", 6) + Le(640, 2) + Le(480, 2)), "image/webp", 640, 480, 3},
      {"lossless.webp", Riff("VP8L" + Le(5, 4) + "\x2f" + Le((99u) | (49u << 14) | (1u << 28), 4) + std::string(5, '\0')), "image/webp", 100, 50, 4},
      {"extended.webp", Riff("VP8X" + Le(10, 4) + std::string("\x10\0\0\0", 4) + Le(1999, 3) + Le(999, 3)), "image/webp", 2000, 1000, 4},
      {"anim.gif", "GIF89a" + Le(12, 2) + Le(34, 2) + std::string(8, '\0'), "image/gif", 12, 34, 1},
  };
  for (const auto& c : cases) {
    testing::WriteFile(dir.File(c.name), c.bytes);
    ImageMetadata m = ReadImageMetadata(dir.File(c.name));
    EXPECT_EQ(m.mime_type, c.mime) << c.name;
    EXPECT_EQ(m.width, c.width) << c.name;
    EXPECT_EQ(m.height, c.height) << c.name;
    EXPECT_EQ(m.num_channels, c.channels) << c.name;
    EXPECT_EQ(m.size_bytes, static_cast<int64_t>(c.bytes.size())) << c.name;
  }
}

TEST(ImageMetadataTest, BadFilesFailWithOneLine) {
  testing::TempDir dir;
  EXPECT_EQ(CodeOf([&] { ReadImageMetadata(dir.File("missing.jpg")); }), ErrorCode::kIOError);
  testing::WriteFile(dir.File("text.jpg"), "not an image at all");
  Error e = testing::CaughtError([&] { ReadImageMetadata(dir.File("text.jpg")); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(std::string(e.what()).find("text.jpg: not a JPEG, PNG"), std::string::npos) << e.what();
  // A JPEG cut off inside its headers, and an empty file.
  std::string jpeg = testing::ReadFile(testing::SharedDir() + "/clip/images/photo_q90.jpg");
  testing::WriteFile(dir.File("cut.jpg"), jpeg.substr(0, 40));
  EXPECT_EQ(CodeOf([&] { ReadImageMetadata(dir.File("cut.jpg")); }), ErrorCode::kInvalidArgument);
  testing::WriteFile(dir.File("empty.png"), "");
  EXPECT_EQ(CodeOf([&] { ReadImageMetadata(dir.File("empty.png")); }), ErrorCode::kInvalidArgument);
}

TEST_F(EditsTest, ComputeMetadataFillsTheViewsSamplesAndPersists) {
  auto db = Db();
  std::vector<ExpectedImage> images = ClipImages();
  std::vector<Sample> samples = SamplesOf(images, dir_.File("missing.png"));
  Dataset ds = Dataset::Create(db, "images", samples);
  std::vector<std::string> ids = ds.Ids();

  ComputeMetadataOptions strict;
  strict.skip_failures = false;
  strict.num_workers = 3;
  Error e = testing::CaughtError([&] { ComputeMetadata(ds.view(), strict); });
  EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos) << e.what();
  EXPECT_FALSE(Reopened("images").First().size_bytes.has_value());  // nothing written

  ComputeMetadataOptions o;
  o.num_workers = 3;
  ComputeMetadataResult r = ComputeMetadata(ds.view(), o);
  EXPECT_EQ(r.computed, images.size());
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].find("missing.png"), std::string::npos);
  Dataset again = Reopened("images");
  for (size_t i = 0; i < images.size(); ++i) {
    Sample s = again.GetSample(ids[i]);
    EXPECT_EQ(s.width, images[i].width);
    EXPECT_EQ(s.height, images[i].height);
    EXPECT_EQ(s.num_channels, images[i].channels);
    EXPECT_EQ(s.mime_type, images[i].mime);
    EXPECT_EQ(s.size_bytes, static_cast<int64_t>(fs::file_size(images[i].path)));
    EXPECT_EQ(s.Get("metadata.size_bytes"), Value(static_cast<int64_t>(fs::file_size(images[i].path))));
  }
  EXPECT_FALSE(again.GetSample(ids.back()).width.has_value());

  // Complete metadata is kept unless overwrite is asked for.
  Sample edited = again.GetSample(ids[0]);
  edited.width = 1;
  SaveSample(again.database(), edited);
  EXPECT_EQ(ComputeMetadata(again.view().Limit(2), o).computed, 0u);
  EXPECT_EQ(Reopened("images").GetSample(ids[0]).width, 1);
  o.overwrite = true;
  EXPECT_EQ(ComputeMetadata(again.view().Limit(2), o).computed, 2u);
  EXPECT_EQ(Reopened("images").GetSample(ids[0]).width, images[0].width);
  // A clone carries the metadata.
  EXPECT_EQ(Clone(again.view().Limit(1), "images2").First().mime_type, images[0].mime);
}

TEST_F(EditsTest, CliComputesMetadataAndClones) {
  std::vector<ExpectedImage> images = ClipImages();
  std::vector<Sample> samples = SamplesOf(images, dir_.File("gone.jpg"));
  Dataset::Create(Db(), "images", samples);
  const std::vector<std::string> env = {"FO_DATABASE_PATH=" + path_};
  testing::CommandResult r = testing::RunCli({"datasets", "compute-metadata", "images", "--num-workers", "2"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Computed metadata of " + std::to_string(images.size()) + " samples of 'images' (1 could not be read)"),
            std::string::npos) << r.out;
  EXPECT_NE(r.err.find("skipped " + dir_.File("gone.jpg")), std::string::npos) << r.err;
  std::vector<Sample> got = Reopened("images").view().Samples();
  for (size_t i = 0; i < images.size(); ++i) {
    EXPECT_EQ(got[i].width, images[i].width);
    EXPECT_EQ(got[i].num_channels, images[i].channels);
  }
  r = testing::RunCli({"datasets", "compute-metadata", "images", "--strict", "--overwrite"}, env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("gone.jpg"), std::string::npos) << r.err;
  r = testing::RunCli({"datasets", "compute-metadata", "nope"}, env);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("dataset 'nope' not found"), std::string::npos) << r.err;

  r = testing::RunCli({"datasets", "clone", "images", "copy"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(" + std::to_string(samples.size()) + " samples)"), std::string::npos) << r.out;
  EXPECT_EQ(Reopened("copy").First().size_bytes, static_cast<int64_t>(fs::file_size(images[0].path)));
  EXPECT_EQ(testing::RunCli({"datasets", "clone", "images", "copy"}, env).exit_code, 1);
}

// --- Schema version 3 ---

std::string V2Fixture() { return testing::SourceDir() + "/tests/data/store_v2.db"; }

int64_t QueryInt(internal::Sqlite& db, const std::string& sql) {
  auto q = db.Prepare(sql);
  EXPECT_TRUE(q.Step()) << sql;
  return q.Int(0);
}

TEST(MigrationV3Test, AVersion2StoreOpensMigrated) {
  testing::TempDir dir;
  const std::string path = dir.File("fo.db");
  fs::copy_file(V2Fixture(), path);
  auto db = Database::Open(path);
  EXPECT_EQ(QueryInt(db->sqlite(), "SELECT value FROM meta WHERE key = 'schema_version'"), 3);
  // tests/data/make_store_v2.py: 6 samples, the last deleted; "even" on
  // even positions; score i / 10; one detection each.
  Dataset ds = Dataset::Load(db, "v2");
  ASSERT_EQ(ds.Count(), 5u);
  EXPECT_EQ(ds.view().MatchTags({"even"}).Count(), 3u);
  std::vector<Sample> samples = ds.view().Samples();
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].Get("score"), Value(static_cast<double>(i) / 10));
    EXPECT_EQ(samples[i].label_fields.at("gt").detections.size(), 1u);
    EXPECT_FALSE(samples[i].size_bytes.has_value());
  }
  // The new columns take values, and keys continue after the old ones.
  SetValues(ds.view().Limit(1), "score", {Value(9.5)});
  Sample s;
  s.filepath = "/images/new.jpg";
  s.mime_type = "image/jpeg";
  s.size_bytes = 12;
  std::string id = ds.AddSample(s);
  EXPECT_EQ(Reopened_(path, "v2").GetSample(id).mime_type, "image/jpeg");
  EXPECT_EQ(QueryInt(db->sqlite(), "SELECT seq FROM samples WHERE id = '" + id + "'"), 7);
}

TEST(MigrationV3Test, AFailedMigrationLeavesTheVersion2FileAsItWas) {
  testing::TempDir dir;
  const std::string path = dir.File("fo.db");
  fs::copy_file(V2Fixture(), path);
  {
    // A column in the way of the migration's last statement: the first two
    // (size_bytes, mime_type) must be rolled back with it.
    internal::Sqlite raw(path);
    raw.Exec("ALTER TABLE samples ADD COLUMN num_channels INTEGER");
  }
  const std::string before = testing::ReadFile(path);
  EXPECT_THROW(Database::Open(path), Error);
  EXPECT_TRUE(testing::ReadFile(path) == before) << "the failed migration changed the file";
  internal::Sqlite raw(path);
  EXPECT_EQ(QueryInt(raw, "SELECT value FROM meta WHERE key = 'schema_version'"), 2);
  EXPECT_EQ(QueryInt(raw, "SELECT count(*) FROM pragma_table_info('samples') WHERE name IN ('size_bytes', 'mime_type')"), 0);
}

}  // namespace
}  // namespace fo
