#include "fo/view.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_set>

#include "fo/database.h"
#include "fo/error.h"
#include "store/expression_sql.h"
#include "store/sample_store.h"
#include "store/sqlite.h"
#include "store/stages.h"
#include "store/view_keys.h"
#include "store/view_query.h"

namespace fo {

using internal::KeyRow;
using internal::Stage;
using internal::ViewQuery;

namespace {

// Joins the samples table when the rows may name deleted samples.
std::string ExistingRows(const ViewQuery& q) { return q.from_key_list ? " AS v JOIN samples AS s ON s.seq = v.k" : " AS v"; }

using internal::KeysOf;
using internal::PickExtras;

// take(n, seed): n rows chosen uniformly at random, in random order, the
// same for the same seed and the same input rows.
class TakeStage : public Stage {
 public:
  TakeStage(size_t n, uint64_t seed) : n_(n), seed_(seed) {}

  void Compile(const View& input, ViewQuery& q) const override {
    auto& db = input.database()->sqlite();
    std::lock_guard lock(db.mutex());
    std::optional<std::vector<KeyRow>> picked;
    if (q.whole_dataset) picked = SampleKeyRange(db, q.dataset_id);
    if (!picked) picked = Shuffle(internal::EvaluateKeys(db, q));
    internal::ReplaceByKeys(q, KeysOf(*picked), PickExtras(q, *picked));
  }

  nlohmann::json ToJson() const override { return internal::StageJson("Take", {{"size", n_}, {"seed", seed_}}); }

 private:
  // Fisher-Yates over mt19937_64 (whose output the standard fixes), so that
  // a seed picks the same rows on every platform.
  std::vector<KeyRow> Shuffle(std::vector<KeyRow> rows) const {
    std::mt19937_64 rng(seed_);
    size_t n = std::min(n_, rows.size());
    for (size_t i = 0; i < n; ++i) {
      size_t j = i + static_cast<size_t>(rng() % (rows.size() - i));
      std::swap(rows[i], rows[j]);
    }
    rows.resize(n);
    return rows;
  }

  // On a whole dataset, draws keys at random from [min, max] and keeps the
  // ones that exist, so that take(1000) of 10M samples reads ~1000 rows
  // instead of listing all of them. Uniform (rejection sampling) and
  // deterministic for a seed and a dataset state. nullopt when the keys are
  // too sparse or n too close to the count for this to pay.
  std::optional<std::vector<KeyRow>> SampleKeyRange(internal::Sqlite& db, int64_t dataset_id) const {
    auto count_q = db.Prepare("SELECT sample_count FROM datasets WHERE id = ?");
    count_q.Bind(1, dataset_id);
    if (!count_q.Step()) return std::nullopt;
    const int64_t count = count_q.Int(0);
    if (count == 0 || static_cast<int64_t>(n_) * 4 > count) return std::nullopt;
    int64_t lo = Bound(db, dataset_id, "min"), hi = Bound(db, dataset_id, "max");
    const double density = static_cast<double>(count) / static_cast<double>(hi - lo + 1);
    if (density < 0.05) return std::nullopt;
    std::mt19937_64 rng(seed_);
    std::unordered_set<int64_t> tried;
    std::vector<KeyRow> picked;
    auto exists = db.Prepare(
        "SELECT seq FROM samples WHERE dataset_id = ? AND seq IN (SELECT value FROM json_each(?))");
    for (int round = 0; round < 32 && picked.size() < n_; ++round) {
      std::vector<int64_t> candidates;
      const uint64_t range = static_cast<uint64_t>(hi - lo + 1);
      size_t want = static_cast<size_t>(static_cast<double>(n_ - picked.size()) / density * 1.25) + 16;
      want = static_cast<size_t>(std::min<uint64_t>(want, range - tried.size()));  // no key drawn twice
      if (want == 0) break;
      while (candidates.size() < want) {
        int64_t key = lo + static_cast<int64_t>(rng() % range);
        if (tried.insert(key).second) candidates.push_back(key);
      }
      exists.Bind(1, dataset_id).Bind(2, internal::JsonArray(candidates));
      std::unordered_set<int64_t> found;
      while (exists.Step()) found.insert(exists.Int(0));
      exists.Reset();
      for (int64_t key : candidates)  // generation order is the random order
        if (found.count(key) && picked.size() < n_) picked.push_back({key, static_cast<int64_t>(picked.size())});
    }
    if (picked.size() < n_) return std::nullopt;
    return picked;
  }

