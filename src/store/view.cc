#include "fo/view.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_set>

#include "fo/database.h"
#include "fo/error.h"
#include "store/sample_store.h"
#include "store/sqlite.h"
#include "store/stages.h"

namespace fo {

using internal::Stage;
using nlohmann::json;

SimilarityQuery SimilarityQuery::ByVector(std::vector<float> v) {
  size_t d = v.size();
  return {{}, Matrix(1, d, std::move(v)), {}};
}

namespace {

std::vector<ViewRow> AllRows(Database& db, int64_t dataset_id) {
  std::vector<ViewRow> rows;
  std::lock_guard lock(db.sqlite().mutex());
  for (auto& id : internal::SampleIdsInOrder(db.sqlite(), dataset_id)) rows.push_back({std::move(id), {}, {}});
  return rows;
}

class TakeStage : public Stage {
 public:
  TakeStage(size_t n, uint64_t seed) : n_(n), seed_(seed) {}
  void Apply(const View&, std::vector<ViewRow>& rows) const override {
    // Our own Fisher-Yates over mt19937_64 (whose output the standard fixes)
    // so that a seed picks the same samples on every platform.
    std::mt19937_64 rng(seed_);
    size_t n = std::min(n_, rows.size());
    for (size_t i = 0; i < n; ++i) {
      size_t j = i + static_cast<size_t>(rng() % (rows.size() - i));
      std::swap(rows[i], rows[j]);
    }
    rows.resize(n);
  }
  std::string Describe() const override { return "take(" + std::to_string(n_) + ", seed=" + std::to_string(seed_) + ")"; }

 private:
  size_t n_;
  uint64_t seed_;
};

class LimitStage : public Stage {
 public:
  explicit LimitStage(size_t n) : n_(n) {}
  void Apply(const View&, std::vector<ViewRow>& rows) const override {
    if (rows.size() > n_) rows.resize(n_);
  }
  std::string Describe() const override { return "limit(" + std::to_string(n_) + ")"; }

 private:
  size_t n_;
};

class SkipStage : public Stage {
 public:
  explicit SkipStage(size_t n) : n_(n) {}
  void Apply(const View&, std::vector<ViewRow>& rows) const override {
    rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(std::min(n_, rows.size())));
  }
  std::string Describe() const override { return "skip(" + std::to_string(n_) + ")"; }

 private:
  size_t n_;
};

class SelectStage : public Stage {
 public:
  SelectStage(std::vector<std::string> ids, bool exclude) : ids_(ids.begin(), ids.end()), exclude_(exclude) {}
  void Apply(const View&, std::vector<ViewRow>& rows) const override {
    std::erase_if(rows, [&](const ViewRow& r) { return (ids_.count(r.sample_id) > 0) == exclude_; });
  }
  std::string Describe() const override {
    return std::string(exclude_ ? "exclude" : "select") + "(" + std::to_string(ids_.size()) + " ids)";
  }

 private:
  std::unordered_set<std::string> ids_;
  bool exclude_;
};

class MatchTagsStage : public Stage {
 public:
  MatchTagsStage(std::vector<std::string> tags, bool all) : tags_(std::move(tags)), all_(all) {}
  void Apply(const View& input, std::vector<ViewRow>& rows) const override {
    auto& db = input.database()->sqlite();
    std::lock_guard lock(db.mutex());
    auto q = db.Prepare("SELECT tags FROM samples WHERE id = ? AND dataset_id = ?");
    std::erase_if(rows, [&](const ViewRow& r) {
      q.Bind(1, r.sample_id).Bind(2, input.dataset_id());
      bool keep = false;
      if (q.Step()) {
        auto have = json::parse(q.Text(0)).get<std::vector<std::string>>();
        auto has = [&](const std::string& t) { return std::find(have.begin(), have.end(), t) != have.end(); };
        keep = all_ ? std::all_of(tags_.begin(), tags_.end(), has) : std::any_of(tags_.begin(), tags_.end(), has);
      }
      q.Reset();
      return !keep;
    });
  }
  std::string Describe() const override { return std::string("match_tags(") + (all_ ? "all " : "") + json(tags_).dump() + ")"; }

