// fo::View: a lazy, composable selection of a dataset's samples, like
// FiftyOne's DatasetView. Building a view does no I/O: each stage method
// returns a new View with the stage appended, and the store is read only when
// a view is asked something (Count, Ids, Values...). Views are cheap values;
// they are evaluated afresh on every call, so they see later writes.
#ifndef FO_VIEW_H_
#define FO_VIEW_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "fo/expression.h"
#include "fo/sample.h"
#include "fo/value.h"

namespace fo {

class Database;
class Dataset;
namespace internal {
struct Stage;
struct ViewQuery;
struct SampleShape;
}  // namespace internal

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

class SampleStream;

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
  // Samples all of whose values FiftyOne's way: see fo/expression.h.
  View Match(const Expr& filter) const;
  // Samples whose `field` is set (or, with exists = false, is not).
  View Exists(const std::string& field, bool exists = true) const;
  // Sorted by a field or an expression (one value per sample; missing
  // values first, last with reverse), ties in view order.
  View SortBy(const std::string& field, bool reverse = false) const;
  View SortBy(const char* field, bool reverse = false) const { return SortBy(std::string(field), reverse); }
  View SortBy(const Expr& expr, bool reverse = false) const;
  // The samples carry only these user and label fields (plus id, filepath,
  // tags and metadata), or all but these. Unknown fields throw kInvalidArgument.
  View SelectFields(std::vector<std::string> fields) const;
  View ExcludeFields(std::vector<std::string> fields) const;
  // Every sample, in an order random but the same for a seed.
  View Shuffle(uint64_t seed) const;
  // The detections of label field `field` are only those for which `filter`
  // holds (an expression over the detection, e.g. F("confidence") > 0.5);
  // with only_matches, samples left with none are dropped.
  View FilterLabels(const std::string& field, const Expr& filter, bool only_matches = true) const;
  // Samples having a detection (in `fields`, default every label field)
  // with one of `ids` and / or for which `filter` holds; with
  // matches = false, samples having none.
  View MatchLabels(std::optional<Expr> filter, std::vector<std::string> ids = {}, std::vector<std::string> fields = {},
                   bool matches = true) const;
  // At most `limit` detections of `field` per sample (the first ones).
  View LimitLabels(const std::string& field, size_t limit) const;

  // Appends a stage of another layer (fo::SortBySimilarity in brain.h).
  View AddStage(std::shared_ptr<const internal::Stage> stage) const;

  // --- Answers (read the store) ---
  size_t Count() const;
  std::vector<std::string> Ids() const;
  // Calls fn with each sample id in view order, straight from the store
  // (no string kept): for callers that convert a million ids anyway.
  void ForEachId(const std::function<void(std::string_view)>& fn) const;
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
  // The samples in view order, read in batches as they are consumed (the
  // view's keys are read once, when the stream is made).
  SampleStream Stream(size_t batch = 256) const;

  // Compiles the view without evaluating it, so that an unknown field or a
  // bad expression throws now (what the first answer would throw).
  void Validate() const;

  // The view as one SQL query (store/view_query.h); evaluated afresh by
  // every answer above.
  internal::ViewQuery Compile() const;

  // The stages as JSON, FiftyOne's view._serialize(): a list of
  // {"_cls": "fiftyone.core.stages.Match", "kwargs": [["filter", {...}]]}.
  // Throws kUnimplemented for a stage with no serialised form
  // (sort_by_similarity).
  nlohmann::json ToJson() const;
  // `dataset_view` (a dataset's view, or any view) with the stages of
  // `stages` (as ToJson gives them) appended. Throws kInvalidArgument naming
  // the first stage that is unknown or malformed.
  static View FromJson(const View& dataset_view, const nlohmann::json& stages);

  // True for a view with no stages (the whole dataset, in insertion order).
  bool is_full_dataset() const { return stages_.empty(); }
  const std::string& dataset_name() const { return dataset_name_; }
  int64_t dataset_id() const { return dataset_id_; }
  const std::shared_ptr<Database>& database() const { return db_; }
  // Each stage as FiftyOne prints it, in order: "Limit(limit=3)",
  // "MatchTags(tags=['a'], bool=True, all=False)"... (the "View stages:" of
  // a view's summary, fo/summary.h).
  std::vector<std::string> StageDescriptions() const;
  // The same on one line for diagnostics: "dataset 'x' > Limit(limit=3)".
  std::string Describe() const;

 private:
  View With(std::shared_ptr<const internal::Stage> stage) const;

  std::shared_ptr<Database> db_;
  int64_t dataset_id_;
  std::string dataset_name_;
  std::vector<std::shared_ptr<const internal::Stage>> stages_;
};

class SampleStream {
 public:
  // The next sample, or nullopt at the end. Samples deleted since the
  // stream was made are skipped.
  std::optional<Sample> Next();
  size_t size() const { return keys_.size(); }

 private:
  friend class View;
  SampleStream(std::shared_ptr<Database> db, std::vector<int64_t> keys, size_t batch,
               std::shared_ptr<const internal::SampleShape> shape);
  std::shared_ptr<Database> db_;
  std::shared_ptr<const internal::SampleShape> shape_;
  std::vector<int64_t> keys_;
  size_t batch_;
  size_t next_key_ = 0;
  std::vector<Sample> buffer_;
  size_t next_in_buffer_ = 0;
};

}  // namespace fo

#endif  // FO_VIEW_H_
