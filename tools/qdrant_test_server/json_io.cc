#include "json_io.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "api_error.h"

namespace qdrant_test_server {
namespace {

// Splits "a.b.c" into its parts.
std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

void CopyPath(const json& from, const std::vector<std::string>& parts, size_t i, json& to) {
  auto it = from.find(parts[i]);
  if (it == from.end()) return;
  if (i + 1 == parts.size()) {
    to[parts[i]] = *it;
    return;
  }
  if (!it->is_object()) return;
  json& child = to[parts[i]];
  if (!child.is_object()) child = json::object();
  CopyPath(*it, parts, i + 1, child);
  if (child.empty()) to.erase(parts[i]);
}

void ErasePath(json& object, const std::vector<std::string>& parts, size_t i) {
  auto it = object.find(parts[i]);
  if (it == object.end()) return;
  if (i + 1 == parts.size()) {
    object.erase(it);
  } else if (it->is_object()) {
    ErasePath(*it, parts, i + 1);
  }
}

std::vector<std::string> ReadKeyList(const json& list) {
  if (!list.is_array()) {
    throw FormatError("invalid type: " + DescribeUnexpected(list) + ", expected a sequence");
  }
  std::vector<std::string> keys;
  for (const json& key : list) {
    if (!key.is_string()) {
      throw FormatError("invalid type: " + DescribeUnexpected(key) + ", expected a string");
    }
    keys.push_back(key.get<std::string>());
  }
  return keys;
}

}  // namespace

json ParseJsonBody(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    // serde reports the 1-based line and the column of the offending byte.
    size_t end = std::min<size_t>(e.byte == 0 ? 0 : e.byte - 1, body.size());
    size_t line = 1, column = 0;
    for (size_t i = 0; i < end; ++i) {
      if (body[i] == '\n') {
        ++line;
        column = 0;
      } else {
        ++column;
      }
    }
    bool at_end = body.find_first_not_of(" \t\r\n", end) == std::string::npos;
    std::string what = at_end ? "EOF while parsing a value" : "expected value";
    if (!at_end) ++column;
    throw FormatError(what + " at line " + std::to_string(line) + " column " + std::to_string(column));
  }
}

std::string DescribeUnexpected(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return "string " + value.dump();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer `" + value.dump() + "`";
    case json::value_t::number_float:
      return "floating point `" + value.dump() + "`";
    case json::value_t::boolean:
      return "boolean `" + value.dump() + "`";
    case json::value_t::null:
      return "null";
    case json::value_t::array:
      return "sequence";
    default:
      return "map";
  }
}

void ExpectObject(const json& value, const std::string& expected) {
  if (!value.is_object()) {
    throw FormatError("invalid type: " + DescribeUnexpected(value) + ", expected " + expected);
  }
}

const json* Field(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<uint64_t> ReadUint(const json& object, std::string_view key, const char* type_name,
                                 uint64_t max) {
  const json* value = Field(object, key);
  if (value == nullptr) return std::nullopt;
  if (value->is_number_unsigned()) {
    uint64_t number = value->get<uint64_t>();
    if (number <= max) return number;
  }
  if (value->is_number_integer()) {  // negative, or above max
    throw FormatError("invalid value: " + DescribeUnexpected(*value) + ", expected " + type_name +
                      " (field `" + std::string(key) + "`)");
  }
  throw FormatError("invalid type: " + DescribeUnexpected(*value) + ", expected " + type_name + " (field `" +
                    std::string(key) + "`)");
}

std::optional<bool> ReadBool(const json& object, std::string_view key) {
  const json* value = Field(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    throw FormatError("invalid type: " + DescribeUnexpected(*value) + ", expected a boolean (field `" +
                      std::string(key) + "`)");
  }
  return value->get<bool>();
}

std::optional<double> ReadNumber(const json& object, std::string_view key) {
  const json* value = Field(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    throw FormatError("invalid type: " + DescribeUnexpected(*value) + ", expected f64 (field `" +
                      std::string(key) + "`)");
  }
  return value->get<double>();
}

std::optional<std::string> ReadString(const json& object, std::string_view key) {
  const json* value = Field(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    throw FormatError("invalid type: " + DescribeUnexpected(*value) + ", expected a string (field `" +
                      std::string(key) + "`)");
  }
  return value->get<std::string>();
}

std::vector<float> ReadDenseVector(const json& value) {
  if (value.is_object()) throw Unsupported("Named vectors");
  if (!value.is_array()) {
    throw FormatError("invalid type: " + DescribeUnexpected(value) + ", expected a vector of f32");
  }
  std::vector<float> vector;
  vector.reserve(value.size());
  for (const json& x : value) {
    if (x.is_array()) throw Unsupported("Multi-vectors");
    if (!x.is_number()) {
      throw FormatError("invalid type: " + DescribeUnexpected(x) + ", expected f32");
    }
    vector.push_back(x.get<float>());
  }
  return vector;
}

json FloatToJson(float value) {
  if (!std::isfinite(value)) return nullptr;
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  *end = '\0';
  // The double nearest the shortest f32 decimal prints back as that decimal.
  return std::strtod(buffer, nullptr);
}

json VectorToJson(const std::vector<float>& vector) {
  json out = json::array();
  for (float x : vector) out.push_back(FloatToJson(x));
  return out;
}

std::string FormatNumber(double value) {
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  return json(value).dump();
}

PayloadSelector PayloadSelector::Parse(const json* value, bool default_on) {
  PayloadSelector selector;
  if (value == nullptr) {
    selector.mode_ = default_on ? Mode::kAll : Mode::kNone;
  } else if (value->is_boolean()) {
    selector.mode_ = value->get<bool>() ? Mode::kAll : Mode::kNone;
  } else if (value->is_array()) {
    selector.mode_ = Mode::kInclude;
    selector.keys_ = ReadKeyList(*value);
  } else if (value->is_object() && value->size() == 1 && value->contains("include")) {
    selector.mode_ = Mode::kInclude;
    selector.keys_ = ReadKeyList(value->at("include"));
  } else if (value->is_object() && value->size() == 1 && value->contains("exclude")) {
    selector.mode_ = Mode::kExclude;
    selector.keys_ = ReadKeyList(value->at("exclude"));
  } else {
    throw FormatError("data did not match any variant of untagged enum WithPayloadInterface");
  }
  return selector;
}

json PayloadSelector::Apply(const json& payload) const {
  switch (mode_) {
    case Mode::kNone:
      return nullptr;
    case Mode::kAll:
      return payload;
    case Mode::kInclude: {
      json out = json::object();
      for (const std::string& key : keys_) CopyPath(payload, SplitPath(key), 0, out);
      return out;
    }
    case Mode::kExclude: {
      json out = payload;
      for (const std::string& key : keys_) ErasePath(out, SplitPath(key), 0);
      return out;
    }
  }
  return nullptr;
}

bool ReadWithVector(const json& request, bool default_on) {
  const json* value = Field(request, "with_vector");
  if (value == nullptr) value = Field(request, "with_vectors");
  if (value == nullptr) return default_on;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_array()) {
    for (const std::string& name : ReadKeyList(*value)) {
      if (name.empty()) return true;
    }
    return false;
  }
  throw FormatError("data did not match any variant of untagged enum WithVector");
}

}  // namespace qdrant_test_server
