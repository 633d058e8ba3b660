#include "app_json.h"

#include <cstdio>

#include "fo/similarity_backend.h"

namespace fo::internal {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

ordered_json OptionalNumber(const std::optional<double>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }
ordered_json OptionalInt(const std::optional<int>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }

ordered_json DetectionToAppJson(const Detection& d) {
  return {{"id", d.id},
          {"label", d.label},
          {"bounding_box", d.bounding_box},
          {"confidence", OptionalNumber(d.confidence)}};
}

// A config entry that is a string, else null (FiftyOne stores unset fields
// as None).
ordered_json StringOrNull(const json& config, const char* key) {
  auto it = config.find(key);
  return it != config.end() && it->is_string() ? ordered_json(it->get<std::string>()) : ordered_json(nullptr);
}

std::string StringOr(const json& config, const char* key, const std::string& fallback) {
  auto it = config.find(key);
  return it != config.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

std::string UrlEncodePathSegment(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (IsUnreserved(c)) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string DatasetUrl(const std::string& dataset) { return "/api/datasets/" + UrlEncodePathSegment(dataset); }

ordered_json SampleToAppJson(const std::string& dataset, const Sample& sample) {
  ordered_json detections = ordered_json::object();
  for (const auto& [field, dets] : sample.label_fields) {
    ordered_json list = ordered_json::array();
    for (const Detection& d : dets.detections) list.push_back(DetectionToAppJson(d));
    detections[field] = std::move(list);
  }
  std::string base = DatasetUrl(dataset);
  return {{"id", sample.id},
          {"filepath", sample.filepath},
          {"width", OptionalInt(sample.width)},
          {"height", OptionalInt(sample.height)},
          {"tags", sample.tags},
          {"detections", std::move(detections)},
          {"thumbnail_url", base + "/thumbnails/" + sample.id},
          {"media_url", base + "/media/" + sample.id}};
}

ordered_json PatchToAppJson(const std::string& dataset, const Sample& sample, const Detection& detection) {
  return {{"sample_id", sample.id},
          {"label_id", detection.id},
          {"label", detection.label},
          {"bounding_box", detection.bounding_box},
          {"confidence", OptionalNumber(detection.confidence)},
          {"thumbnail_url", DatasetUrl(dataset) + "/thumbnails/" + sample.id + "?label_id=" + detection.id},
          {"filepath", sample.filepath}};
}

bool SupportsLeastSimilarity(const std::string& backend, const std::string& metric) {
  try {
    if (!SimilarityBackendCapabilities(backend).supports_least_similarity) return false;
  } catch (const std::exception&) {
    return false;  // a backend this build does not have cannot search at all
  }
  // Qdrant answers farthest-first by querying -q, which only means "least
  // similar" for cosine and dot product (README, "Qdrant").
  return backend != "qdrant" || metric == "cosine" || metric == "dotproduct";
}

ordered_json BrainRunToAppJson(const BrainInfo& info) {
  const json& c = info.config;
  std::string backend = StringOr(c, "method", "");
  std::string metric = StringOr(c, "metric", "");
  auto prompts = c.find("supports_prompts");
  return {{"key", info.key},
          {"type", info.type},
          {"backend", backend},
          {"metric", metric},
          {"model", StringOrNull(c, "model")},
          {"patches_field", StringOrNull(c, "patches_field")},
          {"supports_prompts", prompts != c.end() && prompts->is_boolean() && prompts->get<bool>()},
          {"supports_least_similarity", SupportsLeastSimilarity(backend, metric)}};
}

}  // namespace fo::internal
