// FiftyOne's serialised form of brain runs (include/fo/run_info.h).
#include "fo/run_info.h"

#include <map>
#include <set>
#include <vector>

namespace fo {

using nlohmann::ordered_json;

namespace {

ordered_json NullIfEmpty(const std::string& s) { return s.empty() ? ordered_json(nullptr) : ordered_json(s); }

// A backend's own config fields in the order its FiftyOne config class sets
// them (fiftyone/brain/internal/core/<backend>.py); "metric" is held apart
// from the other parameters in SimilarityConfig.
const std::vector<std::string>& BackendFields(const std::string& backend) {
  static const std::map<std::string, std::vector<std::string>> kFields = {
      {"sklearn", {"metric"}},
      {"qdrant",
       {"collection_name", "metric", "replication_factor", "shard_number", "write_consistency_factor", "hnsw_config",
        "optimizers_config", "wal_config"}},
  };
  static const std::vector<std::string> kOther = {"metric"};
  auto it = kFields.find(backend);
  return it == kFields.end() ? kOther : it->second;
}

// The Python class fo builds for a backend's config (python/fo/run_info.py).
std::string ConfigClassName(const std::string& backend) {
  if (backend == "sklearn") return "fo.run_info.SklearnSimilarityConfig";
  if (backend == "qdrant") return "fo.run_info.QdrantSimilarityConfig";
  return "fo.run_info.SimilarityConfig";
}

// "2024-05-01T12:34:56Z" (as stored) -> "2024-05-01T12:34:56", Python's
// isoformat() of the naive UTC datetime FiftyOne keeps.
std::string IsoFormatOfNaiveUtc(std::string timestamp) {
  if (!timestamp.empty() && timestamp.back() == 'Z') timestamp.pop_back();
  return timestamp;
}

}  // namespace

ordered_json SimilarityConfigJson(const SimilarityConfig& config) {
  ordered_json out = {
      {"cls", ConfigClassName(config.backend)},
      {"type", "similarity"},
      {"method", config.backend},
      {"embeddings_field", NullIfEmpty(config.embeddings_field)},
      {"model", NullIfEmpty(config.model)},
      {"model_kwargs", config.model_kwargs.empty() ? ordered_json(nullptr) : ordered_json(config.model_kwargs)},
      {"patches_field", NullIfEmpty(config.patches_field)},
      {"roi_field", nullptr},
      {"supports_prompts", config.supports_prompts ? ordered_json(*config.supports_prompts) : ordered_json(nullptr)},
  };
  std::set<std::string> written;
  for (const std::string& field : BackendFields(config.backend)) {
    if (field == "metric") {
      out[field] = config.metric;
    } else {
      auto it = config.params.find(field);
      out[field] = it == config.params.end() ? ordered_json(nullptr) : ordered_json(*it);
    }
    written.insert(field);
  }
  for (const auto& [name, value] : config.params.items()) {
    if (!written.count(name) && !IsCredentialParam(name)) out[name] = value;
  }
  return out;
}

ordered_json BrainInfoJson(const BrainInfo& info) {
  return {{"key", info.key},
          {"version", info.version},
          {"timestamp", IsoFormatOfNaiveUtc(info.timestamp)},
          {"config", SimilarityConfigJson(SimilarityConfig::FromJson(info.config))}};
}

std::string FormatRunJson(const ordered_json& serialised) {
  return serialised.dump(4, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace fo
