// FiftyOne's printed forms: dataset and view summaries (fo/summary.h), the
// reprlib form of stage arguments (store/stage_repr.h) and the serialised
// brain run (fo/run_info.h). Expected texts are written out by hand from
// FiftyOne's format and Python's repr/reprlib rules, not produced by fo.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/run_info.h"
#include "fo/summary.h"
#include "store/stage_repr.h"
#include "test_support.h"

namespace fo {
namespace {

using nlohmann::json;

class SummaryTest : public ::testing::Test {
 protected:
  // 4 samples: 3 tagged "train", a float, a bool and a Detections field.
  static Dataset MakeDataset(const testing::TempStore& st) {
    testing::IsolateBrainConfig(st.dir);
    std::vector<Sample> samples(4);
    for (size_t i = 0; i < samples.size(); ++i) {
      samples[i].filepath = "/img/" + std::to_string(i) + ".jpg";
      samples[i].tags = {i < 3 ? "train" : "test"};
      samples[i].fields["confidence_score"] = Value(0.25 * static_cast<double>(i));
      samples[i].fields["ok"] = Value(i % 2 == 0);
      Detection d;
      d.label = "cat";
      samples[i].label_fields["gt"].detections = {d};
    }
    return Dataset::Create(st.db, "summary-test", samples);
  }

  testing::TempStore st;
  Dataset ds = MakeDataset(st);

