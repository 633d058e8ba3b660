// View expressions, the stages built on them and the aggregations, each
// checked against a reference computed here from the samples as they were
// added (plain C++ loops: filters, sorts, counts).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>
#include <regex>
#include <set>

#include "fo/aggregations.h"
#include "fo/brain.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "fo/expression.h"
#include "store/expression_sql.h"
#include "store/sqlite.h"
#include "test_support.h"

namespace fo {
namespace {

using nlohmann::json;

const std::vector<std::string> kLabels = {"cat", "dog", "bird", "Cat"};
const std::vector<std::string> kNames = {"alpha", "beta", "Gamma", "delta", "o'neil"};

std::optional<double> OptDouble(const Sample& s, const std::string& f) {
  auto it = s.fields.find(f);
  if (it == s.fields.end() || it->second.is_null()) return std::nullopt;
  if (it->second.is<int64_t>()) return static_cast<double>(it->second.as<int64_t>());
  return it->second.as<double>();
}

std::optional<std::string> OptString(const Sample& s, const std::string& f) {
  auto it = s.fields.find(f);
  if (it == s.fields.end()) return std::nullopt;
  return it->second.as<std::string>();
}

const std::vector<Detection>& Dets(const Sample& s) {
  static const std::vector<Detection> none;
  auto it = s.label_fields.find("gt");
  return it == s.label_fields.end() ? none : it->second.detections;
}

class ViewExpressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::IsolateBrainConfig(store.dir);
    std::mt19937_64 rng(7);
    auto uniform = [&] { return std::uniform_real_distribution<double>(0, 1)(rng); };
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    for (int i = 0; i < 240; ++i) {
      Sample s;
      s.filepath = "/data/" + std::string(i % 2 ? "train" : "val") + "/img" + std::to_string(i) + (i % 5 ? ".jpg" : ".PNG");
      if (i % 4 == 0) s.tags.push_back("a");
      if (i % 3 == 0) s.tags.push_back("b");
      if (i % 7 != 3) {
        s.width = 32 + static_cast<int>(pick(200));
        s.height = 32 + static_cast<int>(pick(200));
      }
      if (i % 6 != 5) s.fields["confidence"] = std::round(uniform() * 100) / 100;  // ties for sort_by
      s.fields["count"] = static_cast<int64_t>(pick(10)) - 3;
      if (i % 9 != 8) s.fields["name"] = kNames[pick(kNames.size())];
      s.fields["flag"] = pick(2) == 1;
      if (i % 5 != 4) {
        ValueList kw;
        for (size_t k = 0, n = pick(4); k < n; ++k) kw.push_back(kNames[pick(3)]);
        s.fields["keywords"] = kw;
      }
      s.fields["emb"] = FloatVector{static_cast<float>(uniform()), static_cast<float>(uniform()), static_cast<float>(uniform())};
      if (i % 8 != 7) {
        auto& dets = s.label_fields["gt"].detections;
        for (size_t k = 0, n = pick(5) + (i % 8 == 0 ? 0 : 1); k < n; ++k) {
          Detection d;
          d.label = kLabels[pick(kLabels.size())];
          d.bounding_box = {uniform() * 0.5, uniform() * 0.5, uniform() * 0.5, uniform() * 0.5};
          if (pick(5)) d.confidence = std::round(uniform() * 100) / 100;
          d.attributes["iscrowd"] = static_cast<int64_t>(pick(2));
          dets.push_back(d);
        }
        if (dets.empty()) s.label_fields.erase("gt");  // the store has no empty label field
      }
      samples.push_back(std::move(s));
    }
    ds.emplace(Dataset::Create(store.db, "ds", samples));
    ids = ds->Ids();
    // The samples as stored: ids of samples and detections assigned.
    samples = ds->view().Samples();
  }

  // Ids of the samples (in dataset order) for which `keep` holds.
  std::vector<std::string> Where(const std::function<bool(const Sample&)>& keep) const {
    std::vector<std::string> out;
    for (const auto& s : samples)
      if (keep(s)) out.push_back(s.id);
    return out;
  }

  void ExpectMatch(const Expr& e, const std::function<bool(const Sample&)>& keep) {
    SCOPED_TRACE(e.ToJson().dump());
    std::vector<std::string> want = Where(keep);
    EXPECT_EQ(ds->view().Match(e).Ids(), want);
    // The JSON form compiles to the same view.
    EXPECT_EQ(ds->view().Match(Expr::FromJson(json::parse(e.ToJson().dump()))).Ids(), want);
  }

