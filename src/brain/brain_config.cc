// Mirrors fiftyone/brain/config.py (BrainConfig, locate_brain_config,
// _parse_env_value) so a user's existing brain_config.json and FIFTYONE_BRAIN_*
// variables mean the same thing to fo as to FiftyOne.
#include "fo/brain_config.h"

#include <pwd.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "fo/error.h"

extern char** environ;

namespace fo {
namespace {

using nlohmann::json;

// FiftyOne's built-in similarity backends. They are always declared, so their
// FIFTYONE_BRAIN_SIMILARITY_<NAME>_* variables apply even without a file.
constexpr const char* kBuiltinBackends[] = {"elasticsearch", "lancedb", "milvus",  "mongodb", "mosaic",
                                            "pgvector",      "pinecone", "qdrant", "redis",   "sklearn"};
constexpr std::string_view kParamPrefix = "FIFTYONE_BRAIN_SIMILARITY_";

std::optional<std::string> GetEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

[[noreturn]] void Corrupt(const std::string& path, const std::string& problem) {
  throw Corruption(path + ": " + problem);
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// Appends Python digits (single underscores allowed between digits) from
// s[pos] to *out; returns the position after them, or pos if there are none.
size_t ScanDigits(std::string_view s, size_t pos, std::string* out) {
  size_t i = pos;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    out->push_back(s[i++]);
    if (i + 1 < s.size() && s[i] == '_' && std::isdigit(static_cast<unsigned char>(s[i + 1]))) ++i;
  }
  return i;
}

// Python's int(s): surrounding space, a sign, decimal digits.
std::optional<json> ParsePythonInt(std::string_view s) {
  s = Trim(s);
  std::string digits;
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (s.empty() || ScanDigits(s, i, &digits) != s.size() || digits.empty()) return std::nullopt;
  const bool negative = s[0] == '-';
  if (negative) digits.insert(0, "-");
  int64_t v = 0;
  if (auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v); r.ec == std::errc()) return json(v);
  uint64_t u = 0;
  if (!negative && std::from_chars(digits.data(), digits.data() + digits.size(), u).ec == std::errc()) {
    return json(u);
  }
  // Python keeps any size of integer; JSON numbers this large are doubles.
  return json(std::strtod(digits.c_str(), nullptr));
}

// Python's float(s): decimal or exponent notation, or inf/infinity/nan in any
// case. Unlike strtod, no hex floats and no "nan(...)".
std::optional<double> ParsePythonFloat(std::string_view s) {
  s = Trim(s);
  std::string text;
  size_t i = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) text.push_back(s[i++]);
  std::string rest(s.substr(i));
  for (char& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (rest == "inf" || rest == "infinity") return text == "-" ? -HUGE_VAL : HUGE_VAL;
  if (rest == "nan") return std::nan("");

  size_t before = text.size();
  i = ScanDigits(s, i, &text);
  bool has_digits = text.size() > before;
  if (i < s.size() && s[i] == '.') {
    text.push_back(s[i]);
    before = text.size();
    i = ScanDigits(s, i + 1, &text);
    has_digits = has_digits || text.size() > before;
  }
  if (!has_digits) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    text.push_back('e');
    if (++i < s.size() && (s[i] == '+' || s[i] == '-')) text.push_back(s[i++]);
    before = text.size();
    i = ScanDigits(s, i, &text);
    if (text.size() == before) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return std::strtod(text.c_str(), nullptr);
}

std::string HomeDir() {
  if (auto home = GetEnv("HOME")) return *home;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return ".";
}

// Reads the file's JSON object; nullopt when there is no file (defaults).
std::optional<json> ReadConfigFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw IOError(path + ": cannot read: " + std::strerror(errno));
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " tag.
    std::string what = e.what();
    size_t tag_end = what.find("] ");
    Corrupt(path, "not valid JSON: " + (tag_end == std::string::npos ? what : what.substr(tag_end + 2)));
  }
  if (!j.is_object()) Corrupt(path, std::string("expected a JSON object, found ") + j.type_name());
  return j;
}

