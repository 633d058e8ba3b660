// Reading request bodies the way Qdrant's serde types do, and writing values
// the way Qdrant prints them. Every reader throws ApiError (400 format error)
// on a wrong type; range checks are left to the caller's Validation (422).
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_JSON_IO_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_JSON_IO_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qdrant_test_server {

using nlohmann::json;

// Parses a request body. Throws 400 "Format error in JSON body: ... at line L
// column C" for bad syntax, including an empty body.
json ParseJsonBody(const std::string& body);

// serde's description of an unexpected value: `string "x"`, `integer `5``,
// `floating point `1.5``, `boolean `true``, `null`, `sequence`, `map`.
std::string DescribeUnexpected(const json& value);

// Throws 400 "invalid type: ..., expected <expected>" unless value is an object.
void ExpectObject(const json& value, const std::string& expected);

// The value of key in object, or nullptr when it is absent or null (serde's
// Option treats both the same).
const json* Field(const json& object, std::string_view key);

// Typed optional fields; nullopt when absent or null. type_name is the Rust
// type in the message ("u64", "u32", "usize").
std::optional<uint64_t> ReadUint(const json& object, std::string_view key, const char* type_name = "u64",
                                 uint64_t max = UINT64_MAX);
std::optional<bool> ReadBool(const json& object, std::string_view key);
std::optional<double> ReadNumber(const json& object, std::string_view key);
std::optional<std::string> ReadString(const json& object, std::string_view key);

// A dense vector: a JSON array of numbers. Named vectors ({"name": [...]}) and
// multi-vectors ([[...], ...]) are rejected as unsupported.
std::vector<float> ReadDenseVector(const json& value);

// A float as Qdrant's serde prints an f32: the shortest decimal that reads
// back to the same f32 (0.70710677, not 0.7071067690849304).
json FloatToJson(float value);
json VectorToJson(const std::vector<float>& vector);

// A number for a message: integers without a fraction ("1"), others shortest.
std::string FormatNumber(double value);

// Which payload keys a response carries (with_payload: bool, [keys],
// {"include": [...]}, {"exclude": [...]}). Keys may be dotted paths.
class PayloadSelector {
 public:
  // value == nullptr (absent or null) selects default_on.
  static PayloadSelector Parse(const json* value, bool default_on);
  bool enabled() const { return mode_ != Mode::kNone; }
  json Apply(const json& payload) const;

 private:
  enum class Mode { kNone, kAll, kInclude, kExclude };
  Mode mode_ = Mode::kNone;
  std::vector<std::string> keys_;
};

// with_vector (or its alias with_vectors): bool, or a list of vector names of
// which only "" (the unnamed vector) exists here.
bool ReadWithVector(const json& request, bool default_on);

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_JSON_IO_H_
