// Bindings of the edits that persist (fo/edits.h) with FiftyOne's names:
// Sample.save(), sample.field = value, tags that write through, and the
// set_values / tag_* / *_sample_field / clone methods of datasets and views.
#include "common.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/edits.h"
#include "fo/error.h"
#include "fo/metadata.h"
#include "fo/object_id.h"

namespace fo::py_bind {

namespace {

// FiftyOne's field classes (fo/fields.py) by name, as the store's types.
std::string FieldTypeName(py::handle ftype, py::handle embedded_doc_type) {
  if (py::isinstance<py::str>(ftype)) return ftype.cast<std::string>();
  std::string name = py::hasattr(ftype, "__name__") ? ftype.attr("__name__").cast<std::string>() : "";
  static const std::map<std::string, std::string> kTypes = {
      {"BooleanField", "bool"}, {"IntField", "int"},   {"FloatField", "float"},   {"StringField", "string"},
      {"ListField", "list"},    {"VectorField", "vector"}, {"ArrayField", "vector"}};
  if (auto it = kTypes.find(name); it != kTypes.end()) return it->second;
  if (name == "EmbeddedDocumentField") {
    if (!embedded_doc_type.is_none() && embedded_doc_type.is(py::type::of<Detections>())) return "detections";
    throw InvalidArgument("an EmbeddedDocumentField needs embedded_doc_type=fo.Detections (the one label type fo stores)");
  }
  throw InvalidArgument("unsupported field type " + (name.empty() ? std::string(py::str(ftype)) : name) +
                        "; use fo.BooleanField, IntField, FloatField, StringField, ListField, VectorField or "
                        "EmbeddedDocumentField(fo.Detections)");
}

// A str or an iterable of str, as FiftyOne's tag arguments.
std::vector<std::string> StringList(py::handle obj, const char* what) {
  if (obj.is_none()) return {};
  if (py::isinstance<py::str>(obj)) return {obj.cast<std::string>()};
  std::vector<std::string> out;
  for (auto item : obj) {
    if (!py::isinstance<py::str>(item)) throw InvalidArgument(std::string(what) + " must be a str or a list of str");
    out.push_back(item.cast<std::string>());
  }
  return out;
}

std::vector<Value> ValuesOf(py::handle values) {
  if (py::isinstance<py::str>(values) || py::isinstance<py::dict>(values))
    throw InvalidArgument("set_values takes a list (or array) of values, one per sample in view order");
  std::vector<Value> out;
  for (auto item : values) out.push_back(ToValue(item));
  return out;
}

std::string CloneName(py::handle name) { return name.is_none() ? "dataset-" + NewObjectId() : name.cast<std::string>(); }

using SampleTagEdit = void (*)(const View&, const std::vector<std::string>&);
using LabelTagEdit = void (*)(const View&, const std::vector<std::string>&, const std::vector<std::string>&);

// tag_samples / untag_samples (tags) and tag_labels / untag_labels (tags,
// label_fields=None).
template <typename T, typename GetView>
void DefTagEdits(py::class_<T>& cls, GetView get) {
  for (auto [name, edit] : {std::pair<const char*, SampleTagEdit>{"tag_samples", &TagSamples}, {"untag_samples", &UntagSamples}})
    cls.def(name, [get, edit = edit](const T& t, py::object tags) {
      View v = get(t);
      auto list = StringList(tags, "tags");
      py::gil_scoped_release r;
      edit(v, list);
    }, py::arg("tags"));
  for (auto [name, edit] : {std::pair<const char*, LabelTagEdit>{"tag_labels", &TagLabels}, {"untag_labels", &UntagLabels}})
    cls.def(name, [get, edit = edit](const T& t, py::object tags, py::object label_fields) {
      View v = get(t);
      auto list = StringList(tags, "tags");
      auto fields = StringList(label_fields, "label_fields");
      py::gil_scoped_release r;
      edit(v, list, fields);
    }, py::arg("tags"), py::arg("label_fields") = py::none());
}

template <typename T, typename GetView>
void AddCollectionEdits(py::class_<T>& cls, GetView get) {
  DefTagEdits(cls, get);
  cls.def("set_values", [get](const T& t, const std::string& field, py::object values) {
        View v = get(t);
        std::vector<Value> vals = ValuesOf(values);
        py::gil_scoped_release r;
        SetValues(v, field, vals);
      }, py::arg("field_name"), py::arg("values"))
      .def("compute_metadata", [get](const T& t, bool overwrite, py::object num_workers, bool skip_failures,
                                     bool warn_failures, py::object progress) {
        ComputeMetadataOptions o;
        o.overwrite = overwrite;
        if (!num_workers.is_none()) {
          int64_t n = num_workers.cast<int64_t>();
          if (n < 1) throw InvalidArgument("num_workers must be at least 1, got " + std::to_string(n));
          o.num_workers = static_cast<size_t>(n);
        }
        o.skip_failures = skip_failures;
        if (!progress.is_none()) o.progress = progress.cast<bool>();
        View v = get(t);
        ComputeMetadataResult r;
        {
          py::gil_scoped_release release;
          r = ComputeMetadata(v, o);
        }
        if (warn_failures)
          for (const auto& f : r.failures)
            if (PyErr_WarnEx(PyExc_UserWarning, ("cannot read the metadata of " + f).c_str(), 1) < 0) throw py::error_already_set();
      }, py::arg("overwrite") = false, py::arg("num_workers") = py::none(), py::arg("skip_failures") = true,
         py::arg("warn_failures") = false, py::arg("progress") = py::none())
      .def("clone", [get](const T& t, py::object name) {
        View v = get(t);
        std::string n = CloneName(name);
        py::gil_scoped_release r;
        return Clone(v, n);
      }, py::arg("name") = py::none());
}

void AddFieldEdits(py::class_<Dataset>& ds) {
  ds.def("add_sample_field", [](const Dataset& d, const std::string& name, py::object ftype, py::object embedded_doc_type) {
        AddSampleField(d, name, FieldTypeName(ftype, embedded_doc_type));
      }, py::arg("field_name"), py::arg("ftype"), py::arg("embedded_doc_type") = py::none())
      .def("delete_sample_field", [](const Dataset& d, const std::string& name) { DeleteSampleField(d, name); },
           py::arg("field_name"))
      .def("delete_sample_fields", [](const Dataset& d, py::object names) {
        for (const auto& n : StringList(names, "field_names")) DeleteSampleField(d, n);
      }, py::arg("field_names"))
      .def("rename_sample_field", [](const Dataset& d, const std::string& name, const std::string& new_name) {
        RenameSampleField(d, name, new_name);
      }, py::arg("field_name"), py::arg("new_field_name"));
}

bool IsSampleProperty(const std::string& name) { return name == "filepath" || name == "tags"; }

void AddSampleEdits(py::class_<Sample>& sample) {
  // Tags are a list whose edits write through to the sample (fo/_edits.py),
  // so that sample.tags.append("x"); sample.save() persists, as in FiftyOne.
  sample.def_property("tags",
                      [](py::object self) {
                        return py::module_::import("fo._edits").attr("SampleTags")(self, self.cast<const Sample&>().tags);
                      },
                      [](Sample& s, py::object tags) { s.tags = StringList(tags, "tags"); })
      .def("save", [](Sample& s) {
        std::shared_ptr<Database> db = Db();
        py::gil_scoped_release r;
        SaveSample(db, s);
      })
      .def("__setattr__", [](py::object self, const std::string& name, py::object value) {
        // As FiftyOne: attribute syntax sets existing fields only.
        if (IsSampleProperty(name) || name.rfind('_', 0) == 0) {
          py::module_::import("builtins").attr("object").attr("__setattr__")(self, name, value);
          return;
        }
        if (!self.attr("has_field")(name).cast<bool>())
          throw InvalidArgument("Adding sample fields using the `sample.field = value` syntax is not allowed; use "
                                "`sample['" + name + "'] = value` instead");
        self.attr("set_field")(name, value);
      });
}

}  // namespace

void BindEdits(py::module_& m) {
  auto view = py::reinterpret_borrow<py::class_<View>>(m.attr("DatasetView"));
  auto ds = py::reinterpret_borrow<py::class_<Dataset>>(m.attr("Dataset"));
  auto sample = py::reinterpret_borrow<py::class_<Sample>>(m.attr("Sample"));
  auto detection = py::reinterpret_borrow<py::class_<Detection>>(m.attr("Detection"));
  AddCollectionEdits(view, [](const View& v) { return v; });
  AddCollectionEdits(ds, [](const Dataset& d) { return d.view(); });
  AddFieldEdits(ds);
  AddSampleEdits(sample);
  // FiftyOne's Label.tags: here the detection's "tags" attribute.
  detection.def_property("tags",
                         [](const Detection& d) {
                           auto it = d.attributes.find("tags");
                           return it == d.attributes.end() ? py::object(py::list()) : FromValue(it->second);
                         },
                         [](Detection& d, py::object tags) {
                           ValueList list;
                           for (auto& t : StringList(tags, "tags")) list.emplace_back(std::move(t));
                           d.attributes["tags"] = Value(std::move(list));
                         });
}

}  // namespace fo::py_bind
