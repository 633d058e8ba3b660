// A JSON parser for the responses that carry vectors (retrieve and scroll
// with with_vector): nlohmann's parser spends ~200 ns per number, so 1000
// records of 512 floats took over 100 ms to parse, ten times the cost of
// reading the same floats with std::from_chars. This parser builds the same
// nlohmann tree for everything else (envelope, ids, payloads) but reads each
// record's dense "vector" array straight into a std::vector<float>, with
// correct rounding from the decimal text (no detour through double).
//
// Records are the objects at result[i] (retrieve) and result.points[i]
// (scroll, query); a "vector" key anywhere else (inside a payload, say) is an
// ordinary value.
#ifndef FO_QDRANT_RESPONSE_PARSER_H_
#define FO_QDRANT_RESPONSE_PARSER_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace fo::internal {

struct ParsedResponse {
  // The document, with each record's "vector" array replaced by a reference
  // into `vectors` (see VectorRef). JSON text never produces binary values,
  // so a reference cannot be confused with data.
  nlohmann::json doc;
  std::vector<std::vector<float>> vectors;

  // The index into `vectors` that `value` refers to, or nullopt if `value`
  // is not a reference.
  static std::optional<size_t> VectorRef(const nlohmann::json& value);
};

class JsonParseError : public std::runtime_error {
 public:
  JsonParseError(const std::string& what, size_t offset);
  size_t offset() const { return offset_; }

 private:
  size_t offset_;
};

// Parses an RFC 8259 document (with nesting up to 512 levels). Numbers
// become unsigned, signed or floating nlohmann values as nlohmann's parser
// makes them; strings are not checked for valid UTF-8. Throws JsonParseError.
ParsedResponse ParseResponseWithVectors(std::string_view text);

}  // namespace fo::internal

#endif  // FO_QDRANT_RESPONSE_PARSER_H_
