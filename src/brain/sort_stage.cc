// The sort_by_similarity view stage, which this layer adds to views with
// fo::SortBySimilarity (the store never calls up into it), and
// fo::FindSimilar, the one query path: the stage, the CLI and the App all
// get their ranked hits from it, through the process's IndexCache. The stage
// turns hits into rows (one per sample; a patch index groups its matched
// patches under their sample, ordered by the best patch) and writes
// dist_field as FiftyOne does, when the view is first evaluated.
//
// The query runs once, on the first evaluation; later evaluations reuse its
// ranking, less the samples no longer in the input. So counting or
// iterating the view costs no new search, and the view stays usable after
// its run or index is deleted.
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
#include "store/stage_repr.h"
#include "store/stages.h"
#include "store/view_keys.h"
#include "store/view_query.h"

namespace fo::internal {

namespace {

// The query through the process's index cache; *brain_key gets the run used.
SortResult Search(const View& view, const SimilarityQuery& query, const SortBySimilarityOptions& options,
                  std::string* brain_key) {
  if (options.k && *options.k == 0) throw InvalidArgument("k must be a positive integer");
  Dataset dataset = Dataset::Load(view.database(), view.dataset_name());
  *brain_key = options.brain_key.empty() ? ResolveSimilarityKey(dataset, !query.text.empty()) : options.brain_key;
  nlohmann::json credentials = nlohmann::json::object();
  for (const auto& [k, v] : options.credentials) credentials[k] = v;
  return ProcessIndexCache().Sort(dataset, view, *brain_key, query, options.k, options.reverse, credentials);
}

SimilarityResults ToPublic(const std::string& brain_key, const SortResult& sorted) {
  SimilarityResults out{brain_key, sorted.patches_field, {}};
  out.hits.reserve(sorted.hits.size());
  for (const auto& h : sorted.hits)
    out.hits.push_back({h.sample_id, sorted.patches_field.empty() ? std::string() : h.item_id, h.distance});
  return out;
}

class SortBySimilarityStage : public Stage {
 public:
  SortBySimilarityStage(SimilarityQuery query, SortBySimilarityOptions options)
      : query_(std::move(query)), options_(std::move(options)) {
    if (options_.k && *options_.k == 0) throw InvalidArgument("k must be a positive integer");
  }

  void Compile(const View& input, ViewQuery& q) const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!result_) result_ = Query(input);
    // Re-checking the ranking against the input rows costs a pass over them
    // (a match_tags input of 100k samples: tens of ms), needed only once
    // something was written since the search.
    ReplaceByKeys(q, result_->keys, result_->extras, ChangeStamp(input) == result_->stamp);
  }

  // FiftyOne's SortBySimilarity(query, k, reverse, dist_field, brain_key);
  // a vector query prints as its list of numbers.
  std::string Describe() const override {
    nlohmann::json query;
    if (!query_.text.empty()) query = query_.text;
    else if (query_.ids.size() == 1) query = query_.ids.front();
    else if (!query_.ids.empty()) query = query_.ids;
    else query = QueryVectorsJson();
    return StageRepr("SortBySimilarity", {{"query", query},
                                          {"k", options_.k ? nlohmann::json(*options_.k) : nlohmann::json(nullptr)},
                                          {"reverse", options_.reverse},
                                          {"dist_field", options_.dist_field.empty() ? nlohmann::json(nullptr)
                                                                                     : nlohmann::json(options_.dist_field)},
                                          {"brain_key", options_.brain_key.empty() ? nlohmann::json(nullptr)
                                                                                   : nlohmann::json(options_.brain_key)}});
  }

 private:
  // One vector as a list, several as a list of lists (numpy's tolist()).
  nlohmann::json QueryVectorsJson() const {
    const Matrix& m = query_.vectors;
    nlohmann::json rows = nlohmann::json::array();
    for (size_t r = 0; r < m.rows(); ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (float x : m.row(r)) row.push_back(static_cast<double>(x));
      rows.push_back(std::move(row));
    }
    return rows.size() == 1 ? rows.front() : rows;
  }

  struct Result {
    std::vector<int64_t> keys;  // one per sample, in rank order
    std::shared_ptr<const RowExtras> extras;
    std::string stamp;  // the store's ChangeStamp() once the search and its writes were done
  };

  static std::string ChangeStamp(const View& input) {
    auto& db = input.database()->sqlite();
    std::lock_guard lock(db.mutex());
    return db.ChangeStamp();
  }

  // Runs the search over the input view.
  Result Query(const View& input) const {
    std::string key;
    SortResult sorted = Search(input, query_, options_, &key);
    SimilarityResults found = ToPublic(key, sorted);
    if (!options_.dist_field.empty()) WriteDistances(input, found);
    Result result = ToRows(input, sorted);
    result.stamp = ChangeStamp(input);
    return result;
  }

  // One row per sample in rank order; a patch index groups its matched
  // patches under their sample, ordered by the best patch.
  static Result ToRows(const View& input, const SortResult& sorted) {
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
      if (!sorted.patches_field.empty()) (*extras)[it->second].patches.push_back({h.item_id, h.distance});
    }
    out.extras = std::move(extras);
    return out;
  }

  // The sample key of each hit: carried by the hit when the backend keeps
  // keys (sklearn), else looked up (Qdrant), which also drops samples
  // deleted since they were indexed. Deleted samples with a key are dropped
  // by the view's final join with the samples table.
  static std::unordered_map<std::string, int64_t> SampleKeys(const View& input, const std::vector<Hit>& hits) {
    std::unordered_map<std::string, int64_t> out;
    std::vector<std::string> unknown;
    for (const auto& h : hits) {
      if (h.sample_key != 0) out.emplace(h.sample_id, h.sample_key);
      else unknown.push_back(h.sample_id);
    }
    if (unknown.empty()) return out;
    std::vector<int64_t> keys = SampleKeysOfIds(input, unknown);
    for (size_t i = 0; i < unknown.size(); ++i)
      if (keys[i] != 0) out.emplace(unknown[i], keys[i]);
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
  std::string key;
  internal::SortResult sorted = internal::Search(view, query, options, &key);
  return internal::ToPublic(key, sorted);
}

View SortBySimilarity(const View& view, SimilarityQuery query, SortBySimilarityOptions options) {
  return view.AddStage(std::make_shared<internal::SortBySimilarityStage>(std::move(query), std::move(options)));
}

}  // namespace fo
