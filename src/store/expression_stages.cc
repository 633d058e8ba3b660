// The stages built on view expressions (match, exists, sort_by,
// select_fields / exclude_fields, shuffle, filter_labels, match_labels,
// limit_labels), each compiled into the view's one SQL query
// (store/view_query.h) or into the shape of the samples it returns.
#include <algorithm>
#include <random>
#include <unordered_set>

#include "fo/database.h"
#include "fo/error.h"
#include "fo/view.h"
#include "store/expression_sql.h"
#include "store/stage_repr.h"
#include "store/stages.h"
#include "store/view_query.h"

namespace fo {

using internal::ExprEnv;
using internal::SampleShape;
using internal::Stage;
using internal::StageJson;
using internal::ViewQuery;
using nlohmann::json;

namespace {

// The expression environment of the view compiled so far; takes the store's
// mutex for the field types.
ExprEnv EnvOf(const View& input, const ViewQuery& q) {
  auto& db = input.database()->sqlite();
  std::lock_guard lock(db.mutex());
  internal::RegisterExpressionFunctions(db);
  return internal::LoadExprEnv(db, q.dataset_id, q.shape);
}

// Keeps the rows whose sample (the row `s` of samples) satisfies `condition`.
void AddSampleCondition(ViewQuery& q, const std::string& condition) {
  if (q.whole_dataset) {  // one scan of the dataset's samples
    q.sql = "SELECT s.seq AS k, s.seq AS o FROM samples AS s WHERE s.dataset_id = ? AND " + condition;
    q.params = {q.dataset_id};
  } else {
    // The join also drops rows of deleted samples.
    q.sql = "SELECT v.k AS k, v.o AS o FROM (" + q.sql + ") AS v JOIN samples AS s ON s.seq = v.k WHERE " + condition;
    q.from_key_list = false;
  }
  q.whole_dataset = false;
}

std::shared_ptr<SampleShape> CopyShape(const ViewQuery& q) {
  return q.shape ? std::make_shared<SampleShape>(*q.shape) : std::make_shared<SampleShape>();
}

void RequireLabelField(const ExprEnv& env, const std::string& field, const char* stage) {
  auto it = env.field_types.find(field);
  if (it == env.field_types.end() || it->second != "detections") {
    std::string fields;
    for (const auto& [name, type] : env.field_types)
      if (type == "detections") fields += (fields.empty() ? "" : ", ") + name;
    throw InvalidArgument(std::string(stage) + ": '" + field + "' is not a label field of the dataset (label fields: " +
                          (fields.empty() ? "none" : fields) + ")");
  }
}

class MatchStage : public Stage {
 public:
  explicit MatchStage(Expr filter) : filter_(std::move(filter)) {}
  void Compile(const View& input, ViewQuery& q) const override {
    AddSampleCondition(q, internal::SampleConditionSql(EnvOf(input, q), filter_.ToJson()));
  }
  json ToJson() const override { return StageJson("Match", {{"filter", filter_.ToJson()}}); }

 private:
  Expr filter_;
};

class ExistsStage : public Stage {
 public:
  ExistsStage(std::string field, bool exists) : field_(std::move(field)), exists_(exists) {}
  void Compile(const View& input, ViewQuery& q) const override {
    AddSampleCondition(q, internal::SampleConditionSql(EnvOf(input, q), F(field_).Exists(exists_).ToJson()));
  }
  json ToJson() const override { return StageJson("Exists", {{"field", field_}, {"bool", exists_}}); }

 private:
  std::string field_;
  bool exists_;
};

class SortByStage : public Stage {
 public:
  // `field` is empty when sorting by an expression.
  SortByStage(std::string field, Expr expr, bool reverse) : field_(std::move(field)), expr_(std::move(expr)), reverse_(reverse) {}

