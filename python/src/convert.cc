// Conversions between Python objects and fo values, matrices and JSON.
#include <mutex>

#include "common.h"
#include "fo/database.h"
#include "fo/error.h"

namespace fo::py_bind {

namespace {

// Leaked: it must outlive interpreter teardown.
std::shared_ptr<Database>& ProcessDb() {
  static auto* db = new std::shared_ptr<Database>();
  return *db;
}

}  // namespace

std::shared_ptr<Database> Db() {
  // Called with the GIL held, which serialises the open.
  std::shared_ptr<Database>& db = ProcessDb();
  if (!db) db = Database::OpenDefault();
  return db;
}

void ResetDb() { ProcessDb().reset(); }

FloatRows ToFloatRows(py::handle obj, const char* what, bool allow_1d) {
  std::string expected = allow_1d ? "a 1-D array of d values or a 2-D array of shape (n, d)" : "a 2-D array of shape (n, d)";
  py::array a;
  try {
    a = py::array::ensure(obj);
  } catch (const py::error_already_set&) {
  }
  if (!a) throw InvalidArgument(std::string(what) + " must be " + expected + " of floats");
  char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw InvalidArgument(std::string(what) + " must be " + expected + " of float32 or float64, got dtype " +
                          std::string(py::str(a.dtype())));
  if (a.ndim() == 1 && allow_1d) {
    a = a.reshape({py::ssize_t(1), a.shape(0)});
  } else if (a.ndim() != 2) {
    throw InvalidArgument(std::string(what) + " must be " + expected + ", got an array with " +
                          std::to_string(a.ndim()) + " dimensions");
  }
  FloatRows out;
  // ensure() hands back the same array when it already is C-contiguous
  // float32: no copy then.
  out.array = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!out.array) throw InvalidArgument(std::string(what) + " cannot be converted to float32");
  out.view = MatrixView(out.array.data(), size_t(out.array.shape(0)), size_t(out.array.shape(1)));
  return out;
}

Matrix ToMatrix(py::handle obj, const char* what, bool allow_1d) {
  FloatRows rows = ToFloatRows(obj, what, allow_1d);
  const MatrixView& v = rows.view;
  return Matrix(v.rows(), v.cols(), std::vector<float>(v.data(), v.data() + v.rows() * v.cols()));
}

py::array_t<float> FromMatrix(Matrix m, bool flat) {
  size_t rows = m.rows(), cols = m.cols();
  std::vector<py::ssize_t> shape = flat ? std::vector<py::ssize_t>{py::ssize_t(rows * cols)}
                                        : std::vector<py::ssize_t>{py::ssize_t(rows), py::ssize_t(cols)};
  if (rows * cols == 0) return py::array_t<float>(shape);
  std::vector<py::ssize_t> strides = flat ? std::vector<py::ssize_t>{sizeof(float)}
                                          : std::vector<py::ssize_t>{py::ssize_t(cols * sizeof(float)), sizeof(float)};
  auto* owner = new Matrix(std::move(m));
  py::capsule base(owner, [](void* p) { delete static_cast<Matrix*>(p); });
  return py::array_t<float>(shape, strides, owner->data(), base);
}

Value ToValue(py::handle obj) {
  if (obj.is_none()) return Value();
  if (py::isinstance<py::bool_>(obj)) return Value(obj.cast<bool>());
  if (py::isinstance<py::int_>(obj)) return Value(obj.cast<int64_t>());
  if (py::isinstance<py::float_>(obj)) return Value(obj.cast<double>());
  if (py::isinstance<py::str>(obj)) return Value(obj.cast<std::string>());
  if (py::isinstance<py::array>(obj)) {
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (a.ndim() == 0) return ToValue(a.attr("item")());
    if (a.ndim() != 1) throw InvalidArgument("a field vector must be a 1-D array, got " + std::to_string(a.ndim()) + " dimensions");
    Matrix m = ToMatrix(obj, "a field vector", true);
    return Value(std::vector<float>(m.values()));
  }
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    ValueList list;
    for (auto item : obj) list.push_back(ToValue(item));
    return Value(std::move(list));
  }
  // numpy scalars and other numbers
  if (py::hasattr(obj, "item")) return ToValue(obj.attr("item")());
  throw InvalidArgument("unsupported field value of type " + std::string(py::str(obj.get_type().attr("__name__"))));
}

py::object FromValue(const Value& v) {
  return std::visit(
      [](const auto& x) -> py::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return py::none();
        } else if constexpr (std::is_same_v<T, ValueList>) {
          py::list l;
          for (const auto& e : x) l.append(FromValue(e));
          return l;
        } else if constexpr (std::is_same_v<T, FloatVector>) {
          return FromMatrix(Matrix(1, x.size(), x), true);
        } else {
          return py::cast(x);
        }
      },
      v.variant());
}

nlohmann::json ToJson(py::handle obj) {
  if (obj.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(obj)) return obj.cast<bool>();
  if (py::isinstance<py::int_>(obj)) return obj.cast<int64_t>();
  if (py::isinstance<py::float_>(obj)) return obj.cast<double>();
  if (py::isinstance<py::str>(obj)) return obj.cast<std::string>();
  if (py::isinstance<py::dict>(obj)) {
    nlohmann::json j = nlohmann::json::object();
    for (auto item : py::reinterpret_borrow<py::dict>(obj)) j[py::str(item.first).cast<std::string>()] = ToJson(item.second);
    return j;
  }
  if (py::isinstance<py::array>(obj)) return ToJson(obj.attr("tolist")());
  if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
    nlohmann::json j = nlohmann::json::array();
    for (auto item : obj) j.push_back(ToJson(item));
    return j;
  }
  if (py::hasattr(obj, "item")) return ToJson(obj.attr("item")());
  throw InvalidArgument("cannot convert a " + std::string(py::str(obj.get_type().attr("__name__"))) + " to JSON");
}

py::object FromJson(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& e : j) l.append(FromJson(e));
      return l;
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = FromJson(it.value());
      return d;
    }
    default: return py::none();
  }
}

std::vector<std::string> ToIds(py::handle obj, const char* what, bool allow_single) {
  if (obj.is_none()) return {};
  if (py::isinstance<py::str>(obj)) {
    if (!allow_single) throw InvalidArgument(std::string(what) + " must be a list of ids");
    return {obj.cast<std::string>()};
  }
  std::vector<std::string> ids;
  try {
    for (auto item : obj) ids.push_back(py::str(item).cast<std::string>());
  } catch (const py::error_already_set&) {
    throw InvalidArgument(std::string(what) + " must be an id or a list of ids");
  }
  return ids;
}

}  // namespace fo::py_bind