  static int64_t Bound(internal::Sqlite& db, int64_t dataset_id, const char* fn) {
    auto q = db.Prepare(std::string("SELECT ") + fn + "(seq) FROM samples WHERE dataset_id = ?");
    q.Bind(1, dataset_id);
    q.Step();
    return q.Int(0);
  }

  size_t n_;
  uint64_t seed_;
};

class SliceStage : public Stage {
 public:
  SliceStage(std::optional<size_t> limit, size_t skip) : limit_(limit), skip_(skip) {}
  void Compile(const View& input, ViewQuery& q) const override {
    if (q.whole_dataset && skip_ > 0) {
      if (auto first = NthKeyOfDenseDataset(input, skip_)) {
        // skip(n) of a dataset whose keys have no gaps starts at key min + n:
        // an index seek instead of stepping over n rows.
        q.sql += " AND seq >= ?";
        q.params.emplace_back(*first);
        q.whole_dataset = false;
        if (limit_) internal::AddSlice(q, limit_, 0);
        return;
      }
    }
    internal::AddSlice(q, limit_, skip_);
  }
  nlohmann::json ToJson() const override {
    return limit_ ? internal::StageJson("Limit", {{"limit", *limit_}}) : internal::StageJson("Skip", {{"skip", skip_}});
  }

 private:
  // The key of the dataset's n-th sample (0-based) when its keys are
  // consecutive (no sample deleted, no other dataset's keys in between).
  static std::optional<int64_t> NthKeyOfDenseDataset(const View& input, size_t n) {
    auto& db = input.database()->sqlite();
    std::lock_guard lock(db.mutex());
    auto q = db.Prepare(
        "SELECT (SELECT sample_count FROM datasets WHERE id = ?1), (SELECT min(seq) FROM samples WHERE dataset_id = ?1), "
        "(SELECT max(seq) FROM samples WHERE dataset_id = ?1)");
    q.Bind(1, input.dataset_id());
    if (!q.Step() || q.IsNull(1)) return std::nullopt;
    int64_t count = q.Int(0), lo = q.Int(1), hi = q.Int(2);
    if (hi - lo + 1 != count) return std::nullopt;
    return lo + static_cast<int64_t>(n);
  }

  std::optional<size_t> limit_;
  size_t skip_;
};

class SelectStage : public Stage {
 public:
  SelectStage(std::vector<std::string> ids, bool exclude) : ids_(std::move(ids)), exclude_(exclude) {}
  void Compile(const View&, ViewQuery& q) const override {
    internal::AddFilter(q, std::string(exclude_ ? "k NOT IN" : "k IN") +
                               " (SELECT seq FROM samples WHERE id IN (SELECT value FROM json_each(?)))",
                        {internal::JsonArray(ids_)});
  }
  nlohmann::json ToJson() const override {
    if (exclude_) return internal::StageJson("Exclude", {{"sample_ids", ids_}});
    return internal::StageJson("Select", {{"sample_ids", ids_}, {"ordered", false}});
  }

 private:
  std::vector<std::string> ids_;
  bool exclude_;
};

class MatchTagsStage : public Stage {
 public:
  MatchTagsStage(std::vector<std::string> tags, bool all) : tags_as_given_(tags), all_(all) {
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
    tags_ = std::move(tags);
  }

  void Compile(const View&, ViewQuery& q) const override {
    if (tags_.empty()) {  // none of no tags, but all of them
      if (!all_) internal::AddFilter(q, "0", {});
      return;
    }
    std::string tagged = "SELECT sample_seq FROM sample_tags WHERE dataset_id = ? AND tag IN (SELECT value FROM json_each(?))";
    std::vector<internal::SqlParam> params = {q.dataset_id, internal::JsonArray(tags_)};
    if (all_) {
      tagged += " GROUP BY sample_seq HAVING count(*) = ?";
      params.emplace_back(static_cast<int64_t>(tags_.size()));
    }
    if (q.whole_dataset && tags_.size() == 1) {
      // One tag: the primary key (dataset_id, tag, sample_seq) yields the
      // keys in order, each once, with no DISTINCT or sort (a third of the
      // time of a 100k-sample tag view).
      q.sql = "SELECT sample_seq AS k, sample_seq AS o FROM sample_tags WHERE dataset_id = ? AND tag = ?";
      q.params = {q.dataset_id, tags_.front()};
      q.whole_dataset = false;
      return;
    }
    if (q.whole_dataset) {
      // sample_tags rows exist only for samples of this dataset that exist
      // (deletes cascade), so the tag index alone is the view: no lookup
      // into samples per tagged sample.
      q.sql = "SELECT DISTINCT sample_seq AS k, sample_seq AS o FROM (" + tagged + ")";
      q.params = std::move(params);
      q.whole_dataset = false;
      return;
    }
    internal::AddFilter(q, "k IN (" + tagged + ")", std::move(params));
  }

