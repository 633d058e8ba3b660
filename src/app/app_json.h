// The JSON the App's API returns for samples, patches and brain runs. Strings
// go out raw (JSON-escaped only): escaping for HTML is the page's job, so the
// API never returns markup.
#ifndef FO_APP_APP_JSON_H_
#define FO_APP_APP_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "fo/brain.h"
#include "fo/sample.h"

namespace fo::internal {

// Percent-encodes everything but RFC 3986's unreserved characters, so that a
// dataset name can be put in a URL path segment.
std::string UrlEncodePathSegment(const std::string& text);

// "/api/datasets/<name>" with the name encoded.
std::string DatasetUrl(const std::string& dataset);

// {"id", "filepath", "width", "height", "tags", "detections": {field: [...]},
// "thumbnail_url", "media_url"}; width and height are null when unknown.
nlohmann::ordered_json SampleToAppJson(const std::string& dataset, const Sample& sample);

// {"sample_id", "label_id", "label", "bounding_box", "confidence",
// "thumbnail_url", "filepath"} for one detection of `sample`.
nlohmann::ordered_json PatchToAppJson(const std::string& dataset, const Sample& sample, const Detection& detection);

// {"key", "type", "backend", "metric", "model", "patches_field",
// "supports_prompts", "supports_least_similarity"}.
nlohmann::ordered_json BrainRunToAppJson(const BrainInfo& info);

// Whether sort_by_similarity's reverse works for this backend and metric
// (the qdrant backend cannot search farthest-first with euclidean).
bool SupportsLeastSimilarity(const std::string& backend, const std::string& metric);

}  // namespace fo::internal

#endif  // FO_APP_APP_JSON_H_
