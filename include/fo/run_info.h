// FiftyOne's serialised form of a brain run: the JSON its BrainInfo and
// SimilarityConfig objects print (fiftyone/core/runs.py BaseRunInfo and
// BaseRunConfig, serialised by eta's Serializable). The Python objects of
// get_brain_info() and index.config are built from it, so every front end
// shows a run the same way.
#ifndef FO_RUN_INFO_H_
#define FO_RUN_INFO_H_

#include <nlohmann/json.hpp>
#include <string>

#include "fo/brain.h"
#include "fo/similarity.h"

namespace fo {

// The config as FiftyOne serialises a SimilarityConfig: "cls", "type"
// ("similarity"), "method" (the backend), then SimilarityConfig's fields
// (embeddings_field, model, model_kwargs, patches_field, roi_field,
// supports_prompts), then the backend's own in FiftyOne's order (sklearn:
// metric; qdrant: collection_name, metric, replication_factor,
// shard_number, write_consistency_factor, hnsw_config, optimizers_config,
// wal_config), unset ones null, then any other stored parameter. "cls" names
// the Python class fo builds (fo.run_info.<Backend>SimilarityConfig).
// Credentials (url, api_key...) never appear.
nlohmann::ordered_json SimilarityConfigJson(const SimilarityConfig& config);

// {"key", "version", "timestamp", "config"} as FiftyOne serialises a
// BrainInfo; the timestamp as Python's datetime.isoformat() of the naive UTC
// time ("2024-05-01T12:34:56"). Throws kCorruption if the stored config
// cannot be read.
nlohmann::ordered_json BrainInfoJson(const BrainInfo& info);

// FiftyOne's str() of a run info or config: the JSON above indented by 4.
std::string FormatRunJson(const nlohmann::ordered_json& serialised);

}  // namespace fo

#endif  // FO_RUN_INFO_H_
