// Bindings of view expressions (fo.ViewExpression, fo.ViewField as F), the
// stages built on them, the aggregations, slicing and the serialised view,
// with FiftyOne's names, arguments and return types.
#include <pybind11/operators.h>

#include <random>

#include "common.h"
#include "fo/aggregations.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "fo/expression.h"

namespace fo::py_bind {

namespace {

// A ViewExpression, or a Python literal (None, bool, number, str, list).
Expr ToExpr(py::handle obj) {
  if (py::isinstance<Expr>(obj)) return obj.cast<Expr>();
  return Expr(ToValue(obj));
}

std::vector<Value> ToValues(py::handle obj) {
  std::vector<Value> out;
  if (py::isinstance<py::str>(obj) || !py::isinstance<py::iterable>(obj)) {
    out.push_back(ToValue(obj));
    return out;
  }
  for (auto h : obj) out.push_back(ToValue(h));
  return out;
}

std::vector<std::string> ToStrings(py::handle obj, const char* what) { return ToIds(obj, what); }

// A field name (str) or an expression, as aggregations take it.
AggregationPath ToPath(py::handle obj) {
  if (py::isinstance<py::str>(obj)) return AggregationPath(obj.cast<std::string>());
  if (py::isinstance<Expr>(obj)) return AggregationPath(obj.cast<Expr>());
  throw InvalidArgument("expected a field name or a ViewExpression, got a " +
                        std::string(py::str(obj.get_type().attr("__name__"))));
}

// FiftyOne's re_match options: "i" for case-insensitive.
bool CaseSensitive(py::handle options) {
  if (options.is_none()) return true;
  std::string o = options.cast<std::string>();
  for (char c : o)
    if (c != 'i') throw InvalidArgument("re_match supports the option 'i' only, got '" + o + "'");
  return o.empty();
}

void BindExpression(py::module_& m) {
  py::class_<Expr> e(m, "ViewExpression",
                     "A view expression (FiftyOne's ViewExpression); build one with fo.ViewField (F) and operators.");
  e.def(py::init([](py::object value) { return ToExpr(value); }), py::arg("expr"))
      .def("__eq__", [](const Expr& a, py::object b) { return a == ToExpr(b); }, py::is_operator())
      .def("__ne__", [](const Expr& a, py::object b) { return a != ToExpr(b); }, py::is_operator())
      .def("__lt__", [](const Expr& a, py::object b) { return a < ToExpr(b); }, py::is_operator())
      .def("__le__", [](const Expr& a, py::object b) { return a <= ToExpr(b); }, py::is_operator())
      .def("__gt__", [](const Expr& a, py::object b) { return a > ToExpr(b); }, py::is_operator())
      .def("__ge__", [](const Expr& a, py::object b) { return a >= ToExpr(b); }, py::is_operator())
      .def("__and__", [](const Expr& a, py::object b) { return a & ToExpr(b); }, py::is_operator())
      .def("__rand__", [](const Expr& a, py::object b) { return ToExpr(b) & a; }, py::is_operator())
      .def("__or__", [](const Expr& a, py::object b) { return a | ToExpr(b); }, py::is_operator())
      .def("__ror__", [](const Expr& a, py::object b) { return ToExpr(b) | a; }, py::is_operator())
      .def("__invert__", [](const Expr& a) { return ~a; })
      .def("__add__", [](const Expr& a, py::object b) { return a + ToExpr(b); }, py::is_operator())
      .def("__radd__", [](const Expr& a, py::object b) { return ToExpr(b) + a; }, py::is_operator())
      .def("__sub__", [](const Expr& a, py::object b) { return a - ToExpr(b); }, py::is_operator())
      .def("__rsub__", [](const Expr& a, py::object b) { return ToExpr(b) - a; }, py::is_operator())
      .def("__mul__", [](const Expr& a, py::object b) { return a * ToExpr(b); }, py::is_operator())
      .def("__rmul__", [](const Expr& a, py::object b) { return ToExpr(b) * a; }, py::is_operator())
      .def("__truediv__", [](const Expr& a, py::object b) { return a / ToExpr(b); }, py::is_operator())
      .def("__rtruediv__", [](const Expr& a, py::object b) { return ToExpr(b) / a; }, py::is_operator())
      .def("__mod__", [](const Expr& a, py::object b) { return a % ToExpr(b); }, py::is_operator())
      .def("__abs__", &Expr::Abs)
      .def("abs", &Expr::Abs)
      .def("__getitem__", [](const Expr& a, int64_t i) { return a[i]; })
      .def("__bool__", [](const Expr&) -> bool {
        throw py::type_error("a ViewExpression has no truth value: combine expressions with &, | and ~, not and/or/not");
      })
      .def("exists", &Expr::Exists, py::arg("bool") = true)
      .def("is_in", [](const Expr& a, py::object values) { return a.IsIn(ToValues(values)); }, py::arg("values"))
      .def("contains", [](const Expr& a, py::object values, bool all) {
        return a.Contains(ToValues(values), all);
      }, py::arg("values"), py::arg("all") = false)
      .def("length", &Expr::Length)
      .def("filter", &Expr::Filter, py::arg("expr"))
      .def("max", &Expr::Max)
      .def("min", &Expr::Min)
      .def("sum", &Expr::Sum)
      .def("mean", &Expr::Mean)
      .def("starts_with", [](const Expr& a, py::object s, bool case_sensitive) {
        return a.StartsWith(ToStrings(s, "str_or_strs"), case_sensitive);
      }, py::arg("str_or_strs"), py::arg("case_sensitive") = true)
      .def("ends_with", [](const Expr& a, py::object s, bool case_sensitive) {
        return a.EndsWith(ToStrings(s, "str_or_strs"), case_sensitive);
      }, py::arg("str_or_strs"), py::arg("case_sensitive") = true)
      .def("re_match", [](const Expr& a, const std::string& regex, py::object options) {
        return a.ReMatch(regex, CaseSensitive(options));
      }, py::arg("regex"), py::arg("options") = py::none())
      .def("to_mongo", [](const Expr& a) { return FromJson(a.ToJson()); })
      .def_static("_from_mongo", [](py::object j) { return Expr::FromJson(ToJson(j)); }, py::arg("expr"))
      .def("__repr__", [](const Expr& a) { return a.ToJson().dump(); });
  e.attr("__hash__") = py::none();

  m.def("ViewField", [](py::object name) { return F(name.is_none() ? "" : name.cast<std::string>()); },
        py::arg("name") = py::none(),
        "A field reference (FiftyOne's ViewField, F): F('confidence') > 0.5; F() is the element inside filter().");
}

// view[a:b]: skip(a).limit(b - a), negative bounds counted from the end.
View Slice(const View& v, const py::slice& s) {
  py::object step = s.attr("step");
  if (!step.is_none() && step.cast<int64_t>() != 1) throw InvalidArgument("a view slice takes no step");
  py::object start_obj = s.attr("start"), stop_obj = s.attr("stop");
  std::optional<int64_t> start, stop;
  if (!start_obj.is_none()) start = start_obj.cast<int64_t>();
  if (!stop_obj.is_none()) stop = stop_obj.cast<int64_t>();
  if ((start && *start < 0) || (stop && *stop < 0)) {
    const auto n = static_cast<int64_t>(v.Count());
    if (start && *start < 0) start = std::max<int64_t>(0, *start + n);
    if (stop && *stop < 0) stop = std::max<int64_t>(0, *stop + n);
  }
  View out = v;
  const int64_t first = start.value_or(0);
  if (first > 0) out = out.Skip(static_cast<size_t>(first));
  if (stop) out = out.Limit(static_cast<size_t>(std::max<int64_t>(0, *stop - first)));
  return out;
}

// Compiles the view once, so that a bad field or expression fails at the
// call that adds the stage (as in FiftyOne), not at the first answer.
View Checked(View v) {
  py::gil_scoped_release r;
  v.Validate();
  return v;
}

// fn(view, path) (an aggregation) without the GIL, the path converted first.
template <typename Fn>
auto Aggregate(const View& view, py::handle path, const Fn& fn) {
  AggregationPath p = ToPath(path);
  py::gil_scoped_release r;
  return fn(view, p);
}

py::list ToList(const std::vector<Value>& values) {
  py::list out;
  for (const auto& x : values) out.append(FromValue(x));
  return out;
}

template <typename T, typename GetView>
void AddStageMethods(py::class_<T>& cls, GetView get) {
  cls.def("match", [get](const T& t, const Expr& filter) { return Checked(get(t).Match(filter)); }, py::arg("filter"))
      .def("exists", [get](const T& t, const std::string& field, bool b) { return Checked(get(t).Exists(field, b)); },
           py::arg("field"), py::arg("bool") = true)
      .def("sort_by", [get](const T& t, py::object what, bool reverse) {
        if (py::isinstance<py::str>(what)) return Checked(get(t).SortBy(what.cast<std::string>(), reverse));
        return Checked(get(t).SortBy(what.cast<Expr>(), reverse));
      }, py::arg("field_or_expr"), py::arg("reverse") = false)
      .def("select_fields", [get](const T& t, py::object names) {
        return Checked(get(t).SelectFields(names.is_none() ? std::vector<std::string>{} : ToIds(names, "field_names")));
      }, py::arg("field_names") = py::none())
      .def("exclude_fields", [get](const T& t, py::object names) {
        return Checked(get(t).ExcludeFields(ToIds(names, "field_names")));
      }, py::arg("field_names"))
      .def("shuffle", [get](const T& t, py::object seed) {
        return get(t).Shuffle(seed.is_none() ? std::random_device{}() : seed.cast<uint64_t>());
      }, py::arg("seed") = py::none())
      .def("filter_labels", [get](const T& t, const std::string& field, const Expr& filter, bool only_matches) {
        return Checked(get(t).FilterLabels(field, filter, only_matches));
      }, py::arg("field"), py::arg("filter"), py::arg("only_matches") = true)
      .def("match_labels", [get](const T& t, py::object labels, py::object ids, py::object tags, py::object filter,
                                 py::object fields, py::object b) {
        if (!labels.is_none() || !tags.is_none())
          throw Unimplemented("match_labels supports ids= and filter= (labels= and tags= are not supported)");
        std::optional<Expr> f;
        if (!filter.is_none()) f = filter.cast<Expr>();
        return Checked(get(t).MatchLabels(f, ids.is_none() ? std::vector<std::string>{} : ToIds(ids, "ids"),
                                          fields.is_none() ? std::vector<std::string>{} : ToIds(fields, "fields"),
                                          b.is_none() || b.cast<bool>()));
      }, py::arg("labels") = py::none(), py::arg("ids") = py::none(), py::arg("tags") = py::none(),
         py::arg("filter") = py::none(), py::arg("fields") = py::none(), py::arg("bool") = py::none())
      .def("limit_labels", [get](const T& t, const std::string& field, size_t limit) {
        return Checked(get(t).LimitLabels(field, limit));
      }, py::arg("field"), py::arg("limit"))
      .def("__getitem__", [get](const T& t, const py::slice& s) { return Slice(get(t), s); })
      // Aggregations (count() with no argument is the view's length).
      .def("count", [get](const T& t, py::object path) { return Aggregate(get(t), path, &CountValuesOf); },
           py::arg("field_or_expr"))
      .def("count_values", [get](const T& t, py::object path) {
        py::dict out;
        for (const auto& [value, n] : Aggregate(get(t), path, &CountValues))
          out[FromValue(value)] = n;
        return out;
      }, py::arg("field_or_expr"))
      .def("distinct", [get](const T& t, py::object path) {
        return ToList(Aggregate(get(t), path, &Distinct));
      }, py::arg("field_or_expr"))
      .def("bounds", [get](const T& t, py::object path) {
        auto b = Aggregate(get(t), path, &Bounds);
        return py::make_tuple(FromValue(b.first), FromValue(b.second));
      }, py::arg("field_or_expr"))
      .def("mean", [get](const T& t, py::object path) { return Aggregate(get(t), path, &Mean); },
           py::arg("field_or_expr"))
      .def("sum", [get](const T& t, py::object path) { return FromValue(Aggregate(get(t), path, &Sum)); },
           py::arg("field_or_expr"))
      .def("std", [get](const T& t, py::object path, bool sample) {
        return Aggregate(get(t), path, [&](const View& v, const AggregationPath& p) { return Std(v, p, sample); });
      }, py::arg("field_or_expr"), py::arg("sample") = false)
      .def("values", [get](const T& t, const Expr& expr) { return ToList(Aggregate(get(t), py::cast(expr), &ValuesOf)); },
           py::arg("field_or_expr"))
      // The serialised view: FiftyOne's view._serialize().
      .def("_serialize", [get](const T& t) { return FromJson(get(t).ToJson()); })
      .def("to_json", [get](const T& t) { return get(t).ToJson().dump(); });
}

}  // namespace

// Values of a field path with the SQL aggregation (used by `values`).
py::list ValuesOfPath(const View& v, const std::string& path) {
  return ToList(Aggregate(v, py::str(path), &ValuesOf));
}

void AddViewStageMethods(py::class_<View>& cls) { AddStageMethods(cls, [](const View& v) { return v; }); }
void AddViewStageMethods(py::class_<Dataset>& cls) { AddStageMethods(cls, [](const Dataset& d) { return d.view(); }); }

void BindExpressions(py::module_& m) { BindExpression(m); }

// DatasetView._build(dataset, stages): the view a serialised stage list
// describes (FiftyOne's name); stages may be a list or its JSON text.
View BuildView(py::handle dataset_or_view, py::handle stages) {
  nlohmann::json j = py::isinstance<py::str>(stages) ? nlohmann::json::parse(stages.cast<std::string>(), nullptr, false)
                                                     : ToJson(stages);
  if (j.is_discarded()) throw InvalidArgument("the serialised view is not valid JSON");
  return View::FromJson(ToView(dataset_or_view), j);
}

}  // namespace fo::py_bind
