// Qdrant's Filter: must / should / must_not / min_should over conditions
// (has_id, field match value|any|except|text, range, values_count, is_empty,
// is_null, has_vector and nested filters), evaluated on one point at a time.
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_FILTERS_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_FILTERS_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "point_id.h"

namespace qdrant_test_server {

struct Filter;

// Bounds of a range or values_count condition; any may be absent.
struct Bounds {
  std::optional<double> lt, gt, gte, lte;
  bool Contains(double x) const;
};

struct Condition {
  enum class Kind {
    kHasId,
    kMatchValue,
    kMatchAny,
    kMatchExcept,
    kMatchText,
    kRange,
    kValuesCount,
    kIsEmpty,
    kIsNull,
    kHasVector,
    kFilter
  };
  Kind kind = Kind::kFilter;
  std::string key;                       // payload path for field conditions
  std::set<PointId> ids;                 // kHasId
  std::vector<nlohmann::json> values;    // kMatch*: the value(s) to compare
  Bounds bounds;                         // kRange, kValuesCount
  std::shared_ptr<const Filter> filter;  // kFilter
};

struct Filter {
  std::vector<Condition> must, should, must_not;
  std::vector<Condition> min_should;
  size_t min_should_count = 0;
};

// Parses a Filter object. Throws ApiError 400 for a malformed filter (unknown
// key, wrong type) and for condition kinds this server lacks (geo, nested
// arrays, full-text phrase/prefix).
Filter ParseFilter(const nlohmann::json& value);

// Whether the point (id, payload object) passes the filter. An absent clause
// adds no constraint; an empty should matches nothing, an empty must
// everything (Qdrant's query_checker).
bool Matches(const Filter& filter, const PointId& id, const nlohmann::json& payload);

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_FILTERS_H_
