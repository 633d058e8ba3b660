// Brain runs: compute_similarity and the run management calls of FiftyOne
// (list_brain_runs, get_brain_info, load_brain_results, rename_brain_run,
// delete_brain_run(s), has_brain_run). Runs are registered on the dataset and
// stored in the same SQLite file; credentials are never stored.
#ifndef FO_BRAIN_H_
#define FO_BRAIN_H_

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fo/dataset.h"
#include "fo/matrix.h"
#include "fo/model.h"
#include "fo/similarity.h"
#include "fo/view.h"

namespace fo {

// The version string recorded with each run.
const char* Version();

struct ComputeSimilarityOptions {
  // Registers the run under this key when set (it must be a valid
  // identifier and must not exist yet).
  std::string brain_key;
  // Empty: the brain config's default_similarity_backend.
  std::string backend;
  // A Detections field: index one vector per detection.
  std::string patches_field;

  // Where the vectors come from (at most one of these):
  // (a) a matrix, rows aligned with `ids` (sample ids, or label ids with
  //     patches_field); with `ids` empty, rows follow the view's order
  //     (its samples, or their patches_field labels in order), as in
  //     FiftyOne;
  std::optional<Matrix> embeddings;
  //     or the same rows borrowed, not copied: the caller keeps them alive
  //     and unchanged until ComputeSimilarity returns (give one of the two;
  //     for a large matrix this is what keeps memory at one copy);
  std::optional<MatrixView> embeddings_view;
  std::vector<std::string> ids;
  // (b) a field holding vectors (sample field, or detection attribute with
  //     patches_field); with `model` set, the field the model's vectors are
  //     written to instead;
  std::string embeddings_field;
  // (d) nothing: an empty index to fill later with AddToIndex.
  bool no_embeddings = false;
  // (c) a model: a registry or zoo name, or the path of a TorchScript file,
  //     with its kwargs (both recorded in the run, for prompts).
  std::string model;
  nlohmann::json model_kwargs = nlohmann::json::object();
  // An already-loaded model to use instead of loading `model` again (the
  // run still records `model` and `model_kwargs`, defaulting `model` to its
  // name, so that prompts can reload it later).
  std::shared_ptr<Model> model_instance;
  size_t batch_size = 32;
  size_t num_workers = 0;          // see ComputeEmbeddingsOptions
  std::optional<bool> progress;    // see ComputeEmbeddingsOptions
  bool skip_failures = true;
  bool force_square = false;
  std::optional<double> alpha;

  // Backend parameters, e.g. {"metric": "euclidean"} or Qdrant's
  // {"url": ..., "collection_name": ...}. They win over env and file.
  nlohmann::json params = nlohmann::json::object();
};

// Builds a similarity index over `samples` (the run is registered on their
// dataset). With no vector source and no model, the built-in
// color-gradient-descriptor model is used. Throws (and registers nothing)
// on any error.
std::unique_ptr<SimilarityIndex> ComputeSimilarity(const View& samples, ComputeSimilarityOptions options);

struct BrainInfo {
  std::string key;
  std::string version;
  std::string timestamp;  // UTC, ISO 8601
  std::string type;       // "similarity"
  nlohmann::json config;  // SimilarityConfig::ToJson() plus "type", "method"
};

struct BrainRunFilter {
  std::string type;                 // e.g. "similarity"; empty = any
  std::string method;               // backend name; empty = any
  // config key -> required value (null matches an unset field), e.g.
  // {"patches_field": "ground_truth"}, {"supports_prompts": true}.
  std::map<std::string, nlohmann::json> config;
};

std::vector<std::string> ListBrainRuns(const Dataset& dataset, const BrainRunFilter& filter = {});
bool HasBrainRun(const Dataset& dataset, const std::string& key);
// Throws kNotFound for an unknown key.
BrainInfo GetBrainInfo(const Dataset& dataset, const std::string& key);
// Credentials (url, api_key...) given here win over env and file.
std::unique_ptr<SimilarityIndex> LoadBrainResults(const Dataset& dataset, const std::string& key,
                                                  const nlohmann::json& credentials = nlohmann::json::object());
void RenameBrainRun(const Dataset& dataset, const std::string& key, const std::string& new_key);
// Deletes the record (and sklearn's stored vectors with it); an external
// index stays until its Cleanup().
void DeleteBrainRun(const Dataset& dataset, const std::string& key);
void DeleteBrainRuns(const Dataset& dataset);

// One ranked result of a similarity query.
struct SimilarityHit {
  std::string sample_id;
  std::string label_id;  // the matched patch, for a patch index; empty otherwise
  double distance = 0;   // smaller is closer (docs/architecture.md)
};

struct SimilarityResults {
  std::string brain_key;
  std::string patches_field;  // set for a patch index
  std::vector<SimilarityHit> hits;  // nearest first (farthest first with reverse)
};

// The ranked hits of a similarity query over the items of `view` (one per
// patch for a patch index), through the process's cache of loaded indexes.
// The one query path: SortBySimilarity, the CLI and the App all come here.
// Does not write options.dist_field (SortBySimilarity does). Throws the
// query's errors (unknown key or id, wrong dimension, k <= 0...).
SimilarityResults FindSimilar(const View& view, const SimilarityQuery& query, const SortBySimilarityOptions& options = {});

// The samples of `view` ordered by similarity to the query, using the
// dataset's similarity run `options.brain_key` (FiftyOne's
// view.sort_by_similarity). Only indexed items of the view are returned.
// The query runs when the returned view is first evaluated, which throws its
// errors (unknown key or id, wrong dimension...); later evaluations reuse
// its ranking, less samples deleted or no longer in `view`.
View SortBySimilarity(const View& view, SimilarityQuery query, SortBySimilarityOptions options = {});

// The key sort_by_similarity uses when none is given: the only compatible
// similarity run (the first in key order, with a warning, if several).
std::string ResolveSimilarityKey(const Dataset& dataset, bool prompt);

}  // namespace fo

#endif  // FO_BRAIN_H_
