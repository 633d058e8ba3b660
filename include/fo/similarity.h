// fo::SimilarityIndex: the result of compute_similarity, with FiftyOne's
// SimilarityIndex API (add_to_index, remove_from_index, get_embeddings, views,
// queries) on top of a SimilarityBackend. Not thread-safe; use one per thread.
#ifndef FO_SIMILARITY_H_
#define FO_SIMILARITY_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fo/embeddings.h"
#include "fo/similarity_query.h"
#include "fo/matrix.h"
#include "fo/similarity_backend.h"
#include "fo/view.h"

namespace fo {

class Model;

// The persisted configuration of a similarity run (FiftyOne's SimilarityConfig).
struct SimilarityConfig {
  std::string backend = "sklearn";
  std::string metric = "cosine";
  std::string embeddings_field;
  std::string patches_field;
  std::string model;
  nlohmann::json model_kwargs = nlohmann::json::object();
  std::optional<bool> supports_prompts;
  // Backend parameters; credentials (url, api_key...) live here at run time
  // but ToJson() leaves them out.
  nlohmann::json params = nlohmann::json::object();

  nlohmann::json ToJson() const;
  static SimilarityConfig FromJson(const nlohmann::json& j);
};

// Parameter names never written to the store, logs or errors.
bool IsCredentialParam(const std::string& name);

struct AddToIndexOptions {
  bool overwrite = true;        // replace existing items
  bool allow_existing = true;   // with overwrite = false: skip existing (else throw)
  bool warn_existing = false;   // log existing ids on stderr
  size_t batch_size = 1000;     // items per backend write
};

struct RemoveFromIndexOptions {
  bool allow_missing = true;    // else throw kNotFound naming a missing id
  bool warn_missing = false;
};

class SimilarityIndex {
 public:
  // Creates the backend from config.backend and `context`.
  SimilarityIndex(View root, std::string brain_key, SimilarityConfig config, BackendContext context);
  ~SimilarityIndex();

  const std::string& brain_key() const { return brain_key_; }
  const SimilarityConfig& config() const { return config_; }
  bool is_patch_index() const { return !config_.patches_field.empty(); }
  bool supports_prompts() const { return config_.supports_prompts.value_or(false); }
  BackendCapabilities capabilities() const { return backend_->capabilities(); }
  SimilarityBackend& backend() { return *backend_; }

  // sample_ids (and label_ids for a patch index) give each row's identity.
  // Throws kInvalidArgument for mismatched sizes, a wrong dimension, NaN/Inf
  // or a malformed id; kAlreadyExists if !overwrite && !allow_existing and an
  // id is indexed. `embeddings` are only read during the call (callers may
  // pass a view of their own buffer).
  void AddToIndex(MatrixView embeddings, const std::vector<std::string>& sample_ids,
                  const std::vector<std::string>& label_ids = {}, const AddToIndexOptions& options = {});
  // For a patch index, sample_ids removes every patch of those samples.
  void RemoveFromIndex(const std::vector<std::string>& sample_ids,
                       const std::vector<std::string>& label_ids = {},
                       const RemoveFromIndexOptions& options = {});
  // The vectors of these ids (all when both are empty). Throws kNotFound
  // for missing ids unless allow_missing.
  IndexedEmbeddings GetEmbeddings(const std::vector<std::string>& sample_ids,
                                  const std::vector<std::string>& label_ids = {},
                                  bool allow_missing = true);

  size_t total_index_size();
  // Items of the current view that are indexed.
  size_t index_size();
  // Items of the current view that are not indexed (nullopt when none are).
  std::optional<size_t> missing_size();
  // Restricts queries to a view of the same dataset; returns *this.
  SimilarityIndex& UseView(const View& view);
  void ClearView();
  const View& view() const { return view_; }
  const View& root() const { return root_; }
  bool has_view() const { return !view_.is_full_dataset(); }
  // Re-reads the backend's persisted state.
  void Reload();
  // Binds an index created without a run to the run just registered (used
  // by ComputeSimilarity inside its transaction).
  void AttachToRun(int64_t run_id);
  // Deletes the backend's index; the run record stays (see DeleteBrainRun).
  void Cleanup();

  // The k nearest items of the current view to the query (ids, vectors or a
  // prompt), mean-aggregated when the query has several. Throws for k == 0,
  // k > max_k, unsupported reverse, unknown ids, wrong dimension, or a prompt
  // on a model without prompts.
  std::vector<Hit> Query(const SimilarityQuery& query, std::optional<size_t> k, bool reverse);

  // Embeds a prompt with the run's model (loaded once and cached).
  Matrix EmbedPrompts(const std::vector<std::string>& prompts);
  // Embeds `samples` (for a patch index, their patches_field labels; the
  // options' patches_field is ignored) with the run's model, ready for
  // AddToIndex. Throws kFailedPrecondition when the run has no model (its
  // vectors were given directly).
  EmbeddingsResult ComputeEmbeddings(const View& samples, ComputeEmbeddingsOptions options = {});

 private:
  Matrix QueryVector(const SimilarityQuery& query);
  Model& RunModel();
  void AddBatch(MatrixView embeddings, const std::vector<std::string>& item_ids,
                const std::vector<std::string>& sample_ids, const std::vector<int64_t>& item_keys,
                const std::vector<int64_t>& sample_keys, const std::vector<size_t>& rows, size_t begin, size_t end);
  // The view as ids (and the dataset's other ids), for backends that filter
  // by id.
  SearchFilter ViewFilter();
  // Query for backends that filter by sample key (capabilities).
  std::vector<Hit> SearchByKeys(const Matrix& q, size_t k, bool reverse);

  View root_;
  View view_;
  std::string brain_key_;
  SimilarityConfig config_;
  BackendContext context_;
  std::unique_ptr<SimilarityBackend> backend_;
  std::unique_ptr<Model> model_;
};

}  // namespace fo

#endif  // FO_SIMILARITY_H_
