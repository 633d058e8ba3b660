// View expressions (fo/expression.h) compiled to SQLite SQL over the store's
// schema (docs/storage.md). Sample paths resolve against the row of
// `samples` aliased `s`; label attributes against a row of `labels`.
// Literals are written into the SQL text (quoted), so compiled fragments
// carry no parameters and can be nested freely.
//
// A view's stages can change what its samples carry (select_fields,
// filter_labels, limit_labels): SampleShape records that, and every
// expression compiled for the view sees the labels the view shows (a match
// after filter_labels counts the filtered labels, as in FiftyOne).
#ifndef FO_STORE_EXPRESSION_SQL_H_
#define FO_STORE_EXPRESSION_SQL_H_

#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fo/sample.h"
#include "store/sqlite.h"

namespace fo::internal {

// Throws kInvalidArgument for an unknown operator or a malformed argument.
void ValidateExpressionJson(const nlohmann::json& j);

// One step applied to a label field's detections: keep those matching
// `filter` (a label expression), or, without a filter, the first `limit`.
struct LabelStep {
  std::optional<nlohmann::json> filter;
  size_t limit = 0;
};

// What the stages did to the fields of the samples a view returns.
struct SampleShape {
  std::optional<std::set<std::string>> selected;  // user and label fields kept; nullopt: all
  std::set<std::string> excluded;
  std::map<std::string, std::vector<LabelStep>> label_steps;  // by label field

  // Whether a user or label field (a path's first component) is in the view.
  bool Keeps(const std::string& field) const;
};

// What expressions resolve against: the dataset's declared field types and
// the view's shape (null: the samples as stored).
struct ExprEnv {
  std::map<std::string, std::string> field_types;
  std::shared_ptr<const SampleShape> shape;
};

ExprEnv LoadExprEnv(Sqlite& db, int64_t dataset_id, std::shared_ptr<const SampleShape> shape);

// A condition (0/1) over the sample row `s`.
std::string SampleConditionSql(const ExprEnv& env, const nlohmann::json& e);
// A condition over the label row `alias` of label field `field`.
std::string LabelConditionSql(const ExprEnv& env, const nlohmann::json& e, const std::string& alias,
                              const std::string& field);
// The labels of `field` the view shows, as a condition over the row `alias`
// of `labels` (the field test included).
std::string VisibleLabelsSql(const ExprEnv& env, const std::string& field, const std::string& alias);

// An expression's values over the sample row `s`: one value per sample, or,
// for a list (tags, a list field, a label list or attribute), its elements
// as rows of `join` (a table to join after `s`, e.g. "JOIN labels AS l7 ON
// ...") with `value` their SQL and `order` their order within the sample.
// `labels` marks a list of detections, whose value is the detection's id;
// `boolean` a value of a bool field or a condition (SQLite gives 0 / 1);
// `exists` (lists) whether the sample has the list at all.
struct ValuesSql {
  bool is_list = false;
  bool labels = false;
  bool boolean = false;
  std::string value;
  std::string join;
  std::string order;
  std::string exists;
};
ValuesSql ExpressionValuesSql(const ExprEnv& env, const nlohmann::json& e);

// The SQL of a path for a field reference: "metadata.width" -> "$metadata.width".
nlohmann::json PathJson(const std::string& path);

// Gives `samples` (read from the store) the shape: drops the fields left
// out and the detections filtered out (one query per filtered label field).
void ApplyShape(Sqlite& db, const SampleShape& shape, std::vector<Sample>& samples);

// Registers the SQL functions compiled expressions call (fo_regexp, and
// fo_field: json_extract of one top-level key, faster).
// Idempotent; call with the store's mutex held, before preparing.
void RegisterExpressionFunctions(Sqlite& db);

}  // namespace fo::internal

#endif  // FO_STORE_EXPRESSION_SQL_H_