  testing::TempStore store;
  std::optional<Dataset> ds;
  std::vector<Sample> samples;
  std::vector<std::string> ids;
};

TEST_F(ViewExpressionTest, ComparisonsFollowMongoNullOrder) {
  auto conf = [](const Sample& s) { return OptDouble(s, "confidence"); };
  ExpectMatch(F("confidence") > 0.5, [&](const Sample& s) { return conf(s) && *conf(s) > 0.5; });
  ExpectMatch(F("confidence") >= 0.5, [&](const Sample& s) { return conf(s) && *conf(s) >= 0.5; });
  // null sorts before every value: a missing confidence is < 0.5.
  ExpectMatch(F("confidence") < 0.5, [&](const Sample& s) { return !conf(s) || *conf(s) < 0.5; });
  ExpectMatch(F("confidence") <= 0.5, [&](const Sample& s) { return !conf(s) || *conf(s) <= 0.5; });
  ExpectMatch(F("count") == 2, [](const Sample& s) { return OptDouble(s, "count") == 2.0; });
  ExpectMatch(F("count") != 2, [](const Sample& s) { return OptDouble(s, "count") != 2.0; });
  ExpectMatch(F("name") == Expr(), [](const Sample& s) { return !OptString(s, "name"); });
  ExpectMatch(F("name") != Expr(), [](const Sample& s) { return OptString(s, "name").has_value(); });
  ExpectMatch(F("name") == "o'neil", [](const Sample& s) { return OptString(s, "name") == "o'neil"; });
  ExpectMatch(F("flag") == true, [](const Sample& s) { return s.fields.at("flag").as<bool>(); });
  ExpectMatch(F("flag"), [](const Sample& s) { return s.fields.at("flag").as<bool>(); });
  // Two fields: null order on both sides.
  ExpectMatch(F("confidence") * 10 > F("count"), [&](const Sample& s) {
    return conf(s) && *conf(s) * 10 > *OptDouble(s, "count");
  });
  ExpectMatch(F("count") < F("confidence"), [&](const Sample& s) { return conf(s) && *OptDouble(s, "count") < *conf(s); });
}

TEST_F(ViewExpressionTest, LogicArithmeticAndMetadata) {
  auto conf = [](const Sample& s) { return OptDouble(s, "confidence"); };
  ExpectMatch((F("confidence") > 0.3) & (F("count") >= 0) & ~F("flag"), [&](const Sample& s) {
    return conf(s) && *conf(s) > 0.3 && *OptDouble(s, "count") >= 0 && !s.fields.at("flag").as<bool>();
  });
  ExpectMatch((F("count") == 1) | (F("count") == -2) | (F("name") == "beta"), [](const Sample& s) {
    double c = *OptDouble(s, "count");
    return c == 1 || c == -2 || OptString(s, "name") == "beta";
  });
  ExpectMatch((F("count") * 2 + 1) % 3 == 0, [](const Sample& s) {
    int64_t c = s.fields.at("count").as<int64_t>();
    return (c * 2 + 1) % 3 == 0;
  });
  ExpectMatch((F("confidence") - 0.5).Abs() < 0.2, [&](const Sample& s) { return !conf(s) || std::abs(*conf(s) - 0.5) < 0.2; });
  ExpectMatch(F("count") / 4 > 0.6, [](const Sample& s) { return *OptDouble(s, "count") / 4 > 0.6; });
  ExpectMatch(F("metadata.width") * F("metadata.height") >= 10000, [](const Sample& s) {
    return s.width && *s.width * *s.height >= 10000;
  });
  ExpectMatch(F("metadata.width").Exists(false), [](const Sample& s) { return !s.width; });
  ExpectMatch(F("confidence").Exists(), [&](const Sample& s) { return conf(s).has_value(); });
  ExpectMatch(F("count").IsIn({Value(1), Value(3), Value(int64_t{-3})}), [](const Sample& s) {
    int64_t c = s.fields.at("count").as<int64_t>();
    return c == 1 || c == 3 || c == -3;
  });
  ExpectMatch(F("name").IsIn({Value("beta"), Value()}), [](const Sample& s) {
    auto n = OptString(s, "name");
    return !n || *n == "beta";
  });
  ExpectMatch(F("id").IsIn({Value(ids[3]), Value(ids[10])}), [&](const Sample& s) { return s.id == ids[3] || s.id == ids[10]; });
}

