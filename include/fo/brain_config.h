// fo::BrainConfig: FiftyOne's brain configuration, read the way FiftyOne
// reads it: ~/.fiftyone/brain_config.json (or $FIFTYONE_BRAIN_CONFIG_PATH),
// then FIFTYONE_BRAIN_* environment variables over it. Precedence when a run
// is created: explicit arguments > env > file > defaults.
#ifndef FO_BRAIN_CONFIG_H_
#define FO_BRAIN_CONFIG_H_

#include <nlohmann/json.hpp>
#include <string>

namespace fo {

class BrainConfig {
 public:
  // $FIFTYONE_BRAIN_CONFIG_PATH if set and non-empty, else
  // ~/.fiftyone/brain_config.json.
  static std::string DefaultPath();

  // Reads the file (a missing file means defaults) and applies the
  // environment. Throws kCorruption naming the file and the problem when it
  // is not valid JSON or has keys of the wrong type.
  static BrainConfig Load();
  static BrainConfig LoadFrom(const std::string& path);

  // "sklearn" unless the file or $FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND
  // (when non-empty) says otherwise.
  const std::string& default_similarity_backend() const { return default_similarity_backend_; }

  // The parameters configured for a backend: the file's
  // similarity_backends.<backend> object, overridden by every
  // FIFTYONE_BRAIN_SIMILARITY_<BACKEND>_<PARAM> variable (PARAM lower-cased,
  // values parsed as FiftyOne does: int, float, bool, None, comma list,
  // string). Always an object.
  nlohmann::json SimilarityBackendParams(const std::string& backend) const;

  const nlohmann::json& similarity_backends() const { return similarity_backends_; }

 private:
  std::string default_similarity_backend_ = "sklearn";
  nlohmann::json similarity_backends_ = nlohmann::json::object();
};

// How FiftyOne parses one environment value (eta's _parse_env_var):
// "12" -> 12, "1.5" -> 1.5, "true"/"True" -> true, "None"/"" -> null,
// "a,b" -> ["a", "b"] (elements parsed the same way), else the string.
nlohmann::json ParseEnvValue(const std::string& value);

}  // namespace fo

#endif  // FO_BRAIN_CONFIG_H_
