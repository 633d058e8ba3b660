// fo::Expr: a view expression, FiftyOne's ViewField / ViewExpression. An
// expression is a value: building one does no I/O; the stages that take one
// (View::Match, SortBy, FilterLabels...) compile it into the view's SQL.
//
//   using fo::F;
//   view.Match(F("confidence") > 0.5 && F("metadata.width") >= 640);
//   view.Match(F("ground_truth.detections").Filter(F("label") == "cat").Length() > 0);
//   view.FilterLabels("ground_truth", F("confidence") > 0.8);
//
// Field references. F("path") names a sample field: "id", "filepath", "tags",
// "metadata.width" / "metadata.height", a user field, a label field "gt" or
// its list "gt.detections", or one attribute of every detection,
// "gt.detections.label" (a list per sample). Inside Filter's condition and in
// the label stages (FilterLabels, MatchLabels) a reference names an
// attribute of the element ("label", "confidence", "bounding_box", "id" or
// any detection attribute); F() is the element itself.
//
// Semantics follow MongoDB's aggregation expressions, which FiftyOne
// compiles to: a missing value is null, null sorts before every value (so
// F("x") < 3 holds for a sample without x, F("x") > 3 does not), == / != are
// null-safe, a number is true unless 0, and null is false.
//
// Serialised form: ToJson() gives the MongoDB-like JSON FiftyOne uses,
// {"$gt": ["$confidence", 0.5]}; FromJson() reads it back (and validates
// the operators; the fields are checked when a view compiles it).
#ifndef FO_EXPRESSION_H_
#define FO_EXPRESSION_H_

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "fo/value.h"

namespace fo {

class Expr {
 public:
  // A literal null.
  Expr();
  // Literals.
  Expr(const Value& literal);  // NOLINT: literals convert, as in Python
  Expr(bool v) : Expr(Value(v)) {}
  Expr(int v) : Expr(Value(v)) {}
  Expr(int64_t v) : Expr(Value(v)) {}
  Expr(double v) : Expr(Value(v)) {}
  Expr(const char* v) : Expr(Value(v)) {}
  Expr(std::string v) : Expr(Value(std::move(v))) {}

  // A field reference (see the file comment); "" is the current element.
  static Expr Field(const std::string& path);
  // Parses the JSON form. Throws kInvalidArgument naming the first unknown
  // operator or malformed argument.
  static Expr FromJson(const nlohmann::json& j);
  nlohmann::json ToJson() const;

  // Comparisons, logic and arithmetic (null-safe as in the file comment).
  Expr operator==(const Expr& o) const;
  Expr operator!=(const Expr& o) const;
  Expr operator<(const Expr& o) const;
  Expr operator<=(const Expr& o) const;
  Expr operator>(const Expr& o) const;
  Expr operator>=(const Expr& o) const;
  Expr operator&(const Expr& o) const;
  Expr operator|(const Expr& o) const;
  Expr operator&&(const Expr& o) const { return *this & o; }
  Expr operator||(const Expr& o) const { return *this | o; }
  Expr operator~() const;
  Expr operator!() const { return ~*this; }
  Expr operator+(const Expr& o) const;
  Expr operator-(const Expr& o) const;
  Expr operator*(const Expr& o) const;
  Expr operator/(const Expr& o) const;  // always a float, as $divide
  Expr operator%(const Expr& o) const;
  Expr Abs() const;

  // The value is set (not null / missing); Exists(false) is its negation.
  Expr Exists(bool exists = true) const;
  // The value is one of `values`.
  Expr IsIn(const std::vector<Value>& values) const;

  // On lists (tags, list fields, label lists, per-detection attributes):
  // number of elements (0 when missing).
  Expr Length() const;
  // The list holds `value`; with several values, any of them (or, with
  // all = true, every one).
  Expr Contains(const Value& value) const { return Contains(std::vector<Value>{value}); }
  Expr Contains(const std::vector<Value>& values, bool all = false) const;
  // The elements for which `condition` holds (over the element, see above).
  Expr Filter(const Expr& condition) const;
  // Element i (negative counts from the end); null when out of range.
  Expr operator[](int64_t i) const;
  // Largest, smallest, sum (0 when empty) and mean (null when empty) of the elements.
  Expr Max() const;
  Expr Min() const;
  Expr Sum() const;
  Expr Mean() const;

  // On strings: starts / ends with any of the strings; matches the
  // (ECMAScript) regular expression anywhere in the value.
  Expr StartsWith(const std::vector<std::string>& prefixes, bool case_sensitive = true) const;
  Expr StartsWith(const std::string& prefix, bool case_sensitive = true) const {
    return StartsWith(std::vector<std::string>{prefix}, case_sensitive);
  }
  Expr EndsWith(const std::vector<std::string>& suffixes, bool case_sensitive = true) const;
  Expr EndsWith(const std::string& suffix, bool case_sensitive = true) const {
    return EndsWith(std::vector<std::string>{suffix}, case_sensitive);
  }
  Expr ReMatch(const std::string& regex, bool case_sensitive = true) const;

 private:
  explicit Expr(std::shared_ptr<const nlohmann::json> j) : j_(std::move(j)) {}
  static Expr Op(const char* name, nlohmann::json args);
  Expr Binary(const char* name, const Expr& o) const;
  Expr Unary(const char* name) const;
  Expr Flattened(const char* op, const Expr& o) const;

  std::shared_ptr<const nlohmann::json> j_;  // never null
};

// FiftyOne's ViewField, spelled F as in `from fiftyone import ViewField as F`.
inline Expr F(const std::string& path = "") { return Expr::Field(path); }

}  // namespace fo

#endif  // FO_EXPRESSION_H_
