// Qdrant's ExtendedPointId: an unsigned 64-bit integer or a UUID.
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_POINT_ID_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_POINT_ID_H_

#include <compare>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace qdrant_test_server {

struct PointId {
  // A UUID is held in its canonical form (lowercase, hyphenated), so string
  // order equals the byte order Qdrant sorts by, and the variant's order puts
  // every integer before every UUID, as Qdrant's scroll does.
  std::variant<uint64_t, std::string> value;

  auto operator<=>(const PointId&) const = default;
  bool operator==(const PointId&) const = default;
};

// The canonical form of a UUID given hyphenated, as 32 hex digits, braced or
// as urn:uuid:..., in any case; nullopt if text is none of these.
std::optional<std::string> CanonicalUuid(std::string_view text);

// A point id from a JSON body: an unsigned integer or a UUID string. A number
// in a string ("42"), a negative or fractional number is not an id. Throws a
// 400 format error naming the value.
PointId ReadPointId(const nlohmann::json& value);

// A point id from a URL path: an integer first, then a UUID (Qdrant's
// FromStr). Throws 400 "Can not recognize ... as point id".
PointId ParsePathPointId(const std::string& text);

// The id as Qdrant returns it: a JSON number or the hyphenated UUID.
nlohmann::json ToJson(const PointId& id);

// The id as Qdrant prints it in messages.
std::string ToString(const PointId& id);

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_POINT_ID_H_
