#include "collection_config.h"

#include <cmath>
#include <limits>
#include <vector>

#include "api_error.h"
#include "json_io.h"

namespace qdrant_test_server {
namespace {

using nlohmann::json;

constexpr double kNoMax = std::numeric_limits<double>::infinity();
constexpr uint64_t kMaxU32 = 0xffffffffu;
constexpr uint64_t kMaxVectorSize = 65536;  // Qdrant's limit for a dense vector

enum class Type { kUint, kNumber, kBool, kAny, kUintOrAuto };

struct FieldSpec {
  const char* key;
  Type type;
  double min = 0;
  double max = kNoMax;
};

// The *Diff structs of the spec (HnswConfigDiff, OptimizersConfigDiff,
// WalConfigDiff): every field optional and nullable.
const std::vector<FieldSpec> kHnswFields = {
    {"m", Type::kUint},
    {"ef_construct", Type::kUint, 4},
    {"full_scan_threshold", Type::kUint, 10},
    {"max_indexing_threads", Type::kUint},
    {"on_disk", Type::kBool},
    {"memory", Type::kAny},
    {"payload_m", Type::kUint},
    {"inline_storage", Type::kBool},
};
const std::vector<FieldSpec> kOptimizerFields = {
    {"deleted_threshold", Type::kNumber, 0, 1}, {"vacuum_min_vector_number", Type::kUint, 100},
    {"default_segment_number", Type::kUint},    {"max_segment_size", Type::kUint, 1},
    {"memmap_threshold", Type::kUint},          {"indexing_threshold", Type::kUint},
    {"flush_interval_sec", Type::kUint},        {"max_optimization_threads", Type::kUintOrAuto},
    {"prevent_unoptimized", Type::kBool},
};
const std::vector<FieldSpec> kWalFields = {
    {"wal_capacity_mb", Type::kUint, 1},
    {"wal_segments_ahead", Type::kUint},
    {"wal_retain_closed", Type::kUint},
};

// Defaults of Qdrant's config/config.yaml, as the info endpoint shows them.
json DefaultHnsw() {
  return {{"m", 16},
          {"ef_construct", 100},
          {"full_scan_threshold", 10000},
          {"max_indexing_threads", 0},
          {"on_disk", false}};
}
json DefaultOptimizers() {
  return {{"deleted_threshold", 0.2},    {"vacuum_min_vector_number", 1000},   {"default_segment_number", 0},
          {"max_segment_size", nullptr}, {"memmap_threshold", nullptr},        {"indexing_threshold", 10000},
          {"flush_interval_sec", 5},     {"max_optimization_threads", nullptr}};
}
json DefaultWal() { return {{"wal_capacity_mb", 32}, {"wal_segments_ahead", 0}, {"wal_retain_closed", 1}}; }

// Checks the fields of a *Diff object and writes the non-null ones over
// target. prefix names the object in validation messages.
void MergeDiff(const json& diff, const std::vector<FieldSpec>& specs, const std::string& prefix, json& target,
               Validation& validation) {
  ExpectObject(diff, "struct " + prefix);
  for (const FieldSpec& spec : specs) {
    const json* value = Field(diff, spec.key);
    if (value == nullptr) continue;
    std::string path = prefix + "." + spec.key;
    switch (spec.type) {
      case Type::kUintOrAuto:
        if (value->is_string() && value->get<std::string>() == "auto") {
          target[spec.key] = nullptr;  // "auto" is stored as no fixed number
          continue;
        }
        [[fallthrough]];
      case Type::kUint: {
        uint64_t number = *ReadUint(diff, spec.key, "usize");
        validation.Between(path, static_cast<double>(number), spec.min, spec.max);
        target[spec.key] = number;
        break;
      }
      case Type::kNumber: {
        double number = *ReadNumber(diff, spec.key);
        validation.Between(path, number, spec.min, spec.max);
        target[spec.key] = number;
        break;
      }
      case Type::kBool:
        target[spec.key] = *ReadBool(diff, spec.key);
        break;
      case Type::kAny:
        target[spec.key] = *value;
        break;
    }
  }
}

// VectorParams: size and distance required, the rest echoed as given.
json ReadVectorParams(const json& params, Collection& collection, Validation& validation) {
  auto size = ReadUint(params, "size");
  if (!size) throw FormatError("missing field `size`");
  auto distance_name = ReadString(params, "distance");
  if (!distance_name) throw FormatError("missing field `distance`");
  auto distance = ParseDistance(*distance_name);
  if (!distance) {
    throw FormatError("unknown variant `" + *distance_name +
                      "`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`");
  }
  validation.Between("vectors.size", static_cast<double>(*size), 1, kMaxVectorSize);
  if (Field(params, "multivector_config")) throw Unsupported("multivector_config");
  json echo = {{"size", *size}, {"distance", *distance_name}};
  if (auto on_disk = ReadBool(params, "on_disk")) echo["on_disk"] = *on_disk;
  if (const json* hnsw = Field(params, "hnsw_config")) {
    json diff = json::object();
    MergeDiff(*hnsw, kHnswFields, "vectors.hnsw_config", diff, validation);
    echo["hnsw_config"] = diff;
  }
  if (const json* quantization = Field(params, "quantization_config"))
    echo["quantization_config"] = *quantization;
  if (auto datatype = ReadString(params, "datatype")) {
    if (*datatype != "float32" && *datatype != "uint8" && *datatype != "float16") {
      throw FormatError("unknown variant `" + *datatype + "`, expected one of `float32`, `uint8`, `float16`");
    }
    echo["datatype"] = *datatype;
  }
  if (const json* memory = Field(params, "memory")) echo["memory"] = *memory;
  collection.dim = *size;
  collection.distance = *distance;
  return echo;
}

// VectorsConfig: one VectorParams, or a map of named ones (only the empty map
// is supported: a collection without dense vectors).
json ReadVectorsConfig(const json* vectors, Collection& collection, Validation& validation) {
  if (vectors == nullptr) return json::object();
  ExpectObject(*vectors, "untagged enum VectorsConfig");
  if (vectors->contains("size") || vectors->contains("distance")) {
    return ReadVectorParams(*vectors, collection, validation);
  }
  if (vectors->empty()) return json::object();
  throw Unsupported("Named vectors");
}

std::optional<uint64_t> ReadFactor(const json& body, const char* key, Validation& validation) {
  auto value = ReadUint(body, key, "u32", kMaxU32);
  if (value) validation.Min(key, static_cast<double>(*value), 1);
  return value;
}

}  // namespace

Collection NewCollection(const json& body) {
  ExpectObject(body, "struct CreateCollection");
  Collection collection;
  Validation validation;

  json params = {{"vectors", ReadVectorsConfig(Field(body, "vectors"), collection, validation)}};
  params["shard_number"] = ReadFactor(body, "shard_number", validation).value_or(1);
  if (auto method = ReadString(body, "sharding_method")) {
    if (*method != "auto" && *method != "custom") {
      throw FormatError("unknown variant `" + *method + "`, expected `auto` or `custom`");
    }
    params["sharding_method"] = *method;
  }
  params["replication_factor"] = ReadFactor(body, "replication_factor", validation).value_or(1);
  params["write_consistency_factor"] = ReadFactor(body, "write_consistency_factor", validation).value_or(1);
  params["on_disk_payload"] = ReadBool(body, "on_disk_payload").value_or(true);
  if (const json* payload = Field(body, "payload")) params["payload"] = *payload;
  if (const json* sparse = Field(body, "sparse_vectors")) {
    ExpectObject(*sparse, "a map");
    params["sparse_vectors"] = *sparse;
  }

  json hnsw = DefaultHnsw();
  if (const json* diff = Field(body, "hnsw_config"))
    MergeDiff(*diff, kHnswFields, "hnsw_config", hnsw, validation);
  json optimizers = DefaultOptimizers();
  if (const json* diff = Field(body, "optimizers_config")) {
    MergeDiff(*diff, kOptimizerFields, "optimizers_config", optimizers, validation);
  }
  json wal = DefaultWal();
  if (const json* diff = Field(body, "wal_config"))
    MergeDiff(*diff, kWalFields, "wal_config", wal, validation);
  validation.ThrowIfFailed("JSON body");

  collection.config = {{"params", params},
                       {"hnsw_config", hnsw},
                       {"optimizer_config", optimizers},
                       {"wal_config", wal},
                       {"quantization_config", nullptr}};
  if (const json* quantization = Field(body, "quantization_config")) {
    collection.config["quantization_config"] = *quantization;
  }
  if (const json* strict = Field(body, "strict_mode_config"))
    collection.config["strict_mode_config"] = *strict;
  if (const json* metadata = Field(body, "metadata")) {
    ExpectObject(*metadata, "a map");
    collection.config["metadata"] = *metadata;
  }
  return collection;
}

void ValidateCollectionName(const std::string& name) {
  Validation validation;
  if (name.empty() || name.size() > 255) {
    validation.Fail("name", "length must be from 1 to 255 characters");
  }
  for (char c : std::string("<>:\"/\\|?*\0\x1f", 12)) {
    if (name.find(c) != std::string::npos) {
      std::string shown = c == '\0' ? "\\0" : c == '\x1f' ? "\\u{1f}" : std::string(1, c);
      validation.Fail("name", "collection name cannot contain \"" + shown + "\" char");
      break;
    }
  }
  validation.ThrowIfFailed("path parameters");
}

}  // namespace qdrant_test_server
