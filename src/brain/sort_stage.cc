// The sort_by_similarity view stage: loads the run (through the process's
// IndexCache), restricts it to the stage's input view, queries, and turns hits into rows (one per sample; a
// patch index groups its matched patches under their sample, ordered by the
// best patch). dist_field is written as FiftyOne does, when the view is
// evaluated.
//
// The query runs once, on the first evaluation (View::SortBySimilarity's
// callers evaluate at once); later evaluations reuse its rows, less the
// samples no longer in the input. So counting or iterating the view costs no
// new search, and the view stays usable after its run or index is deleted.
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "brain/index_cache.h"
#include "store/sqlite.h"
#include "store/stages.h"
#include "store/view_query.h"

namespace fo::internal {

namespace {

class SortBySimilarityStage : public Stage {
 public:
  SortBySimilarityStage(SimilarityQuery query, SortBySimilarityOptions options)
      : query_(std::move(query)), options_(std::move(options)) {
    if (options_.k && *options_.k == 0) throw InvalidArgument("k must be a positive integer");
  }

  void Compile(const View& input, ViewQuery& q) const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!result_) result_ = Query(input);
    ReplaceByKeys(q, result_->keys, result_->extras);
  }

  std::string Describe() const override {
    std::string what = !query_.text.empty() ? "\"" + query_.text + "\""
                       : !query_.ids.empty() ? std::to_string(query_.ids.size()) + " ids"
                                              : std::to_string(query_.vectors.rows()) + " vectors";
    return "sort_by_similarity(" + what + (options_.k ? ", k=" + std::to_string(*options_.k) : "") +
           (options_.reverse ? ", reverse" : "") + ")";
  }

 private:
  struct Result {
    std::vector<int64_t> keys;  // one per sample, in rank order
    std::shared_ptr<const RowExtras> extras;
  };

  // Runs the search over the input view.
  Result Query(const View& input) const {
    SimilarityResults found = FindSimilar(input, query_, options_);
    if (!options_.dist_field.empty()) WriteDistances(input, found);
    return ToRows(input, found);
  }

  // One row per sample in rank order; a patch index groups its matched
  // patches under their sample, ordered by the best patch.
  static Result ToRows(const View& input, const SimilarityResults& sorted) {
    std::unordered_map<std::string, int64_t> key_of = SampleKeys(input, sorted.hits);
    std::unordered_map<std::string, size_t> row_of;
    Result out;
    auto extras = std::make_shared<RowExtras>();
    for (const auto& h : sorted.hits) {
      auto key = key_of.find(h.sample_id);
      if (key == key_of.end()) continue;  // deleted since it was indexed
      auto [it, added] = row_of.try_emplace(h.sample_id, out.keys.size());
      if (added) {
        out.keys.push_back(key->second);
        extras->push_back({h.distance, {}});
      }
      if (!sorted.patches_field.empty()) (*extras)[it->second].patches.push_back({h.label_id, h.distance});
    }
    out.extras = std::move(extras);
    return out;
  }

  static std::unordered_map<std::string, int64_t> SampleKeys(const View& input, const std::vector<SimilarityHit>& hits) {
    std::vector<std::string> ids;
    ids.reserve(hits.size());
    for (const auto& h : hits) ids.push_back(h.sample_id);
    auto& db = input.database()->sqlite();
    std::lock_guard lock(db.mutex());
    auto st = db.Prepare("SELECT id, seq FROM samples WHERE dataset_id = ? AND id IN (SELECT value FROM json_each(?))");
    st.Bind(1, input.dataset_id()).Bind(2, JsonArray(ids));
    std::unordered_map<std::string, int64_t> out;
    while (st.Step()) out.emplace(st.Text(0), st.Int(1));
    return out;
  }

  void WriteDistances(const View& input, const SimilarityResults& found) const {
    Dataset dataset = Dataset::Load(input.database(), input.dataset_name());
    std::map<std::string, Value> values;
    for (const auto& h : found.hits) values[found.patches_field.empty() ? h.sample_id : h.label_id] = h.distance;
    if (!found.patches_field.empty()) {
      dataset.SetLabelValues(found.patches_field, options_.dist_field, values);
    } else {
      dataset.SetValues(options_.dist_field, values);
    }
  }

  SimilarityQuery query_;
  SortBySimilarityOptions options_;
  mutable std::mutex mu_;
  mutable std::optional<Result> result_;  // of the first evaluation
};

}  // namespace
}  // namespace fo::internal

namespace fo {

SimilarityQuery SimilarityQuery::ByVector(std::vector<float> v) {
  size_t d = v.size();
  return {{}, Matrix(1, d, std::move(v)), {}};
}

SimilarityResults FindSimilar(const View& view, const SimilarityQuery& query, const SortBySimilarityOptions& options) {
  if (options.k && *options.k == 0) throw InvalidArgument("k must be a positive integer");
  Dataset dataset = Dataset::Load(view.database(), view.dataset_name());
  std::string key = options.brain_key.empty() ? ResolveSimilarityKey(dataset, !query.text.empty()) : options.brain_key;
  nlohmann::json credentials = nlohmann::json::object();
  for (const auto& [k, v] : options.credentials) credentials[k] = v;
  internal::SortResult sorted = internal::ProcessIndexCache().Sort(dataset, view, key, query, options.k, options.reverse, credentials);
  SimilarityResults out{key, sorted.patches_field, {}};
  out.hits.reserve(sorted.hits.size());
  for (auto& h : sorted.hits)
    out.hits.push_back({std::move(h.sample_id), sorted.patches_field.empty() ? std::string() : std::move(h.item_id), h.distance});
  return out;
}

View SortBySimilarity(const View& view, SimilarityQuery query, SortBySimilarityOptions options) {
  return view.AddStage(std::make_shared<internal::SortBySimilarityStage>(std::move(query), std::move(options)));
}

}  // namespace fo