TEST_F(ViewExpressionTest, ListsAndStrings) {
  auto has_tag = [](const Sample& s, const std::string& t) { return std::count(s.tags.begin(), s.tags.end(), t) > 0; };
  ExpectMatch(F("tags").Contains(Value("a")), [&](const Sample& s) { return has_tag(s, "a"); });
  ExpectMatch(F("tags").Contains({Value("a"), Value("b")}), [&](const Sample& s) { return has_tag(s, "a") || has_tag(s, "b"); });
  ExpectMatch(F("tags").Contains({Value("a"), Value("b")}, true), [&](const Sample& s) { return has_tag(s, "a") && has_tag(s, "b"); });
  ExpectMatch(F("tags").Length() == 0, [](const Sample& s) { return s.tags.empty(); });
  auto kw = [](const Sample& s) -> std::optional<ValueList> {
    auto it = s.fields.find("keywords");
    if (it == s.fields.end()) return std::nullopt;
    return it->second.as<ValueList>();
  };
  ExpectMatch(F("keywords").Length() >= 2, [&](const Sample& s) { return kw(s) && kw(s)->size() >= 2; });
  ExpectMatch(F("keywords").Exists(), [&](const Sample& s) { return kw(s).has_value(); });
  ExpectMatch(F("keywords").Filter(F() == "beta").Length() > 1, [&](const Sample& s) {
    auto k = kw(s);
    return k && std::count(k->begin(), k->end(), Value("beta")) > 1;
  });
  ExpectMatch(F("keywords")[0] == "alpha", [&](const Sample& s) {
    auto k = kw(s);
    return k && !k->empty() && k->front() == Value("alpha");
  });
  ExpectMatch(F("keywords")[-1] == "beta", [&](const Sample& s) {
    auto k = kw(s);
    return k && !k->empty() && k->back() == Value("beta");
  });

  auto ends = [](const std::string& s, const std::string& x) { return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0; };
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  ExpectMatch(F("filepath").StartsWith("/data/train"), [](const Sample& s) { return s.filepath.rfind("/data/train", 0) == 0; });
  ExpectMatch(F("filepath").EndsWith(std::vector<std::string>{".png", ".gif"}), [&](const Sample& s) { return ends(s.filepath, ".png"); });
  ExpectMatch(F("filepath").EndsWith(".png", false), [&](const Sample& s) { return ends(lower(s.filepath), ".png"); });
  ExpectMatch(F("name").StartsWith("g", false), [&](const Sample& s) { return OptString(s, "name") && lower(*OptString(s, "name"))[0] == 'g'; });
  ExpectMatch(F("filepath").ReMatch("img1[0-9]\\.jpg$"), [](const Sample& s) { return std::regex_search(s.filepath, std::regex("img1[0-9]\\.jpg$")); });
  ExpectMatch(F("name").ReMatch("^[a-d]", false), [](const Sample& s) {
    return OptString(s, "name") && std::regex_search(*OptString(s, "name"), std::regex("^[a-d]", std::regex::icase));
  });
}

TEST_F(ViewExpressionTest, LabelLists) {
  auto count_if = [](const Sample& s, const std::function<bool(const Detection&)>& f) {
    return std::count_if(Dets(s).begin(), Dets(s).end(), f);
  };
  ExpectMatch(F("gt.detections.label").Contains(Value("cat")), [&](const Sample& s) {
    return count_if(s, [](const Detection& d) { return d.label == "cat"; }) > 0;
  });
  ExpectMatch(F("gt.detections").Length() > 2, [](const Sample& s) { return Dets(s).size() > 2; });
  ExpectMatch(F("gt").Exists(false), [](const Sample& s) { return Dets(s).empty(); });
  ExpectMatch(F("gt.detections").Filter((F("label") == "cat") & (F("confidence") > 0.5)).Length() >= 1, [&](const Sample& s) {
    return count_if(s, [](const Detection& d) { return d.label == "cat" && d.confidence && *d.confidence > 0.5; }) >= 1;
  });
  ExpectMatch(F("gt.detections.confidence").Max() > 0.9, [](const Sample& s) {
    double m = -1;
    for (const auto& d : Dets(s))
      if (d.confidence) m = std::max(m, *d.confidence);
    return m > 0.9;
  });
  ExpectMatch(F("gt.detections").Filter(F("bounding_box")[2] * F("bounding_box")[3] > 0.1).Length() > 0, [&](const Sample& s) {
    return count_if(s, [](const Detection& d) { return d.bounding_box[2] * d.bounding_box[3] > 0.1; }) > 0;
  });
  ExpectMatch(F("gt.detections").Filter(F("iscrowd") == 1).Length() == F("gt.detections").Length(), [&](const Sample& s) {
    return count_if(s, [](const Detection& d) { return d.attributes.at("iscrowd").as<int64_t>() == 1; }) ==
           static_cast<long>(Dets(s).size());
  });
  ExpectMatch(F("gt.detections.confidence").Sum() > 1.5, [](const Sample& s) {
    double t = 0;
    for (const auto& d : Dets(s)) t += d.confidence.value_or(0);
    return t > 1.5;
  });
}