  // The schema block, names padded to "confidence_score:" (17 characters).
  static std::string Fields() {
    return "Sample fields:\n"
           "    id:               fiftyone.core.fields.ObjectIdField\n"
           "    filepath:         fiftyone.core.fields.StringField\n"
           "    tags:             fiftyone.core.fields.ListField(fiftyone.core.fields.StringField)\n"
           "    metadata:         fiftyone.core.fields.EmbeddedDocumentField(fiftyone.core.metadata.ImageMetadata)\n"
           "    confidence_score: fiftyone.core.fields.FloatField\n"
           "    gt:               fiftyone.core.fields.EmbeddedDocumentField(fiftyone.core.labels.Detections)\n"
           "    ok:               fiftyone.core.fields.BooleanField";
  }
};

TEST_F(SummaryTest, DatasetSummaryIsFiftyOnes) {
  EXPECT_EQ(DatasetSummary(ds),
            "Name:        summary-test\n"
            "Media type:  image\n"
            "Num samples: 4\n"
            "Persistent:  True\n"
            "Tags:        []\n" +
                Fields());
}

TEST_F(SummaryTest, ViewSummaryListsStages) {
  View view = ds.view().MatchTags({"train"}).Limit(2);
  EXPECT_EQ(ViewSummary(view),
            "Dataset:     summary-test\n"
            "Media type:  image\n"
            "Num samples: 2\n" +
                Fields() +
                "\nView stages:\n"
                "    1. MatchTags(tags=['train'], bool=True, all=False)\n"
                "    2. Limit(limit=2)");
  EXPECT_EQ(ViewSummary(ds.view()),
            "Dataset:     summary-test\nMedia type:  image\nNum samples: 4\n" + Fields() + "\nView stages:\n    ---");
}

TEST_F(SummaryTest, StageDescriptionsFollowFiftyOnesKwargs) {
  std::vector<std::string> ids = ds.Ids();
  View view = ds.view().Select(ids).Exclude({ids[0]}).Skip(1).Take(1, 7).MatchTags({"a", "b"}, true);
  std::vector<std::string> want = {
      "Select(sample_ids=['" + ids[0] + "', '" + ids[1] + "', '" + ids[2] + "', ...], ordered=False)",
      "Exclude(sample_ids=['" + ids[0] + "'])",
      "Skip(skip=1)",
      "Take(size=1, seed=7)",
      "MatchTags(tags=['a', 'b'], bool=True, all=True)",
  };
  EXPECT_EQ(view.StageDescriptions(), want);
}

// Python's repr() through reprlib with FiftyOne's limits; each expectation is
// what CPython 3.11 prints for the same value.
TEST(StageReprTest, MatchesPythonReprlib) {
  using internal::StageValueRepr;
  EXPECT_EQ(StageValueRepr(nullptr), "None");
  EXPECT_EQ(StageValueRepr(true), "True");
  EXPECT_EQ(StageValueRepr(-12), "-12");
  EXPECT_EQ(StageValueRepr(0.5), "0.5");
  EXPECT_EQ(StageValueRepr(3.0), "3.0");
  EXPECT_EQ(StageValueRepr(1e-05), "1e-05");
  EXPECT_EQ(StageValueRepr(0.0001), "0.0001");
  EXPECT_EQ(StageValueRepr(1e16), "1e+16");
  EXPECT_EQ(StageValueRepr(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(StageValueRepr(-2.5e-07), "-2.5e-07");
  EXPECT_EQ(StageValueRepr(0.10000000149011612), "0.10000000149011612");
  EXPECT_EQ(StageValueRepr("it's"), "\"it's\"");
  EXPECT_EQ(StageValueRepr("a'b\"c"), "'a\\'b\"c'");
  EXPECT_EQ(StageValueRepr("tab\there"), "'tab\\there'");
  // reprlib.repr of a 46-character string with maxstring = 30
  EXPECT_EQ(StageValueRepr("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"), "'abcdefghijkl...789ABCDEFGHIJ'");
  EXPECT_EQ(StageValueRepr(json::array({1, 2, 3, 4})), "[1, 2, 3, ...]");
  EXPECT_EQ(StageValueRepr(json::array()), "[]");
  EXPECT_EQ(StageValueRepr(json::array({json::array({json::array({1})})})), "[[[...]]]");
  EXPECT_EQ(StageValueRepr(json{{"b", 1}, {"a", json::array({1})}, {"c", 2}, {"d", 3}}), "{'a': [1], 'b': 1, 'c': 2, ...}");
  EXPECT_EQ(internal::StageRepr("Limit", {{"limit", 3}}), "Limit(limit=3)");
}

TEST_F(SummaryTest, BrainInfoSerialisesAsFiftyOne) {
  ComputeSimilarityOptions o;
  o.brain_key = "sim";
  o.embeddings = Matrix(4, 2, {1, 0, 0, 1, 1, 1, 0.5, 0.2});
  o.params["metric"] = "euclidean";
  ComputeSimilarity(ds.view(), o);
  BrainInfo info = GetBrainInfo(ds, "sim");
  nlohmann::ordered_json got = BrainInfoJson(info);
  std::string timestamp = info.timestamp.substr(0, 19);  // "YYYY-MM-DDTHH:MM:SS", without the "Z"
  EXPECT_EQ(FormatRunJson(got),
            "{\n"
            "    \"key\": \"sim\",\n"
            "    \"version\": \"" + std::string(Version()) + "\",\n"
            "    \"timestamp\": \"" + timestamp + "\",\n"
            "    \"config\": {\n"
            "        \"cls\": \"fo.run_info.SklearnSimilarityConfig\",\n"
            "        \"type\": \"similarity\",\n"
            "        \"method\": \"sklearn\",\n"
            "        \"embeddings_field\": null,\n"
            "        \"model\": null,\n"
            "        \"model_kwargs\": null,\n"
            "        \"patches_field\": null,\n"
            "        \"roi_field\": null,\n"
            "        \"supports_prompts\": null,\n"
            "        \"metric\": \"euclidean\"\n"
            "    }\n"
            "}");
}

TEST(RunInfoTest, QdrantConfigInFiftyOnesOrderWithoutCredentials) {
  SimilarityConfig c;
  c.backend = "qdrant";
  c.metric = "dotproduct";
  c.params = {{"collection_name", "coll"}, {"url", "http://h:6333"}, {"api_key", "secret"},
              {"hnsw_config", {{"m", 16}}}, {"extra_param", 1}};
  std::vector<std::string> keys;
  nlohmann::ordered_json j = SimilarityConfigJson(c);
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  std::vector<std::string> want = {"cls", "type", "method", "embeddings_field", "model", "model_kwargs",
                                   "patches_field", "roi_field", "supports_prompts", "collection_name", "metric",
                                   "replication_factor", "shard_number", "write_consistency_factor", "hnsw_config",
                                   "optimizers_config", "wal_config", "extra_param"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(j["hnsw_config"]["m"], 16);
  EXPECT_EQ(j["collection_name"], "coll");
  EXPECT_EQ(FormatRunJson(j).find("secret"), std::string::npos);
  EXPECT_EQ(FormatRunJson(j).find("6333"), std::string::npos);
}

}  // namespace
}  // namespace fo
