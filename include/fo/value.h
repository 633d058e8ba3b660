// fo::Value: the value of a user field on a sample or a detection attribute:
// null, bool, int, float, string, list of values, or a float vector (stored
// compactly as float32, the form embeddings take).
#ifndef FO_VALUE_H_
#define FO_VALUE_H_

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <variant>
#include <vector>

namespace fo {

class Value;
using ValueList = std::vector<Value>;
using FloatVector = std::vector<float>;

class Value {
 public:
  using Variant = std::variant<std::monostate, bool, int64_t, double, std::string, ValueList, FloatVector>;

  Value() = default;
  Value(bool v) : v_(v) {}
  Value(int v) : v_(int64_t{v}) {}
  Value(int64_t v) : v_(v) {}
  Value(double v) : v_(v) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(ValueList v) : v_(std::move(v)) {}
  Value(FloatVector v) : v_(std::move(v)) {}

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_vector() const { return std::holds_alternative<FloatVector>(v_); }
  template <typename T> bool is() const { return std::holds_alternative<T>(v_); }
  // Throws kInvalidArgument if the value holds another type.
  template <typename T> const T& as() const {
    if (const T* p = std::get_if<T>(&v_)) return *p;
    ThrowWrongType();
  }
  const Variant& variant() const { return v_; }

  // JSON form used by the CLI and the App. A FloatVector becomes an array of
  // numbers, so ToJson is not invertible for vectors; the store keeps vectors
  // in their own binary column instead.
  nlohmann::json ToJson() const;
  // Arrays become ValueList; numbers without a fraction become int64.
  static Value FromJson(const nlohmann::json& j);

  bool operator==(const Value& other) const { return v_ == other.v_; }

 private:
  [[noreturn]] void ThrowWrongType() const;
  Variant v_;
};

const char* ValueTypeName(const Value& v);

}  // namespace fo

#endif  // FO_VALUE_H_