TEST_F(ViewExpressionTest, BadExpressionsSayWhatIsWrong) {
  auto expect_error = [&](const std::function<void()>& f, const std::string& needle) {
    try {
      f();
      FAIL() << "expected an error mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error([&] { ds->view().Match(F("nope") > 1).Count(); }, "no field 'nope'");
  expect_error([&] { ds->view().Match(F("metadata.frame_rate") > 1).Count(); }, "metadata.width");
  expect_error([&] { ds->view().Match(F("gt.detections.label") == "cat").Count(); }, "not a list");
  expect_error([&] { ds->view().Match(F("count").Length() > 1).Count(); }, "applies to a list");
  expect_error([&] { ds->view().Match(F("tags")).Count(); }, ".length() > 0");
  expect_error([&] { ds->view().Match(F("emb") > 1).Count(); }, "vector field 'emb'");
  expect_error([&] { Expr::FromJson(json::parse(R"({"$frobnicate": [1, 2]})")); }, "unknown view expression operator '$frobnicate'");
  expect_error([&] { Expr::FromJson(json::parse(R"({"$gt": [1]})")); }, "$gt takes a list of 2");
  expect_error([&] { ds->view().Match(F("name").ReMatch("(")).Count(); }, "invalid regular expression '('");
}

TEST_F(ViewExpressionTest, ExistsAndSortBy) {
  EXPECT_EQ(ds->view().Exists("confidence").Ids(), Where([](const Sample& s) { return OptDouble(s, "confidence").has_value(); }));
  EXPECT_EQ(ds->view().Exists("gt", false).Ids(), Where([](const Sample& s) { return Dets(s).empty(); }));

  // Reference: a stable sort of the dataset order, nulls first (last when reversed).
  auto sorted = [&](const std::function<std::optional<double>(const Sample&)>& key, bool reverse) {
    std::vector<size_t> order(samples.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      auto ka = key(samples[a]), kb = key(samples[b]);
      if (reverse) std::swap(ka, kb);
      if (!ka || !kb) return !ka && kb;
      return *ka < *kb;
    });
    std::vector<std::string> out;
    for (size_t i : order) out.push_back(samples[i].id);
    return out;
  };
  auto conf = [](const Sample& s) { return OptDouble(s, "confidence"); };
  EXPECT_EQ(ds->view().SortBy("confidence").Ids(), sorted(conf, false));
  EXPECT_EQ(ds->view().SortBy("confidence", true).Ids(), sorted(conf, true));
  auto n_dets = [](const Sample& s) { return std::optional<double>(static_cast<double>(Dets(s).size())); };
  EXPECT_EQ(ds->view().SortBy(F("gt.detections").Length(), true).Ids(), sorted(n_dets, true));
  // Composed: match, sort, then a slice of the sorted rows.
  auto matched = Where([](const Sample& s) { return !s.tags.empty(); });
  auto all_sorted = sorted(conf, false);
  std::vector<std::string> want;
  for (const auto& id : all_sorted)
    if (std::count(matched.begin(), matched.end(), id)) want.push_back(id);
  want = std::vector<std::string>(want.begin() + 5, want.begin() + 15);
  EXPECT_EQ(ds->view().Match(F("tags").Length() > 0).SortBy("confidence").Skip(5).Limit(10).Ids(), want);
  EXPECT_EQ(ds->view().MatchTags({"a", "b"}).SortBy("confidence").Skip(5).Limit(10).Ids(), want);
  EXPECT_EQ(ds->view().SortBy("confidence").Skip(5).Limit(10).First().id, all_sorted[5]);
  EXPECT_THROW(ds->view().SortBy("gt.detections.confidence").Ids(), Error);
}

TEST_F(ViewExpressionTest, ShuffleIsASeededPermutation) {
  auto a = ds->view().Shuffle(3).Ids(), b = ds->view().Shuffle(3).Ids(), c = ds->view().Shuffle(4).Ids();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, ids);
  std::sort(a.begin(), a.end());
  auto sorted_ids = ids;
  std::sort(sorted_ids.begin(), sorted_ids.end());
  EXPECT_EQ(a, sorted_ids);
  EXPECT_EQ(ds->view().Match(F("flag")).Shuffle(1).Count(), Where([](const Sample& s) { return s.fields.at("flag").as<bool>(); }).size());
}

