#include "fo/aggregations.h"

#include <cmath>
#include <map>

#include "fo/database.h"
#include "fo/error.h"
#include "store/expression_sql.h"
#include "store/view_query.h"

namespace fo {

using internal::Statement;
using internal::ValuesSql;
using internal::ViewQuery;

namespace {

// One aggregation's query: `select` over the view's rows joined to their
// samples (and, for a list path, to its elements); the path's SQL is
// substituted for {value}. Holds the store's mutex while it lives.
class AggregationQuery {
 public:
  AggregationQuery(const View& view, const AggregationPath& path, const char* name)
      : q_(view.Compile()), db_(view.database()->sqlite()), lock_(db_.mutex()) {
    internal::RegisterExpressionFunctions(db_);
    values_ = internal::ExpressionValuesSql(internal::LoadExprEnv(db_, q_.dataset_id, q_.shape), path.expr().ToJson());
    if (values_.labels && std::string(name) != "count")
      throw InvalidArgument(std::string(name) + " needs values, not detections; name an attribute, e.g. "
                            "\"<field>.detections.label\"");
  }

  const ValuesSql& values() const { return values_; }

  // outer_before + "SELECT <select> FROM <rows> WHERE <rows' condition>
  // <tail>" + outer_after, with {value} replaced by the path's SQL and
  // {order} by the rows' view order. left_join keeps the samples whose list
  // is empty. A whole dataset is one scan of samples (no self-join).
  Statement Prepare(std::string select, std::string tail = "", bool left_join = false, const std::string& outer_before = "",
                    const std::string& outer_after = "") {
    const bool whole = q_.whole_dataset;
    Substitute(select, whole);
    Substitute(tail, whole);
    std::string join = values_.is_list ? (left_join ? " LEFT " : " ") + values_.join : "";
    std::string rows = whole ? "samples AS s" + join + " WHERE s.dataset_id = ?"
                             : "(" + q_.sql + ") AS v JOIN samples AS s ON s.seq = v.k" + join + " WHERE 1";
    Statement st = db_.Prepare(outer_before + "SELECT " + select + " FROM " + rows + " " + tail + outer_after);
    int i = 1;
    if (whole) st.Bind(i++, q_.dataset_id);
    for (const auto& p : whole ? std::vector<internal::SqlParam>{} : q_.params)
      std::visit([&](const auto& x) { st.Bind(i++, x); }, p);
    return st;
  }

 private:
  void Substitute(std::string& text, bool whole) const {
    for (size_t pos; (pos = text.find("{value}")) != std::string::npos;) text.replace(pos, 7, values_.value);
    for (size_t pos; (pos = text.find("{order}")) != std::string::npos;) text.replace(pos, 7, whole ? "s.seq" : "v.o");
  }

  ViewQuery q_;
  internal::Sqlite& db_;
  std::lock_guard<std::recursive_mutex> lock_;
  ValuesSql values_;
};

// A result column as a Value (0 / 1 as bools when the path is boolean).
Value ColumnValue(const Statement& st, int col, bool boolean) {
  switch (st.ColumnType(col)) {
    case SQLITE_NULL:
      return Value();
    case SQLITE_INTEGER:
      return boolean ? Value(st.Int(col) != 0) : Value(st.Int(col));
    case SQLITE_FLOAT:
      return Value(st.Double(col));
    default:
      return Value(st.Text(col));
  }
}

}  // namespace

size_t CountValuesOf(const View& view, const AggregationPath& path) {
  AggregationQuery a(view, path, "count");
  auto st = a.Prepare("count({value})");
  st.Step();
  return static_cast<size_t>(st.Int(0));
}

std::vector<std::pair<Value, size_t>> CountValues(const View& view, const AggregationPath& path) {
  AggregationQuery a(view, path, "count_values");
  auto st = a.Prepare("{value} AS agg_value, count(*)", "GROUP BY agg_value ORDER BY agg_value");
  std::vector<std::pair<Value, size_t>> out;
  while (st.Step()) out.emplace_back(ColumnValue(st, 0, a.values().boolean), static_cast<size_t>(st.Int(1)));
  return out;
}

std::vector<Value> Distinct(const View& view, const AggregationPath& path) {
  AggregationQuery a(view, path, "distinct");
  auto st = a.Prepare("DISTINCT {value} AS agg_value", "AND agg_value IS NOT NULL ORDER BY agg_value");
  std::vector<Value> out;
  while (st.Step()) out.push_back(ColumnValue(st, 0, a.values().boolean));
  return out;
}

std::pair<Value, Value> Bounds(const View& view, const AggregationPath& path) {
  AggregationQuery a(view, path, "bounds");
  auto st = a.Prepare("min({value}), max({value})");
  st.Step();
  return {ColumnValue(st, 0, a.values().boolean), ColumnValue(st, 1, a.values().boolean)};
}

double Mean(const View& view, const AggregationPath& path) {
  AggregationQuery a(view, path, "mean");
  auto st = a.Prepare("avg({value})");
  st.Step();
  return st.IsNull(0) ? 0.0 : st.Double(0);
}

Value Sum(const View& view, const AggregationPath& path) {
  AggregationQuery a(view, path, "sum");
  // sum() is an integer while every value is one, and fails on overflow;
  // total() is its float.
  auto st = a.Prepare("total({value}), count({value}) = count(CASE WHEN typeof({value}) = 'integer' THEN 1 END), "
                      "sum(CASE WHEN typeof({value}) = 'integer' THEN {value} END)");
  st.Step();
  const bool all_ints = st.Int(1) != 0;
  if (all_ints && !st.IsNull(2)) return Value(st.Int(2));
  return Value(st.Double(0));
}

double Std(const View& view, const AggregationPath& path, bool sample) {
  AggregationQuery a(view, path, "std");
  // The mean first (a window over all values), then the squared
  // deviations: the precision that sum(x^2) - n * mean^2 would lose is kept.
  // (Aliases unlike any column name: labels has a column x.)
  auto st = a.Prepare("{value} AS agg_value, avg({value}) OVER () AS agg_mean", "", false,
                      "SELECT count(agg_value), total((agg_value - agg_mean) * (agg_value - agg_mean)) FROM (",
                      ") WHERE agg_value IS NOT NULL");
  st.Step();
  const int64_t n = st.Int(0);
  const int64_t dof = sample ? n - 1 : n;
  if (dof <= 0) return 0.0;
  return std::sqrt(st.Double(1) / static_cast<double>(dof));
}

std::vector<Value> ValuesOf(const View& view, const AggregationPath& path) {
  AggregationQuery a(view, path, "values");
  const ValuesSql& v = a.values();
  std::vector<Value> out;
  if (!v.is_list) {
    auto st = a.Prepare("{value}", "ORDER BY {order}");
    while (st.Step()) out.push_back(ColumnValue(st, 0, v.boolean));
    return out;
  }
  auto st = a.Prepare("{order}, " + v.exists + ", {value}, " + v.order, "ORDER BY {order}, " + v.order, /*left_join=*/true);
  std::optional<int64_t> row;
  ValueList list;
  bool present = false;
  auto flush = [&] {
    if (row) out.push_back(present || !list.empty() ? Value(std::move(list)) : Value());
    list.clear();
  };
  while (st.Step()) {
    if (!row || st.Int(0) != *row) {
      flush();
      row = st.Int(0);
      present = st.Int(1) != 0;
    }
    // With no element, the LEFT JOIN gives one row whose element order is null.
    if (!st.IsNull(3)) list.push_back(ColumnValue(st, 2, v.boolean));
  }
  flush();
  return out;
}

}  // namespace fo
