#include "fo/value.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "fo/error.h"

namespace fo {
namespace {

// A float widened to double prints as 0.10000000149011612; going through the
// shortest float text gives the double 0.1, which is what the user stored.
double ShortestDouble(float f) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf) - 1, f);
  if (ec != std::errc()) return f;
  *end = '\0';
  return std::strtod(buf, nullptr);
}

}  // namespace

nlohmann::json Value::ToJson() const {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(bool b) const { return b; }
    nlohmann::json operator()(int64_t i) const { return i; }
    nlohmann::json operator()(double d) const { return d; }
    nlohmann::json operator()(const std::string& s) const { return s; }
    nlohmann::json operator()(const ValueList& list) const {
      nlohmann::json a = nlohmann::json::array();
      for (const Value& v : list) a.push_back(v.ToJson());
      return a;
    }
    nlohmann::json operator()(const FloatVector& vec) const {
      nlohmann::json a = nlohmann::json::array();
      for (float f : vec) a.push_back(std::isfinite(f) ? ShortestDouble(f) : double{f});
      return a;
    }
  };
  return std::visit(Visitor{}, v_);
}

Value Value::FromJson(const nlohmann::json& j) {
  using Type = nlohmann::json::value_t;
  switch (j.type()) {
    case Type::null: return Value();
    case Type::boolean: return Value(j.get<bool>());
    case Type::number_integer: return Value(j.get<int64_t>());
    case Type::number_unsigned: {
      // Only integers above INT64_MAX land here; keep their magnitude.
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case Type::number_float: return Value(j.get<double>());
    case Type::string: return Value(j.get<std::string>());
    case Type::array: {
      ValueList list;
      list.reserve(j.size());
      for (const auto& e : j) list.push_back(FromJson(e));
      return Value(std::move(list));
    }
    default:
      throw InvalidArgument(std::string("a field value cannot be a JSON ") + j.type_name());
  }
}

void Value::ThrowWrongType() const {
  throw InvalidArgument(std::string("value has the wrong type: it is a ") + ValueTypeName(*this));
}

const char* ValueTypeName(const Value& v) {
  static constexpr const char* kNames[] = {"null", "bool", "int", "float", "string", "list", "vector"};
  static_assert(std::size(kNames) == std::variant_size_v<Value::Variant>);
  return kNames[v.variant().index()];
}

}  // namespace fo