  void Compile(const View& input, ViewQuery& q) const override {
    auto values = internal::ExpressionValuesSql(EnvOf(input, q), expr_.ToJson());
    if (values.is_list)
      throw InvalidArgument("sort_by needs one value per sample, but " + expr_.ToJson().dump() +
                            " is a list; sort by e.g. F(...).length() or F(...).max()");
    const std::string order = values.value + (reverse_ ? " DESC" : "") + ", v.o";
    const std::string rows = "FROM (" + q.sql + ") AS v JOIN samples AS s ON s.seq = v.k";
    if (q.extras) {
      // The rows carry extras indexed by their old position: reorder them here.
      auto& db = input.database()->sqlite();
      std::lock_guard lock(db.mutex());
      std::vector<internal::KeyRow> sorted;
      auto st = db.Prepare("SELECT v.k, v.o " + rows + " ORDER BY " + order);
      int i = 1;
      for (const auto& p : q.params) std::visit([&](const auto& x) { st.Bind(i++, x); }, p);
      while (st.Step()) sorted.push_back({st.Int(0), st.Int(1)});
      internal::ReplaceByKeys(q, internal::KeysOf(sorted), internal::PickExtras(q, sorted), /*input_unchanged=*/true);
      return;
    }
    if (q.whole_dataset) {  // one scan of the dataset's samples, no self-join
      q.sql = "SELECT s.seq AS k, row_number() OVER (ORDER BY " + values.value + (reverse_ ? " DESC" : "") +
              ", s.seq) AS o FROM samples AS s WHERE s.dataset_id = ?";
      q.params = {q.dataset_id};
    } else {
      q.sql = "SELECT v.k AS k, row_number() OVER (ORDER BY " + order + ") AS o " + rows;
    }
    q.from_key_list = false;
    q.whole_dataset = false;
  }

  json ToJson() const override {
    return StageJson("SortBy", {{"field_or_expr", field_.empty() ? expr_.ToJson() : json(field_)}, {"reverse", reverse_}});
  }

 private:
  std::string field_;
  Expr expr_;
  bool reverse_;
};

// The fields every sample has, which select_fields always keeps.
bool IsDefaultField(const std::string& f) { return f == "id" || f == "filepath" || f == "tags" || f == "metadata"; }

class SelectFieldsStage : public Stage {
 public:
  SelectFieldsStage(std::vector<std::string> fields, bool exclude) : fields_(std::move(fields)), exclude_(exclude) {}

  void Compile(const View& input, ViewQuery& q) const override {
    ExprEnv env = EnvOf(input, q);
    auto shape = CopyShape(q);
    std::set<std::string> named;
    for (const auto& f : fields_) {
      if (IsDefaultField(f)) {
        if (exclude_) throw InvalidArgument("exclude_fields: default field '" + f + "' cannot be excluded");
        continue;
      }
      if (!env.field_types.count(f) || f.find('.') != std::string::npos)
        throw InvalidArgument(std::string(exclude_ ? "exclude_fields" : "select_fields") + ": the dataset has no field '" + f + "'");
      named.insert(f);
    }
    if (exclude_) {
      shape->excluded.insert(named.begin(), named.end());
    } else if (shape->selected) {
      std::set<std::string> both;
      for (const auto& f : named)
        if (shape->selected->count(f)) both.insert(f);
      shape->selected = std::move(both);
    } else {
      shape->selected = std::move(named);
    }
    q.shape = std::move(shape);
  }

  json ToJson() const override {
    return StageJson(exclude_ ? "ExcludeFields" : "SelectFields", {{"field_names", fields_}, {"_allow_missing", false}});
  }

 private:
  std::vector<std::string> fields_;
  bool exclude_;
};

class ShuffleStage : public Stage {
 public:
  explicit ShuffleStage(uint64_t seed) : seed_(seed) {}

  void Compile(const View& input, ViewQuery& q) const override {
    auto& db = input.database()->sqlite();
    std::lock_guard lock(db.mutex());
    std::vector<internal::KeyRow> rows = internal::EvaluateKeys(db, q);
    // Fisher-Yates over mt19937_64 (whose output the standard fixes): the
    // same order for a seed on every platform.
    std::mt19937_64 rng(seed_);
    for (size_t i = 0; i + 1 < rows.size(); ++i) std::swap(rows[i], rows[i + static_cast<size_t>(rng() % (rows.size() - i))]);
    internal::ReplaceByKeys(q, internal::KeysOf(rows), internal::PickExtras(q, rows), /*input_unchanged=*/true);
  }
  json ToJson() const override { return StageJson("Shuffle", {{"seed", seed_}}); }