TEST_F(ViewExpressionTest, SelectAndExcludeFieldsShapeTheSamples) {
  auto picked = ds->view().SelectFields({"confidence", "gt"}).Samples();
  ASSERT_EQ(picked.size(), samples.size());
  for (size_t i = 0; i < picked.size(); ++i) {
    std::set<std::string> want_fields;
    if (samples[i].fields.count("confidence")) want_fields.insert("confidence");
    std::set<std::string> got_fields;
    for (const auto& [k, v] : picked[i].fields) got_fields.insert(k);
    EXPECT_EQ(got_fields, want_fields);
    EXPECT_EQ(picked[i].label_fields.size(), samples[i].label_fields.size());
    EXPECT_EQ(picked[i].filepath, samples[i].filepath);
    EXPECT_EQ(picked[i].tags, samples[i].tags);
    EXPECT_EQ(picked[i].width, samples[i].width);
  }
  auto dropped = ds->view().ExcludeFields({"gt", "emb"}).Stream();
  size_t n = 0;
  while (auto s = dropped.Next()) {
    EXPECT_TRUE(s->label_fields.empty());
    EXPECT_FALSE(s->fields.count("emb"));
    EXPECT_EQ(s->fields.count("count"), 1u);
    ++n;
  }
  EXPECT_EQ(n, samples.size());
  EXPECT_THROW(ds->view().SelectFields({"nope"}).Count(), Error);
  EXPECT_THROW(ds->view().ExcludeFields({"filepath"}).Count(), Error);
  // An excluded field can no longer be matched on.
  EXPECT_THROW(ds->view().ExcludeFields({"count"}).Match(F("count") > 1).Count(), Error);
}

TEST_F(ViewExpressionTest, FilterLabelsMatchLabelsAndLimitLabels) {
  auto keep = [](const Detection& d) { return d.confidence && *d.confidence > 0.6; };
  auto filtered = ds->view().FilterLabels("gt", F("confidence") > 0.6);
  std::vector<std::string> want_ids;
  std::map<std::string, std::vector<std::string>> want_dets;
  for (const auto& s : samples) {
    for (const auto& d : Dets(s))
      if (keep(d)) want_dets[s.id].push_back(d.id);
    if (want_dets.count(s.id)) want_ids.push_back(s.id);
  }
  EXPECT_EQ(filtered.Ids(), want_ids);
  for (const auto& s : filtered.Samples()) {
    std::vector<std::string> got;
    for (const auto& d : Dets(s)) got.push_back(d.id);
    EXPECT_EQ(got, want_dets[s.id]);
  }
  // only_matches=false keeps every sample; the labels are still filtered.
  auto all = ds->view().FilterLabels("gt", F("confidence") > 0.6, false);
  EXPECT_EQ(all.Count(), samples.size());
  size_t shown = 0;
  for (const auto& s : all.Samples()) shown += Dets(s).size();
  size_t want_shown = 0;
  for (const auto& [id, d] : want_dets) want_shown += d.size();
  EXPECT_EQ(shown, want_shown);
  EXPECT_EQ(CountValuesOf(all, "gt.detections"), want_shown);
  // A later match sees the filtered labels.
  EXPECT_EQ(all.Match(F("gt.detections").Length() >= 2).Ids(), Where([&](const Sample& s) { return want_dets[s.id].size() >= 2; }));

  // limit_labels after a filter: the first two of the filtered labels.
  auto limited = ds->view().FilterLabels("gt", F("label") != "bird").LimitLabels("gt", 2);
  for (const auto& s : limited.Samples()) {
    std::vector<std::string> want;
    for (const auto& d : Dets(samples[std::find(ids.begin(), ids.end(), s.id) - ids.begin()]))
      if (d.label != "bird" && want.size() < 2) want.push_back(d.id);
    std::vector<std::string> got;
    for (const auto& d : Dets(s)) got.push_back(d.id);
    EXPECT_EQ(got, want) << s.id;
  }
  EXPECT_EQ(ds->view().LimitLabels("gt", 1).Match(F("gt.detections").Length() > 1).Count(), 0u);

  // match_labels: samples with a matching label; the labels are not changed.
  auto cats = ds->view().MatchLabels(F("label") == "cat");
  EXPECT_EQ(cats.Ids(), Where([](const Sample& s) {
              return std::any_of(Dets(s).begin(), Dets(s).end(), [](const Detection& d) { return d.label == "cat"; });
            }));
  EXPECT_EQ(cats.First().label_fields.at("gt").detections.size(), Dets(samples[std::find(ids.begin(), ids.end(), cats.First().id) - ids.begin()]).size());
  EXPECT_EQ(ds->view().MatchLabels(F("label") == "cat", {}, {"gt"}, false).Count(), samples.size() - cats.Count());
  const std::string some_label = Dets(samples[1]).front().id;
  EXPECT_EQ(ds->view().MatchLabels(std::nullopt, {some_label}).Ids(), std::vector<std::string>{samples[1].id});
  EXPECT_THROW(ds->view().FilterLabels("count", F("label") == "cat").Count(), Error);
}

