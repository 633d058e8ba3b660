// FiftyOne's aggregations over a view: count, count_values, distinct,
// bounds, mean, sum, std and values, each answered by one SQL query over the
// compiled view (no sample is loaded).
//
// A path names a field as in fo/expression.h ("confidence",
// "metadata.width", "tags", "gt.detections.label"), or is an expression
// (F("confidence") * 100). Lists are unwound as FiftyOne does: the
// aggregation runs over their elements (count_values("tags") counts tags,
// bounds("gt.detections.confidence") spans every detection), except in
// Values, which gives one list per sample. Filtered labels
// (View::FilterLabels) are aggregated as the view shows them.
#ifndef FO_AGGREGATIONS_H_
#define FO_AGGREGATIONS_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fo/expression.h"
#include "fo/value.h"
#include "fo/view.h"

namespace fo {

// A field path or an expression (a path string is a field, never a literal).
class AggregationPath {
 public:
  AggregationPath(const std::string& path) : expr_(F(path)) {}  // NOLINT
  AggregationPath(const char* path) : expr_(F(path)) {}         // NOLINT
  AggregationPath(const Expr& expr) : expr_(expr) {}             // NOLINT
  const Expr& expr() const { return expr_; }

 private:
  Expr expr_;
};

// Values that are set (for a list, its elements; for "gt.detections", the
// detections).
size_t CountValuesOf(const View& view, const AggregationPath& path);
// Each value and how often it occurs, null (missing) included, sorted by value.
std::vector<std::pair<Value, size_t>> CountValues(const View& view, const AggregationPath& path);
// The distinct values that are set, sorted.
std::vector<Value> Distinct(const View& view, const AggregationPath& path);
// (min, max) of the values that are set; (null, null) when there are none.
std::pair<Value, Value> Bounds(const View& view, const AggregationPath& path);
// Mean of the values that are set; 0 when there are none (as FiftyOne).
double Mean(const View& view, const AggregationPath& path);
// Sum of the values that are set (an int when they all are); 0 when none.
Value Sum(const View& view, const AggregationPath& path);
// Standard deviation of the values that are set (population, or with
// sample = true the sample one); 0 when there are too few.
double Std(const View& view, const AggregationPath& path, bool sample = false);
// One value per sample in view order; for a list path, the sample's list
// (null when the sample does not have the list).
std::vector<Value> ValuesOf(const View& view, const AggregationPath& path);

}  // namespace fo

#endif  // FO_AGGREGATIONS_H_