 private:
  uint64_t seed_;
};

class FilterLabelsStage : public Stage {
 public:
  FilterLabelsStage(std::string field, Expr filter, bool only_matches)
      : field_(std::move(field)), filter_(std::move(filter)), only_matches_(only_matches) {}

  void Compile(const View& input, ViewQuery& q) const override {
    ExprEnv env = EnvOf(input, q);
    RequireLabelField(env, field_, "filter_labels");
    auto shape = CopyShape(q);
    shape->label_steps[field_].push_back({filter_.ToJson(), 0});
    env.shape = shape;
    q.shape = shape;
    if (!only_matches_) {
      // Nothing is compiled into the rows: compile once so a bad filter fails here.
      internal::LabelConditionSql(env, filter_.ToJson(), "l", field_);
      return;
    }
    AddSampleCondition(q, "EXISTS (SELECT 1 FROM labels AS fl WHERE fl.sample_seq = s.seq AND " +
                              internal::VisibleLabelsSql(env, field_, "fl") + ")");
  }
  json ToJson() const override {
    return StageJson("FilterLabels", {{"field", field_}, {"filter", filter_.ToJson()}, {"only_matches", only_matches_}});
  }

 private:
  std::string field_;
  Expr filter_;
  bool only_matches_;
};

class LimitLabelsStage : public Stage {
 public:
  LimitLabelsStage(std::string field, size_t limit) : field_(std::move(field)), limit_(limit) {}
  void Compile(const View& input, ViewQuery& q) const override {
    RequireLabelField(EnvOf(input, q), field_, "limit_labels");
    auto shape = CopyShape(q);
    shape->label_steps[field_].push_back({std::nullopt, limit_});
    q.shape = std::move(shape);
  }
  json ToJson() const override { return StageJson("LimitLabels", {{"field", field_}, {"limit", limit_}}); }

 private:
  std::string field_;
  size_t limit_;
};

class MatchLabelsStage : public Stage {
 public:
  MatchLabelsStage(std::optional<Expr> filter, std::vector<std::string> ids, std::vector<std::string> fields, bool matches)
      : filter_(std::move(filter)), ids_(std::move(ids)), fields_(std::move(fields)), matches_(matches) {
    if (!filter_ && ids_.empty()) throw InvalidArgument("match_labels needs a filter or label ids");
  }

  void Compile(const View& input, ViewQuery& q) const override {
    ExprEnv env = EnvOf(input, q);
    std::vector<std::string> fields = fields_;
    if (fields.empty())
      for (const auto& [name, type] : env.field_types)
        if (type == "detections" && (!env.shape || env.shape->Keeps(name))) fields.push_back(name);
    std::string any;
    for (const auto& field : fields) {
      RequireLabelField(env, field, "match_labels");
      std::string cond = "ml.sample_seq = s.seq AND " + internal::VisibleLabelsSql(env, field, "ml");
      if (!ids_.empty()) cond += " AND ml.id IN (SELECT value FROM json_each(" + SqlString(json(ids_).dump()) + "))";
      if (filter_) cond += " AND " + internal::LabelConditionSql(env, filter_->ToJson(), "ml", field);
      any += (any.empty() ? "" : " OR ") + std::string("EXISTS (SELECT 1 FROM labels AS ml WHERE ") + cond + ")";
    }
    if (any.empty()) any = "0";
    AddSampleCondition(q, matches_ ? "(" + any + ")" : "(NOT (" + any + "))");
  }
  json ToJson() const override {
    return StageJson("MatchLabels", {{"labels", nullptr},
                                     {"ids", ids_.empty() ? json(nullptr) : json(ids_)},
                                     {"tags", nullptr},
                                     {"filter", filter_ ? filter_->ToJson() : json(nullptr)},
                                     {"fields", fields_.empty() ? json(nullptr) : json(fields_)},
                                     {"bool", matches_}});
  }

 private:
  static std::string SqlString(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }

  std::optional<Expr> filter_;
  std::vector<std::string> ids_, fields_;
  bool matches_;
};

}  // namespace

void View::Validate() const { Compile(); }

View View::Match(const Expr& filter) const { return With(std::make_shared<MatchStage>(filter)); }
View View::Exists(const std::string& field, bool exists) const { return With(std::make_shared<ExistsStage>(field, exists)); }
View View::SortBy(const std::string& field, bool reverse) const {
  return With(std::make_shared<SortByStage>(field, F(field), reverse));
}
View View::SortBy(const Expr& expr, bool reverse) const { return With(std::make_shared<SortByStage>("", expr, reverse)); }
View View::SelectFields(std::vector<std::string> fields) const {
  return With(std::make_shared<SelectFieldsStage>(std::move(fields), false));
}
View View::ExcludeFields(std::vector<std::string> fields) const {
  return With(std::make_shared<SelectFieldsStage>(std::move(fields), true));
}
View View::Shuffle(uint64_t seed) const { return With(std::make_shared<ShuffleStage>(seed)); }
View View::FilterLabels(const std::string& field, const Expr& filter, bool only_matches) const {
  return With(std::make_shared<FilterLabelsStage>(field, filter, only_matches));
}
View View::MatchLabels(std::optional<Expr> filter, std::vector<std::string> ids, std::vector<std::string> fields,
                       bool matches) const {
  return With(std::make_shared<MatchLabelsStage>(std::move(filter), std::move(ids), std::move(fields), matches));
}
View View::LimitLabels(const std::string& field, size_t limit) const {
  return With(std::make_shared<LimitLabelsStage>(field, limit));
}

namespace internal {

json Stage::ToJson() const { throw Unimplemented("stage " + Describe() + " has no serialised form"); }

std::string Stage::Describe() const {
  const json j = ToJson();
  std::string name = j.at("_cls").get<std::string>();
  name = name.substr(name.rfind('.') + 1);
  std::vector<std::pair<std::string, json>> kwargs;
  for (const json& pair : j.at("kwargs")) kwargs.emplace_back(pair[0].get<std::string>(), pair[1]);
  return internal::StageRepr(name, kwargs);
}

json StageJson(const std::string& name, const std::vector<std::pair<std::string, json>>& kwargs) {
  json args = json::array();
  for (const auto& [k, v] : kwargs) args.push_back(json::array({k, v}));
  return json{{"_cls", "fiftyone.core.stages." + name}, {"kwargs", args}};
}

void ApplyShape(Sqlite& db, const SampleShape& shape, std::vector<Sample>& samples) {
  if (samples.empty()) return;
  for (auto& s : samples) {
    for (auto it = s.fields.begin(); it != s.fields.end();) it = shape.Keeps(it->first) ? std::next(it) : s.fields.erase(it);
    for (auto it = s.label_fields.begin(); it != s.label_fields.end();)
      it = shape.Keeps(it->first) ? std::next(it) : s.label_fields.erase(it);
  }
  if (shape.label_steps.empty()) return;
  auto dataset = db.Prepare("SELECT dataset_id FROM samples WHERE id = ?");
  dataset.Bind(1, samples.front().id);
  if (!dataset.Step()) return;
  ExprEnv env = LoadExprEnv(db, dataset.Int(0), nullptr);
  env.shape = std::make_shared<SampleShape>(shape);
  RegisterExpressionFunctions(db);
  std::vector<std::string> ids;
  for (const auto& s : samples) ids.push_back(s.id);
  const std::string id_list = JsonArray(ids);
  for (const auto& [field, steps] : shape.label_steps) {
    if (!shape.Keeps(field)) continue;
    // The ids of the detections the view shows, for this batch of samples.
    auto st = db.Prepare("SELECT l.id FROM samples AS s JOIN labels AS l ON l.sample_seq = s.seq WHERE s.id IN "
                         "(SELECT value FROM json_each(?)) AND " + VisibleLabelsSql(env, field, "l"));
    st.Bind(1, id_list);
    std::unordered_set<std::string> shown;
    while (st.Step()) shown.emplace(st.TextView(0));
    for (auto& s : samples) {
      auto it = s.label_fields.find(field);
      if (it == s.label_fields.end()) continue;
      auto& dets = it->second.detections;
      dets.erase(std::remove_if(dets.begin(), dets.end(), [&](const Detection& d) { return !shown.count(d.id); }), dets.end());
      if (dets.empty()) s.label_fields.erase(it);  // as the store reads a field with no detections
    }
  }
}

}  // namespace internal

}  // namespace fo