  nlohmann::json ToJson() const override {
    return internal::StageJson("MatchTags", {{"tags", tags_as_given_}, {"bool", true}, {"all", all_}});
  }

 private:
  std::vector<std::string> tags_;  // sorted, unique
  std::vector<std::string> tags_as_given_;
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

Value SampleValue(const Sample& s, const std::string& field, const std::optional<std::pair<std::string, std::string>>& label_path) {
  if (!label_path) return s.Get(field);
  auto it = s.label_fields.find(label_path->first);
  if (it == s.label_fields.end()) return Value();
  ValueList list;
  for (const auto& d : it->second.detections) list.push_back(DetectionValue(d, label_path->second));
  return Value(std::move(list));
}

// The samples of these keys, as the view's shape has them (fields
// selected, labels filtered).
std::vector<Sample> ReadSamples(internal::Sqlite& db, const std::vector<int64_t>& keys,
                                const std::shared_ptr<const internal::SampleShape>& shape) {
  internal::SampleReader reader(db);
  std::vector<Sample> out;
  out.reserve(keys.size());
  for (int64_t k : keys)
    if (auto s = reader.Read(k)) out.push_back(std::move(*s));
  if (shape) internal::ApplyShape(db, *shape, out);
  return out;
}

}  // namespace

View::View(std::shared_ptr<Database> db, int64_t dataset_id, std::string dataset_name)
    : db_(std::move(db)), dataset_id_(dataset_id), dataset_name_(std::move(dataset_name)) {}

View View::With(std::shared_ptr<const Stage> stage) const {
  View v = *this;
  v.stages_.push_back(std::move(stage));
  return v;
}

View View::AddStage(std::shared_ptr<const Stage> stage) const { return With(std::move(stage)); }
View View::Take(size_t n, uint64_t seed) const { return With(std::make_shared<TakeStage>(n, seed)); }
View View::Limit(size_t n) const { return With(std::make_shared<SliceStage>(n, 0)); }
View View::Skip(size_t n) const { return With(std::make_shared<SliceStage>(std::nullopt, n)); }
View View::Select(std::vector<std::string> ids) const { return With(std::make_shared<SelectStage>(std::move(ids), false)); }
View View::Exclude(std::vector<std::string> ids) const { return With(std::make_shared<SelectStage>(std::move(ids), true)); }
View View::MatchTags(std::vector<std::string> tags, bool all) const {
  return With(std::make_shared<MatchTagsStage>(std::move(tags), all));
}

ViewQuery View::Compile() const {
  ViewQuery q = internal::DatasetQuery(dataset_id_);
  View prefix(db_, dataset_id_, dataset_name_);
  for (const auto& stage : stages_) {
    stage->Compile(prefix, q);
    prefix = prefix.With(stage);
  }
  return q;
}

std::vector<ViewRow> View::Rows() const {
  ViewQuery q = Compile();
  std::vector<ViewRow> rows;
  std::lock_guard lock(db_->sqlite().mutex());
  auto st = q.Prepare(db_->sqlite(), "SELECT v.o, s.id FROM ", " AS v JOIN samples AS s ON s.seq = v.k ORDER BY v.o");
  while (st.Step()) {
    ViewRow row{st.Text(1), {}, {}};
    if (q.extras) {
      const auto& extra = (*q.extras)[static_cast<size_t>(st.Int(0))];
      row.distance = extra.distance;
      row.patches = extra.patches;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

size_t View::Count() const {
  ViewQuery q = Compile();
  std::lock_guard lock(db_->sqlite().mutex());
  if (q.whole_dataset) {
    auto st = db_->sqlite().Prepare("SELECT sample_count FROM datasets WHERE id = ?");
    st.Bind(1, dataset_id_);
    return st.Step() ? static_cast<size_t>(st.Int(0)) : 0;
  }
  auto st = q.Prepare(db_->sqlite(), "SELECT count(*) FROM ", ExistingRows(q));
  st.Step();
  return static_cast<size_t>(st.Int(0));
}

std::vector<std::string> View::Ids() const {
  std::vector<std::string> ids;
  ForEachId([&](std::string_view id) { ids.emplace_back(id); });
  return ids;
}

void View::ForEachId(const std::function<void(std::string_view)>& fn) const {
  ViewQuery q = Compile();
  std::lock_guard lock(db_->sqlite().mutex());
  auto st = q.Prepare(db_->sqlite(), "SELECT s.id FROM ", " AS v JOIN samples AS s ON s.seq = v.k ORDER BY v.o");
  while (st.Step()) fn(st.TextView(0));
}

std::vector<Sample> View::Page(size_t offset, size_t n) const {
  ViewQuery q = Compile();
  std::lock_guard lock(db_->sqlite().mutex());
  std::vector<int64_t> keys;
  auto st = q.Prepare(db_->sqlite(), "SELECT v.k FROM ", ExistingRows(q) + " ORDER BY v.o LIMIT ? OFFSET ?",
                      {n > static_cast<size_t>(INT64_MAX) ? int64_t{-1} : static_cast<int64_t>(n), static_cast<int64_t>(offset)});
  while (st.Step()) keys.push_back(st.Int(0));
  return ReadSamples(db_->sqlite(), keys, q.shape);
}

std::vector<Sample> View::Samples() const { return Page(0, SIZE_MAX); }

Sample View::First() const {
  auto page = Page(0, 1);
  if (page.empty()) throw NotFound("the view of dataset '" + dataset_name_ + "' is empty; there is no first sample");
  return page.front();
}

Sample View::Last() const {
  ViewQuery q = Compile();
  std::lock_guard lock(db_->sqlite().mutex());
  auto st = q.Prepare(db_->sqlite(), "SELECT v.k FROM ", ExistingRows(q) + " ORDER BY v.o DESC LIMIT 1");
  std::vector<int64_t> keys;
  if (st.Step()) keys.push_back(st.Int(0));
  auto samples = ReadSamples(db_->sqlite(), keys, q.shape);
  if (samples.empty()) throw NotFound("the view of dataset '" + dataset_name_ + "' is empty; there is no last sample");
  return samples.front();
}

SampleStream View::Stream(size_t batch) const {
  ViewQuery q = Compile();
  std::vector<int64_t> keys;
  {
    std::lock_guard lock(db_->sqlite().mutex());
    keys = KeysOf(internal::EvaluateKeys(db_->sqlite(), q));
  }
  return SampleStream(db_, std::move(keys), std::max<size_t>(1, batch), q.shape);
}

std::vector<Value> View::Values(const std::string& field) const {
  std::vector<Value> out;
  if (field == "id" || field == "_id") {
    for (auto& id : Ids()) out.emplace_back(std::move(id));
    return out;
  }
  auto label_path = SplitLabelPath(field);
  SampleStream stream = Stream(1024);
  out.reserve(stream.size());
  while (auto s = stream.Next()) out.push_back(SampleValue(*s, field, label_path));
  return out;
}

std::vector<std::string> View::StageDescriptions() const {
  std::vector<std::string> out;
  out.reserve(stages_.size());
  for (const auto& st : stages_) out.push_back(st->Describe());
  return out;
}

std::string View::Describe() const {
  std::string s = "dataset '" + dataset_name_ + "'";
  for (const auto& st : stages_) s += " > " + st->Describe();
  return s;
}

SampleStream::SampleStream(std::shared_ptr<Database> db, std::vector<int64_t> keys, size_t batch,
                           std::shared_ptr<const internal::SampleShape> shape)
    : db_(std::move(db)), shape_(std::move(shape)), keys_(std::move(keys)), batch_(batch) {}

std::optional<Sample> SampleStream::Next() {
  while (next_in_buffer_ == buffer_.size()) {
    if (next_key_ == keys_.size()) return std::nullopt;
    size_t end = std::min(keys_.size(), next_key_ + batch_);
    std::vector<int64_t> batch(keys_.begin() + static_cast<std::ptrdiff_t>(next_key_), keys_.begin() + static_cast<std::ptrdiff_t>(end));
    next_key_ = end;
    std::lock_guard lock(db_->sqlite().mutex());
    buffer_ = ReadSamples(db_->sqlite(), batch, shape_);
    next_in_buffer_ = 0;
  }
  return std::move(buffer_[next_in_buffer_++]);
}

namespace internal {

std::vector<int64_t> ViewSampleKeys(const View& view) {
  ViewQuery q = view.Compile();
  auto& db = view.database()->sqlite();
  std::lock_guard lock(db.mutex());
  std::vector<int64_t> keys;
  auto st = q.Prepare(db, "SELECT v.k FROM ", ExistingRows(q) + " ORDER BY v.k");
  while (st.Step()) keys.push_back(st.Int(0));
  return keys;
}

}  // namespace internal

}  // namespace fo
