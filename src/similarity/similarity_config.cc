#include <set>

#include "fo/error.h"
#include "fo/similarity.h"

namespace fo {

using nlohmann::json;

bool IsCredentialParam(const std::string& name) {
  static const std::set<std::string> kCredentials = {"url", "api_key", "grpc_port", "prefer_grpc", "password", "token"};
  return kCredentials.count(name) > 0;
}

namespace {
json NullIfEmpty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
std::string StringOrEmpty(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}
}  // namespace

json SimilarityConfig::ToJson() const {
  json params_out = json::object();
  for (const auto& [k, v] : params.items())
    if (!IsCredentialParam(k) && k != "metric") params_out[k] = v;
  return {
      {"method", backend},
      {"metric", metric},
      {"embeddings_field", NullIfEmpty(embeddings_field)},
      {"patches_field", NullIfEmpty(patches_field)},
      {"model", NullIfEmpty(model)},
      {"model_kwargs", model_kwargs},
      {"supports_prompts", supports_prompts ? json(*supports_prompts) : json(nullptr)},
      {"params", params_out},
  };
}

SimilarityConfig SimilarityConfig::FromJson(const json& j) {
  try {
    SimilarityConfig c;
    c.backend = j.at("method").get<std::string>();
    c.metric = j.at("metric").get<std::string>();
    c.embeddings_field = StringOrEmpty(j, "embeddings_field");
    c.patches_field = StringOrEmpty(j, "patches_field");
    c.model = StringOrEmpty(j, "model");
    c.model_kwargs = j.value("model_kwargs", json::object());
    if (j.contains("supports_prompts") && !j["supports_prompts"].is_null()) c.supports_prompts = j["supports_prompts"].get<bool>();
    c.params = j.value("params", json::object());
    return c;
  } catch (const json::exception& e) {
    throw Corruption(std::string("a stored similarity config cannot be read: ") + e.what());
  }
}

}  // namespace fo