TEST_F(ViewExpressionTest, Aggregations) {
  auto view = ds->view().Match(F("count") >= 0);
  std::vector<const Sample*> in;
  for (const auto& s : samples)
    if (s.fields.at("count").as<int64_t>() >= 0) in.push_back(&s);
  // count
  size_t with_conf = 0, n_dets = 0;
  std::vector<double> confs, det_confs;
  std::map<std::string, size_t> tag_counts, label_counts;
  int64_t count_sum = 0;
  for (const auto* s : in) {
    if (auto c = OptDouble(*s, "confidence")) {
      ++with_conf;
      confs.push_back(*c);
    }
    n_dets += Dets(*s).size();
    for (const auto& d : Dets(*s)) {
      ++label_counts[d.label];
      if (d.confidence) det_confs.push_back(*d.confidence);
    }
    for (const auto& t : s->tags) ++tag_counts[t];
    count_sum += s->fields.at("count").as<int64_t>();
  }
  EXPECT_EQ(CountValuesOf(view, "confidence"), with_conf);
  EXPECT_EQ(CountValuesOf(view, "gt.detections"), n_dets);
  EXPECT_EQ(CountValuesOf(view, "gt.detections.label"), n_dets);
  // count_values
  auto labels = CountValues(view, "gt.detections.label");
  ASSERT_EQ(labels.size(), label_counts.size());
  for (const auto& [v, n] : labels) EXPECT_EQ(n, label_counts[v.as<std::string>()]);
  auto tags = CountValues(view, "tags");
  ASSERT_EQ(tags.size(), tag_counts.size());
  for (const auto& [v, n] : tags) EXPECT_EQ(n, tag_counts[v.as<std::string>()]);
  auto names = CountValues(view, "name");  // missing names count under null
  size_t total = 0;
  for (const auto& [v, n] : names) total += n;
  EXPECT_EQ(total, in.size());
  EXPECT_TRUE(names.front().first.is_null());
  // distinct
  std::vector<Value> want_distinct;
  for (const auto& [l, n] : label_counts) want_distinct.emplace_back(l);
  EXPECT_EQ(Distinct(view, "gt.detections.label"), want_distinct);
  // bounds, mean, sum, std
  auto b = Bounds(view, "gt.detections.confidence");
  EXPECT_DOUBLE_EQ(b.first.as<double>(), *std::min_element(det_confs.begin(), det_confs.end()));
  EXPECT_DOUBLE_EQ(b.second.as<double>(), *std::max_element(det_confs.begin(), det_confs.end()));
  double mean = std::accumulate(confs.begin(), confs.end(), 0.0) / static_cast<double>(confs.size());
  EXPECT_NEAR(Mean(view, "confidence"), mean, 1e-12);
  EXPECT_EQ(Sum(view, "count"), Value(count_sum));
  double ss = 0;
  for (double c : confs) ss += (c - mean) * (c - mean);
  EXPECT_NEAR(Std(view, "confidence"), std::sqrt(ss / static_cast<double>(confs.size())), 1e-12);
  EXPECT_NEAR(Std(view, "confidence", true), std::sqrt(ss / static_cast<double>(confs.size() - 1)), 1e-12);
  EXPECT_NEAR(Sum(view, F("confidence") * 2).as<double>(), 2 * std::accumulate(confs.begin(), confs.end(), 0.0), 1e-9);
  auto empty = ds->view().Match(F("count") > 100);
  EXPECT_EQ(Mean(empty, "confidence"), 0.0);
  EXPECT_TRUE(Bounds(empty, "confidence").first.is_null());
  EXPECT_EQ(Sum(empty, "count"), Value(0.0));
  // values: one per sample in view order; lists per sample
  auto sorted = view.SortBy("confidence", true);
  auto sorted_ids = sorted.Ids();
  auto vals = ValuesOf(sorted, "confidence");
  auto lists = ValuesOf(sorted, "gt.detections.label");
  auto flags = ValuesOf(sorted, "flag");
  ASSERT_EQ(vals.size(), sorted_ids.size());
  ASSERT_EQ(lists.size(), sorted_ids.size());
  for (size_t i = 0; i < sorted_ids.size(); ++i) {
    const Sample& s = samples[std::find(ids.begin(), ids.end(), sorted_ids[i]) - ids.begin()];
    auto c = OptDouble(s, "confidence");
    EXPECT_EQ(vals[i], c ? Value(*c) : Value());
    EXPECT_EQ(flags[i], s.fields.at("flag"));
    if (Dets(s).empty()) {
      EXPECT_TRUE(lists[i].is_null());
    } else {
      ValueList want;
      for (const auto& d : Dets(s)) want.emplace_back(d.label);
      EXPECT_EQ(lists[i], Value(want));
    }
  }
  EXPECT_THROW(Distinct(view, "gt.detections"), Error);
}

