// fo::View: a lazy, composable selection of a dataset's samples, like
// FiftyOne's DatasetView. Building a view does no I/O: each stage method
// returns a new View with the stage appended, and the store is read only when
// a view is asked something (Count, Ids, Values...). Views are cheap values;
// they are evaluated afresh on every call, so they see later writes.
#ifndef FO_VIEW_H_
#define FO_VIEW_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fo/matrix.h"
#include "fo/sample.h"
#include "fo/value.h"

namespace fo {

class Database;
class Dataset;
namespace internal { struct Stage; }

// What to search for in sort_by_similarity.
struct SimilarityQuery {
  std::vector<std::string> ids;  // one id, or several (their vectors are averaged)
  Matrix vectors;                // one vector, or several (averaged)
  std::string text;              // a prompt, for models that embed text

  static SimilarityQuery ById(std::string id) { return {{std::move(id)}, {}, {}}; }
  static SimilarityQuery ByIds(std::vector<std::string> ids) { return {std::move(ids), {}, {}}; }
  static SimilarityQuery ByVector(std::vector<float> v);
  static SimilarityQuery ByVectors(Matrix m) { return {{}, std::move(m), {}}; }
  static SimilarityQuery ByText(std::string t) { return {{}, {}, std::move(t)}; }
};

struct SortBySimilarityOptions {
  std::optional<size_t> k;     // nearest k; all indexed items when unset. REQUIRES k > 0
  bool reverse = false;        // least similar first
  std::string dist_field;      // if set, each result's distance is written there
  std::string brain_key;       // may be empty when exactly one similarity run fits
  // Credentials for a remote backend ("url", "api_key"); unset ones come
  // from the environment and the brain config, as in load_brain_results.
  std::map<std::string, std::string> credentials;
};

// One patch (detection) that matched a patch-index query.
struct PatchMatch {
  std::string label_id;
  double distance = 0;
};

// One row of an evaluated view.
struct ViewRow {
  std::string sample_id;
  std::optional<double> distance;   // set by sort_by_similarity
  std::vector<PatchMatch> patches;  // matched patches, for a patch index
};

class View {
 public:
  View(std::shared_ptr<Database> db, int64_t dataset_id, std::string dataset_name);

  // --- Stages (no I/O) ---
  // n samples chosen at random, reproducibly for a given seed.
  View Take(size_t n, uint64_t seed = 51) const;
  View Limit(size_t n) const;
  View Skip(size_t n) const;
  // Samples with these ids, in view order. Label ids are not sample ids.
  View Select(std::vector<std::string> ids) const;
  View Exclude(std::vector<std::string> ids) const;
  // Samples having any (or, with all = true, every) of the tags.
  View MatchTags(std::vector<std::string> tags, bool all = false) const;
  // Samples of this view ordered by similarity to the query, using the
  // dataset's similarity run `options.brain_key`. Only indexed items of this
  // view are returned. Evaluating the view throws the errors of the query
  // (unknown key or id, wrong dimension, k <= 0...).
  View SortBySimilarity(SimilarityQuery query, SortBySimilarityOptions options = {}) const;

  // --- Answers (read the store) ---
  size_t Count() const;
  std::vector<std::string> Ids() const;
  // Throws kNotFound if the view is empty.
  Sample First() const;
  Sample Last() const;
  std::vector<Sample> Samples() const;
  // Samples [offset, offset + n) in view order.
  std::vector<Sample> Page(size_t offset, size_t n) const;
  // One value per sample in view order. Besides sample fields (see
  // Sample::Get), "<det_field>.detections.id" / ".label" / ".confidence" give
  // one list per sample, and "<det_field>.detections.<attr>" likewise.
  std::vector<Value> Values(const std::string& field) const;
  // The rows with distances and patch matches, in view order.
  std::vector<ViewRow> Rows() const;

  // True for a view with no stages (the whole dataset, in insertion order).
  bool is_full_dataset() const { return stages_.empty(); }
  const std::string& dataset_name() const { return dataset_name_; }
  int64_t dataset_id() const { return dataset_id_; }
  const std::shared_ptr<Database>& database() const { return db_; }
  // A short human-readable description of the stages, e.g. "take(10) > limit(3)".
  std::string Describe() const;

 private:
  View With(std::shared_ptr<const internal::Stage> stage) const;

  std::shared_ptr<Database> db_;
  int64_t dataset_id_;
  std::string dataset_name_;
  std::vector<std::shared_ptr<const internal::Stage>> stages_;
};

}  // namespace fo

#endif  // FO_VIEW_H_
