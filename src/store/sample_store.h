// Reading and writing samples, labels and field types in the store's
// tables. Used by Dataset, View and the brain module; callers hold a
// Transaction (or the store mutex) around multi-statement work.
#ifndef FO_STORE_SAMPLE_STORE_H_
#define FO_STORE_SAMPLE_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fo/sample.h"
#include "fo/value.h"
#include "store/sqlite.h"

namespace fo::internal {

std::string VectorToBlob(std::span<const float> v);
FloatVector BlobToVector(std::span<const uint8_t> blob);

// The type name a value gives its field ("int", "vector"...), or "" for null.
std::string FieldTypeOf(const Value& v);

// True for the fields every sample has: id, filepath, tags, metadata(.*).
bool IsBuiltinField(const std::string& field);
// Throws kInvalidArgument naming `where` if a vector value holds NaN or Inf.
void CheckFiniteVector(const Value& v, const std::string& where);
// Throws kInvalidArgument if the detection's box is not relative ([0, 1]).
void CheckBox(const Detection& d, const std::string& sample_id);

// Records a field's type, or throws kInvalidArgument if it conflicts with the
// recorded one (an int may go into a float field).
void DeclareField(Sqlite& db, int64_t dataset_id, const std::string& name, const std::string& type);
std::map<std::string, std::string> FieldTypes(Sqlite& db, int64_t dataset_id);

// Throws kNotFound listing the datasets when there is no such name.
int64_t DatasetIdByName(Sqlite& db, const std::string& name);

// The sample's row number, or nullopt if it is not in this dataset.
std::optional<int64_t> SampleSeq(Sqlite& db, int64_t dataset_id, const std::string& id);
std::optional<Sample> ReadSample(Sqlite& db, int64_t dataset_id, const std::string& id);

// Reads samples by key with prepared statements reused across calls.
class SampleReader {
 public:
  explicit SampleReader(Sqlite& db);
  // nullopt if no sample has this key (any more).
  std::optional<Sample> Read(int64_t seq);

 private:
  void ReadLabels(int64_t sample_seq, Sample* s);
  Statement sample_, vectors_, labels_, label_vectors_;
};

// Inserts fully validated samples (ids assigned) into one dataset, with
// prepared statements reused across samples. Sample and label keys (seq)
// come from counters in `meta`, so a key is never reused after a deletion:
// indexes that hold keys can never mistake a new sample for a deleted one.
// Use inside a Transaction and call Finish() before committing.
class SampleWriter {
 public:
  SampleWriter(Sqlite& db, int64_t dataset_id);
  // Returns the sample's key.
  int64_t Insert(const Sample& sample);
  // Saves the counters and the dataset's sample count.
  void Finish();

 private:
  void InsertDetection(int64_t sample_seq, const std::string& field, int position, const Detection& d);

  Sqlite& db_;
  int64_t dataset_id_;
  int64_t next_sample_;
  int64_t next_label_;
  size_t added_ = 0;
  Statement sample_, tag_, vector_, label_, label_vector_;
};

// Takes n consecutive keys from the counter `counter` of meta
// ("next_sample_seq" or "next_label_seq") and returns the first.
int64_t ReserveKeys(Sqlite& db, const char* counter, int64_t n);
// The JSON object of the samples.fields / labels.attributes columns: every
// value but vectors (their own tables) and nulls.
nlohmann::json ScalarFieldsJson(const std::map<std::string, Value>& fields);

// datasets.sample_count += delta.
void AdjustSampleCount(Sqlite& db, int64_t dataset_id, int64_t delta);
// Sets a sample's tags (the JSON column and the sample_tags index table).
void ReplaceTags(Sqlite& db, int64_t dataset_id, int64_t sample_seq, const std::vector<std::string>& tags);

// Label ids of `field` for each of these sample ids (in order).
std::vector<std::vector<std::string>> LabelIdsOfSamples(Sqlite& db, int64_t dataset_id,
                                                        const std::vector<std::string>& sample_ids,
                                                        const std::string& field);

}  // namespace fo::internal

#endif  // FO_STORE_SAMPLE_STORE_H_
