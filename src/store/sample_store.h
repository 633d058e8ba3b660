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

// Records a field's type, or throws kInvalidArgument if it conflicts with the
// recorded one (an int may go into a float field).
void DeclareField(Sqlite& db, int64_t dataset_id, const std::string& name, const std::string& type);
std::map<std::string, std::string> FieldTypes(Sqlite& db, int64_t dataset_id);

// Throws kNotFound listing the datasets when there is no such name.
int64_t DatasetIdByName(Sqlite& db, const std::string& name);

std::vector<std::string> SampleIdsInOrder(Sqlite& db, int64_t dataset_id);
// The sample's row number, or nullopt if it is not in this dataset.
std::optional<int64_t> SampleSeq(Sqlite& db, int64_t dataset_id, const std::string& id);
std::optional<Sample> ReadSample(Sqlite& db, int64_t dataset_id, const std::string& id);

// Inserts a fully validated sample with ids assigned.
void InsertSample(Sqlite& db, int64_t dataset_id, const Sample& sample);

// Label ids of `field` for each of these sample ids (in order).
std::vector<std::vector<std::string>> LabelIdsOfSamples(Sqlite& db, int64_t dataset_id,
                                                        const std::vector<std::string>& sample_ids,
                                                        const std::string& field);

}  // namespace fo::internal

#endif  // FO_STORE_SAMPLE_STORE_H_
