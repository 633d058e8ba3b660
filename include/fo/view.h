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

#include "fo/sample.h"
#include "fo/value.h"

namespace fo {

class Database;
class Dataset;
namespace internal {
struct Stage;
struct ViewQuery;
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

  // The view as one SQL query (store/view_query.h); evaluated afresh by
  // every answer above.
  internal::ViewQuery Compile() const;

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
  SampleStream(std::shared_ptr<Database> db, std::vector<int64_t> keys, size_t batch);
  std::shared_ptr<Database> db_;
  std::vector<int64_t> keys_;
  size_t batch_;
  size_t next_key_ = 0;
  std::vector<Sample> buffer_;
  size_t next_in_buffer_ = 0;
};

}  // namespace fo

#endif  // FO_VIEW_H_
