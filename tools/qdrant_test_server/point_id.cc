#include "point_id.h"

#include <cctype>
#include <charconv>

#include "api_error.h"

namespace qdrant_test_server {
namespace {

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> CanonicalUuid(std::string_view text) {
  // The uuid crate's parse_str accepts these four forms.
  if (text.size() == 45 && text.substr(0, 9) == "urn:uuid:") text.remove_prefix(9);
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  std::string hex;
  if (text.size() == 36) {
    for (size_t dash : {8, 13, 18, 23}) {
      if (text[dash] != '-') return std::nullopt;
    }
    for (size_t i = 0; i < text.size(); ++i) {
      if (i != 8 && i != 13 && i != 18 && i != 23) hex.push_back(text[i]);
    }
  } else if (text.size() == 32) {
    hex = std::string(text);
  } else {
    return std::nullopt;
  }
  if (!IsHex(hex)) return std::nullopt;
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

PointId ReadPointId(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return PointId{value.get<uint64_t>()};
  if (value.is_string()) {
    if (auto uuid = CanonicalUuid(value.get_ref<const std::string&>())) return PointId{*uuid};
  }
  throw FormatError("value " + value.dump() +
                    " is not a valid point ID, valid values are either an unsigned integer or a UUID");
}

PointId ParsePathPointId(const std::string& text) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return PointId{number};
  if (auto uuid = CanonicalUuid(text)) return PointId{*uuid};
  throw BadInput("Can not recognize \"" + text + "\" as point id");
}

nlohmann::json ToJson(const PointId& id) {
  if (const auto* number = std::get_if<uint64_t>(&id.value)) return *number;
  return std::get<std::string>(id.value);
}

std::string ToString(const PointId& id) {
  if (const auto* number = std::get_if<uint64_t>(&id.value)) return std::to_string(*number);
  return std::get<std::string>(id.value);
}

}  // namespace qdrant_test_server
