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
#include "fo/dataset.h"
#include "fo/error.h"
#include "brain/index_cache.h"
#include "store/stages.h"

namespace fo::internal {

namespace {

class SortBySimilarityStage : public Stage {
 public:
  SortBySimilarityStage(SimilarityQuery query, SortBySimilarityOptions options)
      : query_(std::move(query)), options_(std::move(options)) {
    if (options_.k && *options_.k == 0) throw InvalidArgument("k must be a positive integer");
  }

  void Apply(const View& input, std::vector<ViewRow>& rows) const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!result_) {
      Query(input, rows);
      result_ = rows;
      return;
    }
    std::unordered_set<std::string> present;
    for (const auto& r : rows) present.insert(r.sample_id);
    rows.clear();
    for (const auto& r : *result_)
      if (present.count(r.sample_id)) rows.push_back(r);
  }

  std::string Describe() const override {
    std::string what = !query_.text.empty() ? "\"" + query_.text + "\""
                       : !query_.ids.empty() ? std::to_string(query_.ids.size()) + " ids"
                                              : std::to_string(query_.vectors.rows()) + " vectors";
    return "sort_by_similarity(" + what + (options_.k ? ", k=" + std::to_string(*options_.k) : "") +
           (options_.reverse ? ", reverse" : "") + ")";
  }

 private:
  // Runs the search over the input view.
  void Query(const View& input, std::vector<ViewRow>& rows) const {
    Dataset dataset = Dataset::Load(input.database(), input.dataset_name());
    std::string key = options_.brain_key.empty() ? ResolveSimilarityKey(dataset, !query_.text.empty()) : options_.brain_key;
    nlohmann::json credentials = nlohmann::json::object();
    for (const auto& [k, v] : options_.credentials) credentials[k] = v;
    SortResult sorted = ProcessIndexCache().Sort(dataset, input, key, query_, options_.k, options_.reverse, credentials);
    rows = sorted.patches_field.empty() ? SampleRows(sorted.hits) : PatchRows(sorted.hits);
    if (!options_.dist_field.empty()) WriteDistances(dataset, sorted.patches_field, sorted.hits);
  }

  static std::vector<ViewRow> SampleRows(const std::vector<Hit>& hits) {
    std::vector<ViewRow> rows;
    for (const auto& h : hits) rows.push_back({h.sample_id, h.distance, {}});
    return rows;
  }

  static std::vector<ViewRow> PatchRows(const std::vector<Hit>& hits) {
    std::vector<ViewRow> rows;
    std::unordered_map<std::string, size_t> row_of;
    for (const auto& h : hits) {
      auto [it, added] = row_of.try_emplace(h.sample_id, rows.size());
      if (added) rows.push_back({h.sample_id, h.distance, {}});
      rows[it->second].patches.push_back({h.item_id, h.distance});
    }
    return rows;
  }

  void WriteDistances(Dataset& dataset, const std::string& patches_field, const std::vector<Hit>& hits) const {
    std::map<std::string, Value> values;
    for (const auto& h : hits) values[h.item_id] = h.distance;
    if (!patches_field.empty()) {
      dataset.SetLabelValues(patches_field, options_.dist_field, values);
    } else {
      dataset.SetValues(options_.dist_field, values);
    }
  }

  SimilarityQuery query_;
  SortBySimilarityOptions options_;
  mutable std::mutex mu_;
  mutable std::optional<std::vector<ViewRow>> result_;  // rows of the first evaluation
};

}  // namespace

std::shared_ptr<const Stage> MakeSortBySimilarityStage(SimilarityQuery query, SortBySimilarityOptions options) {
  return std::make_shared<SortBySimilarityStage>(std::move(query), std::move(options));
}

}  // namespace fo::internal