// Which backends exist: FIFTYONE_BRAIN_SIMILARITY_BACKENDS="a,b" declares
// exactly those ("*" standing for the built-ins) and drops the file's others;
// otherwise the file's backends plus the built-ins.
json DeclareBackends(const json& from_file) {
  auto declared = GetEnv("FIFTYONE_BRAIN_SIMILARITY_BACKENDS");
  if (!declared) {
    json backends = from_file;
    for (const char* name : kBuiltinBackends) {
      if (!backends.contains(name)) backends[name] = json::object();
    }
    return backends;
  }
  json backends = json::object();
  auto declare = [&](const std::string& name) {
    backends[name] = from_file.contains(name) ? from_file[name] : json::object();
  };
  std::stringstream list(*declared);
  for (std::string item; std::getline(list, item, ',');) {
    std::string name(Trim(item));
    if (name == "*") {
      for (const char* builtin : kBuiltinBackends) declare(builtin);
    } else if (!name.empty()) {
      declare(name);
    }
  }
  return backends;
}

// Sets similarity_backends.<backend>.<param> from every
// FIFTYONE_BRAIN_SIMILARITY_<BACKEND>_<PARAM> variable.
void ApplyParamEnv(json* backends) {
  for (auto& [backend, params] : backends->items()) {
    std::string prefix(kParamPrefix);
    for (char c : backend) prefix.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    prefix.push_back('_');
    for (char** env = environ; *env != nullptr; ++env) {
      std::string_view entry(*env);
      size_t eq = entry.find('=');
      if (eq == std::string_view::npos || !entry.starts_with(prefix) || eq <= prefix.size()) continue;
      std::string name(entry.substr(prefix.size(), eq - prefix.size()));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      params[name] = ParseEnvValue(std::string(entry.substr(eq + 1)));
    }
  }
}

}  // namespace

json ParseEnvValue(const std::string& value) {
  if (auto i = ParsePythonInt(value)) return *i;
  if (auto f = ParsePythonFloat(value)) return *f;
  if (value == "True" || value == "true") return true;
  if (value == "False" || value == "false") return false;
  if (value == "None" || value.empty()) return nullptr;
  if (value.find(',') != std::string::npos) {
    // Python's str.split(","): empty items stay, and parse to null.
    json list = json::array();
    size_t start = 0;
    for (size_t comma; (comma = value.find(',', start)) != std::string::npos; start = comma + 1) {
      list.push_back(ParseEnvValue(value.substr(start, comma - start)));
    }
    list.push_back(ParseEnvValue(value.substr(start)));
    return list;
  }
  return value;
}

std::string BrainConfig::DefaultPath() {
  if (auto path = GetEnv("FIFTYONE_BRAIN_CONFIG_PATH")) return *path;
  return HomeDir() + "/.fiftyone/brain_config.json";
}

BrainConfig BrainConfig::Load() { return LoadFrom(DefaultPath()); }

BrainConfig BrainConfig::LoadFrom(const std::string& path) {
  BrainConfig config;
  json from_file = json::object();
  if (auto file = ReadConfigFile(path)) {
    // A null value counts as absent, as in FiftyOne's parse_* helpers.
    if (auto it = file->find("default_similarity_backend"); it != file->end() && !it->is_null()) {
      if (!it->is_string()) Corrupt(path, "'default_similarity_backend' must be a string");
      config.default_similarity_backend_ = it->get<std::string>();
    }
    if (auto it = file->find("similarity_backends"); it != file->end() && !it->is_null()) {
      if (!it->is_object()) Corrupt(path, "'similarity_backends' must be an object");
      for (const auto& [name, params] : it->items()) {
        if (!params.is_object()) Corrupt(path, "'similarity_backends." + name + "' must be an object");
      }
      from_file = *it;
    }
  }
  if (auto backend = GetEnv("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND")) config.default_similarity_backend_ = *backend;
  config.similarity_backends_ = DeclareBackends(from_file);
  ApplyParamEnv(&config.similarity_backends_);
  return config;
}

json BrainConfig::SimilarityBackendParams(const std::string& backend) const {
  auto it = similarity_backends_.find(backend);
  return it != similarity_backends_.end() ? *it : json::object();
}

}  // namespace fo