TEST_F(ViewExpressionTest, EveryStageRoundTripsThroughJson) {
  const std::string some_label = Dets(samples[1]).front().id;
  std::vector<View> views = {
      ds->view().Match((F("confidence") > 0.2) & F("name").StartsWith(std::vector<std::string>{"$x", "a"})),
      ds->view().Exists("gt", false).SortBy("confidence", true),
      ds->view().SortBy(F("gt.detections").Length()).Skip(3).Limit(20),
      ds->view().SelectFields({"confidence"}).ExcludeFields({"confidence"}),
      ds->view().Shuffle(9).Take(10, 3),
      ds->view().FilterLabels("gt", F("label").IsIn({Value("cat"), Value("dog")}), false).LimitLabels("gt", 1),
      ds->view().MatchLabels(F("confidence") > 0.5, {}, {"gt"}, false),
      ds->view().MatchLabels(std::nullopt, {some_label}),
      ds->view().MatchTags({"a"}, true).Select({ids[0], ids[4], ids[8]}).Exclude({ids[4]}),
  };
  for (const auto& v : views) {
    json j = json::parse(v.ToJson().dump());
    SCOPED_TRACE(j.dump());
    View back = View::FromJson(ds->view(), j);
    EXPECT_EQ(back.ToJson(), j);
    EXPECT_EQ(back.Ids(), v.Ids());
    auto a = back.Samples(), b = v.Samples();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].fields.size(), b[i].fields.size());
      EXPECT_EQ(Dets(a[i]).size(), Dets(b[i]).size());
    }
  }
  EXPECT_EQ(views[0].ToJson()[0]["_cls"], "fiftyone.core.stages.Match");
  EXPECT_EQ(views[0].ToJson()[0]["kwargs"][0][1]["$and"][0], json::parse(R"({"$gt": ["$confidence", 0.2]})"));
  EXPECT_THROW(View::FromJson(ds->view(), json::parse(R"([{"_cls": "fiftyone.core.stages.Frobnicate"}])")), Error);
  EXPECT_THROW(View::FromJson(ds->view(), json::parse(R"([{"_cls": "fiftyone.core.stages.Limit", "kwargs": [["limit", "x"]]}])")), Error);
}