 private:
  std::vector<std::string> tags_;
  bool all_;
};

// "gt.detections.label" -> ("gt", "label"); otherwise nullopt.
std::optional<std::pair<std::string, std::string>> SplitLabelPath(const std::string& field) {
  auto pos = field.find(".detections.");
  if (pos == std::string::npos) return std::nullopt;
  return std::make_pair(field.substr(0, pos), field.substr(pos + 12));
}

Value DetectionValue(const Detection& d, const std::string& attr) {
  if (attr == "id") return d.id;
  if (attr == "label") return d.label;
  if (attr == "confidence") return d.confidence ? Value(*d.confidence) : Value();
  if (attr == "bounding_box") return ValueList{d.bounding_box[0], d.bounding_box[1], d.bounding_box[2], d.bounding_box[3]};
  auto it = d.attributes.find(attr);
  return it == d.attributes.end() ? Value() : it->second;
}

}  // namespace

View::View(std::shared_ptr<Database> db, int64_t dataset_id, std::string dataset_name)
    : db_(std::move(db)), dataset_id_(dataset_id), dataset_name_(std::move(dataset_name)) {}

View View::With(std::shared_ptr<const Stage> stage) const {
  View v = *this;
  v.stages_.push_back(std::move(stage));
  return v;
}

View View::Take(size_t n, uint64_t seed) const { return With(std::make_shared<TakeStage>(n, seed)); }
View View::Limit(size_t n) const { return With(std::make_shared<LimitStage>(n)); }
View View::Skip(size_t n) const { return With(std::make_shared<SkipStage>(n)); }
View View::Select(std::vector<std::string> ids) const { return With(std::make_shared<SelectStage>(std::move(ids), false)); }
View View::Exclude(std::vector<std::string> ids) const { return With(std::make_shared<SelectStage>(std::move(ids), true)); }
View View::MatchTags(std::vector<std::string> tags, bool all) const {
  return With(std::make_shared<MatchTagsStage>(std::move(tags), all));
}
View View::SortBySimilarity(SimilarityQuery query, SortBySimilarityOptions options) const {
  return With(internal::MakeSortBySimilarityStage(std::move(query), std::move(options)));
}

std::vector<ViewRow> View::Rows() const {
  std::vector<ViewRow> rows = AllRows(*db_, dataset_id_);
  View prefix(db_, dataset_id_, dataset_name_);
  for (const auto& stage : stages_) {
    stage->Apply(prefix, rows);
    prefix = prefix.With(stage);
  }
  return rows;
}

size_t View::Count() const {
  if (stages_.empty()) {
    std::lock_guard lock(db_->sqlite().mutex());
    auto q = db_->sqlite().Prepare("SELECT count(*) FROM samples WHERE dataset_id = ?");
    q.Bind(1, dataset_id_);
    q.Step();
    return static_cast<size_t>(q.Int(0));
  }
  return Rows().size();
}

std::vector<std::string> View::Ids() const {
  std::vector<std::string> ids;
  for (auto& r : Rows()) ids.push_back(std::move(r.sample_id));
  return ids;
}

std::vector<Sample> View::Page(size_t offset, size_t n) const {
  std::vector<ViewRow> rows = Rows();
  std::vector<Sample> out;
  std::lock_guard lock(db_->sqlite().mutex());
  for (size_t i = offset; i < rows.size() && i < offset + n; ++i) {
    auto s = internal::ReadSample(db_->sqlite(), dataset_id_, rows[i].sample_id);
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

std::vector<Sample> View::Samples() const { return Page(0, SIZE_MAX); }

Sample View::First() const {
  auto page = Page(0, 1);
  if (page.empty()) throw NotFound("the view of dataset '" + dataset_name_ + "' is empty; there is no first sample");
  return page.front();
}

Sample View::Last() const {
  std::vector<ViewRow> rows = Rows();
  if (rows.empty()) throw NotFound("the view of dataset '" + dataset_name_ + "' is empty; there is no last sample");
  std::lock_guard lock(db_->sqlite().mutex());
  return *internal::ReadSample(db_->sqlite(), dataset_id_, rows.back().sample_id);
}

std::vector<Value> View::Values(const std::string& field) const {
  std::vector<Value> out;
  if (field == "id" || field == "_id") {
    for (auto& id : Ids()) out.emplace_back(std::move(id));
    return out;
  }
  auto label_path = SplitLabelPath(field);
  for (const Sample& s : Samples()) {
    if (!label_path) {
      out.push_back(s.Get(field));
      continue;
    }
    auto it = s.label_fields.find(label_path->first);
    if (it == s.label_fields.end()) {
      out.emplace_back();
      continue;
    }
    ValueList list;
    for (const auto& d : it->second.detections) list.push_back(DetectionValue(d, label_path->second));
    out.emplace_back(std::move(list));
  }
  return out;
}

std::string View::Describe() const {
  std::string s = "dataset '" + dataset_name_ + "'";
  for (const auto& st : stages_) s += " > " + st->Describe();
  return s;
}

}  // namespace fo
