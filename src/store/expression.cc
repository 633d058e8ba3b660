#include "fo/expression.h"

#include <nlohmann/json.hpp>

#include "fo/error.h"
#include "store/expression_sql.h"

namespace fo {

using nlohmann::json;

namespace {

// A literal in the JSON form: strings that look like field references
// ("$x") are wrapped in {"$literal": ...} so that they stay strings.
bool HoldsDollarString(const json& j) {
  if (j.is_string()) return !j.get_ref<const std::string&>().empty() && j.get_ref<const std::string&>()[0] == '$';
  if (j.is_array())
    for (const auto& e : j)
      if (HoldsDollarString(e)) return true;
  return false;
}

json LiteralJson(const Value& v) {
  if (v.is_vector()) throw InvalidArgument("a float vector cannot be used in a view expression");
  json j = v.ToJson();
  return HoldsDollarString(j) ? json{{"$literal", j}} : j;
}

json ValuesJson(const std::vector<Value>& values) {
  json list = json::array();
  for (const auto& v : values) list.push_back(v.ToJson());
  return HoldsDollarString(list) ? json{{"$literal", list}} : list;
}

}  // namespace

Expr::Expr() : j_(std::make_shared<const json>(nullptr)) {}
Expr::Expr(const Value& literal) : j_(std::make_shared<const json>(LiteralJson(literal))) {}

Expr Expr::Field(const std::string& path) {
  if (path.empty()) return Expr(std::make_shared<const json>("$$this"));
  if (path[0] == '$') throw InvalidArgument("field path '" + path + "' must not start with '$'; write F(\"" + path.substr(1) + "\")");
  return Expr(std::make_shared<const json>("$" + path));
}

Expr Expr::FromJson(const json& j) {
  internal::ValidateExpressionJson(j);
  return Expr(std::make_shared<const json>(j));
}

json Expr::ToJson() const { return *j_; }

Expr Expr::Op(const char* name, json args) { return Expr(std::make_shared<const json>(json{{name, std::move(args)}})); }
Expr Expr::Binary(const char* name, const Expr& o) const { return Op(name, json::array({*j_, *o.j_})); }
Expr Expr::Unary(const char* name) const { return Op(name, *j_); }

Expr Expr::operator==(const Expr& o) const { return Binary("$eq", o); }
Expr Expr::operator!=(const Expr& o) const { return Binary("$ne", o); }
Expr Expr::operator<(const Expr& o) const { return Binary("$lt", o); }
Expr Expr::operator<=(const Expr& o) const { return Binary("$lte", o); }
Expr Expr::operator>(const Expr& o) const { return Binary("$gt", o); }
Expr Expr::operator>=(const Expr& o) const { return Binary("$gte", o); }
Expr Expr::operator+(const Expr& o) const { return Binary("$add", o); }
Expr Expr::operator-(const Expr& o) const { return Binary("$subtract", o); }
Expr Expr::operator*(const Expr& o) const { return Binary("$multiply", o); }
Expr Expr::operator/(const Expr& o) const { return Binary("$divide", o); }
Expr Expr::operator%(const Expr& o) const { return Binary("$mod", o); }
Expr Expr::Abs() const { return Unary("$abs"); }
Expr Expr::Length() const { return Unary("$size"); }
Expr Expr::Max() const { return Unary("$max"); }
Expr Expr::Min() const { return Unary("$min"); }
Expr Expr::Sum() const { return Unary("$sum"); }
Expr Expr::Mean() const { return Unary("$avg"); }
Expr Expr::operator~() const { return Op("$not", json::array({*j_})); }

// a & b & c is one $and of three, as FiftyOne writes it (likewise $or).
Expr Expr::Flattened(const char* op, const Expr& o) const {
  json args = json::array();
  for (const json* side : {j_.get(), o.j_.get()}) {
    if (side->is_object() && side->size() == 1 && side->contains(op))
      for (const auto& a : (*side)[op]) args.push_back(a);
    else
      args.push_back(*side);
  }
  return Op(op, std::move(args));
}

Expr Expr::operator&(const Expr& o) const { return Flattened("$and", o); }
Expr Expr::operator|(const Expr& o) const { return Flattened("$or", o); }

Expr Expr::Exists(bool exists) const { return Op("$exists", json::array({*j_, exists})); }
Expr Expr::IsIn(const std::vector<Value>& values) const { return Op("$in", json::array({*j_, ValuesJson(values)})); }
Expr Expr::Contains(const std::vector<Value>& values, bool all) const {
  return Op("$contains", json::array({*j_, ValuesJson(values), all}));
}
Expr Expr::Filter(const Expr& condition) const { return Op("$filter", json{{"input", *j_}, {"cond", *condition.j_}}); }
Expr Expr::operator[](int64_t i) const { return Op("$arrayElemAt", json::array({*j_, i})); }

Expr Expr::StartsWith(const std::vector<std::string>& prefixes, bool case_sensitive) const {
  return Op("$startsWith", json::array({*j_, ValuesJson({prefixes.begin(), prefixes.end()}), case_sensitive}));
}
Expr Expr::EndsWith(const std::vector<std::string>& suffixes, bool case_sensitive) const {
  return Op("$endsWith", json::array({*j_, ValuesJson({suffixes.begin(), suffixes.end()}), case_sensitive}));
}
Expr Expr::ReMatch(const std::string& regex, bool case_sensitive) const {
  return Op("$regexMatch", json{{"input", *j_}, {"regex", regex}, {"options", case_sensitive ? "" : "i"}});
}

}  // namespace fo