TEST_F(ViewExpressionTest, SimilarityOnAViewRestrictsToItsRows) {
  ComputeSimilarityOptions o;
  o.brain_key = "sim";
  o.backend = "sklearn";
  o.embeddings_field = "emb";
  o.params["metric"] = "euclidean";
  ComputeSimilarity(ds->view(), o);
  const std::vector<float> q = {0.5f, 0.2f, 0.9f};
  auto view = ds->view().FilterLabels("gt", F("label") == "cat").Match(F("confidence") < 0.7).SortBy("count");
  SortBySimilarityOptions so;
  so.k = 15;
  so.brain_key = "sim";
  auto got = SortBySimilarity(view, SimilarityQuery::ByVector(q), so).Ids();
  // Brute force over the view's samples.
  std::vector<std::pair<double, std::string>> scored;
  for (const auto& id : view.Ids()) {
    const Sample& s = samples[std::find(ids.begin(), ids.end(), id) - ids.begin()];
    const auto& e = s.fields.at("emb").as<FloatVector>();
    double d = 0;
    for (size_t i = 0; i < 3; ++i) d += (e[i] - q[i]) * (e[i] - q[i]);
    scored.emplace_back(std::sqrt(d), id);
  }
  std::sort(scored.begin(), scored.end());
  ASSERT_GE(scored.size(), 15u);
  std::vector<std::string> want;
  for (size_t i = 0; i < 15; ++i) want.push_back(scored[i].second);
  EXPECT_EQ(got, want);
  // Stages after the similarity sort keep its order.
  auto after = SortBySimilarity(view, SimilarityQuery::ByVector(q), so).Match(F("flag"));
  std::vector<std::string> want_after;
  for (const auto& id : want)
    if (samples[std::find(ids.begin(), ids.end(), id) - ids.begin()].fields.at("flag").as<bool>()) want_after.push_back(id);
  EXPECT_EQ(after.Ids(), want_after);
  auto rows = SortBySimilarity(view, SimilarityQuery::ByVector(q), so).SortBy("count").Rows();
  for (const auto& r : rows) EXPECT_TRUE(r.distance.has_value());
}

// fo_field (the fast reader of one key of a fields object) against SQLite's
// own json_extract on the same texts.
TEST(FoFieldTest, AgreesWithJsonExtract) {
  testing::TempStore st;
  auto& db = st.db->sqlite();
  std::lock_guard lock(db.mutex());
  internal::RegisterExpressionFunctions(db);
  const std::vector<std::string> texts = {
      R"({})",
      R"({"a":1,"b":-2.5,"c":"x","d":true,"e":false,"f":null})",
      R"({"big":9223372036854775807,"exp":1.5e-07,"neg":-0.0,"E":2E3})",
      R"({"nested":{"a":[1,{"b":"}"}]},"a":"after nested"})",
      R"({"list":[1,"two",[3]],"s":"quote \" and \\ and \u00e9 and \n"})",
      R"({"k\u00e9y":"v2","with space":"v3","a.b":4})",
      R"( { "a" : 1 , "b" : [ 1 , 2 ] , "c" : "sp aced" } )",
      R"({"str":"[not a list]","empty":"","u":"\ud83d\ude00","a":"last"})",
  };
  const std::vector<std::string> keys = {"a",   "b",    "c",      "d",   "e",          "f",   "big", "exp",   "neg",
                                         "E",   "nested", "list", "s",   "with space", "a.b", "str", "empty", "u",
                                         "missing", "k\xc3\xa9y"};
  const std::string path = "'$.\"' || ?2 || '\"'";
  auto cmp = db.Prepare("SELECT fo_field(?1, ?2) IS json_extract(?1, " + path + "), typeof(fo_field(?1, ?2)), typeof(json_extract(?1, " +
                        path + ")), quote(fo_field(?1, ?2)), quote(json_extract(?1, " + path + "))");
  int compared = 0;
  for (const auto& text : texts) {
    for (const auto& key : keys) {
      // json_extract matches a key by its raw text, so it misses one
      // written with a \u escape; fo_field decodes it (checked below).
      if (key == "k\xc3\xa9y" && text.find("\\u00e9y") != std::string::npos) continue;
      cmp.Bind(1, text).Bind(2, key);
      ASSERT_TRUE(cmp.Step());
      EXPECT_EQ(cmp.Int(0), 1) << text << " [" << key << "]: fo_field " << cmp.Text(3) << ", json_extract " << cmp.Text(4);
      EXPECT_EQ(cmp.Text(1), cmp.Text(2)) << text << " [" << key << "]";
      cmp.Reset();
      ++compared;
    }
  }
  EXPECT_EQ(compared, static_cast<int>(texts.size() * keys.size()) - 1);
  // A key written with a quote escaped in the JSON text is found by its value.
  auto q = db.Prepare("SELECT fo_field(?, ?)");
  q.Bind(1, std::string(R"({"key \"q\"":"v1"})")).Bind(2, std::string("key \"q\""));
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Text(0), "v1");
  q.Reset();
  q.Bind(1, texts[5]).Bind(2, std::string("k\xc3\xa9y"));
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Text(0), "v2");
}

}  // namespace
}  // namespace fo
