// Bindings of samples, labels, datasets and views.
#include <future>
#include <random>

#include "batch_pipe.h"
#include "common.h"
#include "fo/brain.h"
#include "fo/dataset.h"
#include "fo/demo.h"
#include "fo/error.h"
#include "fo/object_id.h"
#include "fo/summary.h"

namespace fo::py_bind {

void AddBrainMethods(py::class_<Dataset>& cls);
void AddViewStageMethods(py::class_<View>& cls);
void AddViewStageMethods(py::class_<Dataset>& cls);
void BindExpressions(py::module_& m);
View BuildView(py::handle dataset_or_view, py::handle stages);
py::list ValuesOfPath(const View& v, const std::string& path);

namespace {

// Converts the fo.Sample objects to C++ samples batch by batch on this
// thread (which holds the GIL) while a second thread writes the previous
// batch in the store's one transaction; then gives each object its id.
std::vector<std::string> AddSamples(Dataset& d, py::iterable samples) {
  constexpr size_t kBatch = 4096;
  const size_t expected = py::hasattr(samples, "__len__") ? py::len(samples) : 0;
  BatchPipe<std::vector<Sample>> pipe(/*capacity=*/2);
  std::future<std::vector<std::string>> writer = std::async(std::launch::async, [&] {
    struct Stop {
      BatchPipe<std::vector<Sample>>& pipe;
      ~Stop() { pipe.StopConsuming(); }
    } stop{pipe};
    return d.AddSampleBatches([&](std::vector<Sample>& batch) { return pipe.Pop(batch); }, expected);
  });
  std::vector<py::object> objects;
  objects.reserve(expected);
  try {
    std::vector<Sample> batch;
    auto send = [&] {
      bool accepted;
      {
        py::gil_scoped_release r;
        accepted = pipe.Push(std::move(batch));
      }
      batch.clear();
      batch.reserve(kBatch);
      return accepted;
    };
    batch.reserve(kBatch);
    for (py::handle h : samples) {
      if (!py::isinstance<Sample>(h))
        throw py::type_error("add_samples takes fo.Sample objects; item " + std::to_string(objects.size()) + " is a " +
                             py::str(py::type::handle_of(h).attr("__name__")).cast<std::string>());
      objects.push_back(py::reinterpret_borrow<py::object>(h));
      batch.push_back(h.cast<const Sample&>());
      if (batch.size() == kBatch && !send()) break;  // the writer failed: writer.get() raises its error
    }
    if (!batch.empty()) send();
    pipe.Close();
  } catch (...) {
    pipe.Abort();
    py::gil_scoped_release r;
    writer.wait();
    throw;
  }
  std::vector<std::string> ids;
  {
    py::gil_scoped_release r;
    ids = writer.get();
  }
  for (size_t i = 0; i < objects.size(); ++i) objects[i].cast<Sample&>().id = ids[i];
  return ids;
}

template <typename T>
py::object OptionalObject(const std::optional<T>& v) { return v ? py::cast(*v) : py::object(py::none()); }

// sample.metadata: an fo.ImageMetadata, or None when nothing is known (as
// FiftyOne before compute_metadata()).
py::object MetadataObject(const Sample& s) {
  if (!s.width && !s.height && !s.size_bytes && !s.mime_type && !s.num_channels) return py::none();
  return py::module_::import("fo.metadata").attr("ImageMetadata")(
      OptionalObject(s.size_bytes), OptionalObject(s.mime_type), OptionalObject(s.width), OptionalObject(s.height),
      OptionalObject(s.num_channels));
}

void SetMetadata(Sample& s, py::handle value) {
  auto get = [&](const char* name) { return value.is_none() ? py::object(py::none()) : py::getattr(value, name, py::none()); };
  s.size_bytes = get("size_bytes").cast<std::optional<int64_t>>();
  s.mime_type = get("mime_type").cast<std::optional<std::string>>();
  s.width = get("width").cast<std::optional<int>>();
  s.height = get("height").cast<std::optional<int>>();
  s.num_channels = get("num_channels").cast<std::optional<int>>();
}

py::object OptionalId(const std::string& id) { return id.empty() ? py::object(py::none()) : py::object(py::str(id)); }

void SetField(Sample& s, const std::string& name, py::handle value) {
  if (name == "id") throw InvalidArgument("the id of a sample cannot be set");
  if (name == "metadata") return SetMetadata(s, value);
  if (name == "filepath") { s.filepath = value.cast<std::string>(); return; }
  if (name == "tags") { s.tags = value.cast<std::vector<std::string>>(); return; }
  if (py::isinstance<Detections>(value)) {
    s.fields.erase(name);
    s.label_fields[name] = value.cast<Detections>();
    return;
  }
  s.label_fields.erase(name);
  s.fields[name] = ToValue(value);
}

bool HasField(const Sample& s, const std::string& name) {
  return name == "id" || name == "filepath" || name == "tags" || name == "metadata" || s.fields.count(name) ||
         s.label_fields.count(name);
}

py::object GetField(const Sample& s, const std::string& name) {
  if (auto it = s.label_fields.find(name); it != s.label_fields.end()) return py::cast(it->second);
  if (name == "id") return OptionalId(s.id);
  if (name == "metadata") return MetadataObject(s);
  if (!HasField(s, name) && name.rfind("metadata.", 0) != 0) throw NotFound("sample has no field '" + name + "'");
  return FromValue(s.Get(name));
}

SimilarityQuery ParseQuery(py::handle query) {
  if (py::isinstance<py::str>(query)) {
    std::string q = query.cast<std::string>();
    // FiftyOne's rule: a str that is a valid ObjectId is a sample (or label) id, else a prompt.
    return IsObjectId(q) ? SimilarityQuery::ById(q) : SimilarityQuery::ByText(q);
  }
  if ((py::isinstance<py::list>(query) || py::isinstance<py::tuple>(query)) && py::len(query) > 0 &&
      py::isinstance<py::str>(query.begin().operator*())) {
    return SimilarityQuery::ByIds(ToIds(query, "query"));
  }
  return SimilarityQuery::ByVectors(ToMatrix(query, "query", true));
}

bool IsLabelField(const View& v, const std::string& field) {
  if (field.find('.') != std::string::npos) return false;
  for (const auto& f : Dataset::Load(v.database(), v.dataset_name()).Fields())
    if (f.name == field) return f.type == "detections";
  return false;
}

// Paths whose values only the samples themselves give (vectors, boxes,
// the metadata object); every other path is one SQL query.
bool ReadsWholeSamples(const View& v, const std::string& field) {
  if (field == "metadata" || (field.size() >= 13 && field.compare(field.size() - 13, 13, ".bounding_box") == 0)) return true;
  for (const auto& f : Dataset::Load(v.database(), v.dataset_name()).Fields())
    if (f.name == field) return f.type == "vector";
  return false;
}

template <typename T, typename GetView>
void AddViewMethods(py::class_<T>& cls, GetView get) {
  cls.def("__len__", [get](const T& t) { View v = get(t); py::gil_scoped_release r; return v.Count(); })
      .def("count", [get](const T& t) { View v = get(t); py::gil_scoped_release r; return v.Count(); })
      .def("first", [get](const T& t) { View v = get(t); py::gil_scoped_release r; return v.First(); })
      .def("last", [get](const T& t) { View v = get(t); py::gil_scoped_release r; return v.Last(); })
      .def("__iter__", [get](const T& t) {
        View v = get(t);
        py::gil_scoped_release r;
        return v.Stream();
      })
      .def("take", [get](const T& t, size_t n, py::object seed) {
        uint64_t s = seed.is_none() ? std::random_device{}() : seed.cast<uint64_t>();
        return get(t).Take(n, s);
      }, py::arg("size"), py::arg("seed") = py::none())
      .def("limit", [get](const T& t, size_t n) { return get(t).Limit(n); }, py::arg("limit"))
      .def("skip", [get](const T& t, size_t n) { return get(t).Skip(n); }, py::arg("skip"))
      .def("select", [get](const T& t, py::object ids) { return get(t).Select(ToIds(ids, "sample_ids")); }, py::arg("sample_ids"))
      .def("exclude", [get](const T& t, py::object ids) { return get(t).Exclude(ToIds(ids, "sample_ids")); }, py::arg("sample_ids"))
      .def("match_tags", [get](const T& t, py::object tags, bool all) { return get(t).MatchTags(ToIds(tags, "tags"), all); },
           py::arg("tags"), py::arg("all") = false)
      .def("values", [get](const T& t, const std::string& field) {
        View v = get(t);
        if (IsLabelField(v, field)) {  // the Detections themselves, as FiftyOne
          std::vector<Sample> samples;
          {
            py::gil_scoped_release r;
            samples = v.Samples();
          }
          py::list out;
          for (const auto& s : samples) {
            auto it = s.label_fields.find(field);
            out.append(it == s.label_fields.end() ? py::object(py::none()) : py::cast(it->second));
          }
          return out;
        }
        if (field == "id" || field == "_id") {
          // A million ids: each goes from SQLite's row straight to a Python
          // str (the GIL is held; no C++ string is kept in between).
          py::list out;
          v.ForEachId([&](std::string_view id) {
            PyObject* s = PyUnicode_FromStringAndSize(id.data(), static_cast<Py_ssize_t>(id.size()));
            if (s == nullptr || PyList_Append(out.ptr(), s) != 0) {
              Py_XDECREF(s);
              throw py::error_already_set();
            }
            Py_DECREF(s);
          });
          return out;
        }
        if (ReadsWholeSamples(v, field)) {
          std::vector<Value> values;
          {
            py::gil_scoped_release r;
            values = v.Values(field);
          }
          py::list out;
          for (const auto& x : values) out.append(FromValue(x));
          return out;
        }
        return ValuesOfPath(v, field);  // one SQL query, no sample loaded
      }, py::arg("field"))
      .def("sort_by_similarity", [get](const T& t, py::object query, py::object k, bool reverse, py::object dist_field,
                                       py::object brain_key, py::kwargs credentials) {
        SortBySimilarityOptions o;
        if (!k.is_none()) {
          int64_t kk = k.cast<int64_t>();
          if (kk <= 0) throw InvalidArgument("k must be positive, got " + std::to_string(kk));
          o.k = size_t(kk);
        }
        o.reverse = reverse;
        if (!dist_field.is_none()) o.dist_field = dist_field.cast<std::string>();
        if (!brain_key.is_none()) o.brain_key = brain_key.cast<std::string>();
        for (auto item : credentials) o.credentials[py::str(item.first)] = py::str(item.second);
        View sorted = SortBySimilarity(get(t), ParseQuery(query), o);
        // Evaluate once here, without the GIL, so that query errors surface
        // at the call as in FiftyOne; the returned view re-evaluates lazily.
        {
          py::gil_scoped_release r;
          sorted.Ids();
        }
        return sorted;
      }, py::arg("query"), py::arg("k") = py::none(), py::arg("reverse") = false, py::arg("dist_field") = py::none(),
         py::arg("brain_key") = py::none())
      .def_property_readonly("dataset_name", [get](const T& t) { return get(t).dataset_name(); });
}

}  // namespace

View ToView(py::handle obj) {
  if (py::isinstance<View>(obj)) return obj.cast<View>();
  if (py::isinstance<Dataset>(obj)) return obj.cast<Dataset>().view();
  throw InvalidArgument("expected a Dataset or a DatasetView, got a " + std::string(py::str(obj.get_type().attr("__name__"))));
}

void BindDataset(py::module_& m) {
  // Iterating a view reads its samples in batches as Python consumes them.
  py::class_<SampleStream>(m, "_SampleStream")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](SampleStream& s) {
        std::optional<Sample> next;
        {
          py::gil_scoped_release r;
          next = s.Next();
        }
        if (!next) throw py::stop_iteration();
        return std::move(*next);
      })
      .def("__len__", &SampleStream::size);
  py::class_<Detection>(m, "Detection")
      .def(py::init([](std::string label, std::array<double, 4> box, std::optional<double> confidence, py::kwargs attrs) {
             Detection d;
             d.label = std::move(label);
             d.bounding_box = box;
             d.confidence = confidence;
             for (auto item : attrs) d.attributes[py::str(item.first)] = ToValue(item.second);
             return d;
           }),
           py::arg("label") = "", py::arg("bounding_box") = std::array<double, 4>{0, 0, 0, 0},
           py::arg("confidence") = py::none())
      .def_property_readonly("id", [](const Detection& d) { return OptionalId(d.id); })
      .def_readwrite("label", &Detection::label)
      .def_readwrite("bounding_box", &Detection::bounding_box)
      .def_readwrite("confidence", &Detection::confidence)
      .def("__getitem__", [](const Detection& d, const std::string& k) -> py::object {
        if (k == "id") return OptionalId(d.id);
        if (k == "label") return py::str(d.label);
        if (k == "bounding_box") return py::cast(d.bounding_box);
        if (k == "confidence") return py::cast(d.confidence);
        auto it = d.attributes.find(k);
        if (it == d.attributes.end()) throw NotFound("detection has no attribute '" + k + "'");
        return FromValue(it->second);
      })
      .def("__setitem__", [](Detection& d, const std::string& k, py::handle v) { d.attributes[k] = ToValue(v); })
      .def("__repr__", [](const Detection& d) { return "<Detection: label='" + d.label + "'>"; });

  py::class_<Detections>(m, "Detections")
      .def(py::init([](std::vector<Detection> dets) { return Detections{std::move(dets)}; }),
           py::arg("detections") = std::vector<Detection>{})
      .def_readwrite("detections", &Detections::detections)
      .def("__len__", [](const Detections& d) { return d.detections.size(); })
      .def("__repr__", [](const Detections& d) { return "<Detections: " + std::to_string(d.detections.size()) + " detections>"; });

  py::class_<Sample>(m, "Sample")
      .def(py::init([](std::string filepath, py::object tags, py::kwargs fields) {
             Sample s;
             s.filepath = std::move(filepath);
             if (!tags.is_none()) s.tags = tags.cast<std::vector<std::string>>();
             for (auto item : fields) SetField(s, py::str(item.first), item.second);
             return s;
           }),
           py::arg("filepath"), py::arg("tags") = py::none())
      .def_property_readonly("id", [](const Sample& s) { return OptionalId(s.id); })
      .def_readwrite("filepath", &Sample::filepath)
      .def("__getitem__", &GetField)
      .def("__setitem__", &SetField)
      .def("get_field", &GetField)
      .def("set_field", &SetField)
      .def("has_field", &HasField)
      .def("__contains__", &HasField)
      .def_property_readonly("field_names", [](const Sample& s) {
        std::vector<std::string> names{"id", "filepath", "tags", "metadata"};
        for (const auto& [k, v] : s.fields) names.push_back(k);
        for (const auto& [k, v] : s.label_fields) names.push_back(k);
        return names;
      })
      .def("__getattr__", [](const Sample& s, const std::string& name) -> py::object {
        if (!HasField(s, name)) throw py::attribute_error("sample has no field '" + name + "'");
        return GetField(s, name);
      })
      .def("__repr__", [](const Sample& s) { return "<Sample: id=" + s.id + " filepath='" + s.filepath + "'>"; });

  BindExpressions(m);
  py::class_<View> view(m, "DatasetView");
  AddViewMethods(view, [](const View& v) { return v; });
  AddViewStageMethods(view);
  view.def_static("_build", &BuildView, py::arg("dataset"), py::arg("stages"),
                  "The view that a serialised stage list (view._serialize(), or its JSON text) describes.");
  // As FiftyOne: repr() and str() are the summary.
  view.def("summary", [](const View& v) { py::gil_scoped_release r; return ViewSummary(v); })
      .def("__repr__", [](const View& v) { py::gil_scoped_release r; return ViewSummary(v); })
      .def_property_readonly("dataset_name", &View::dataset_name)
      .def_property_readonly("media_type", [](const View& v) {
        return Dataset::Load(v.database(), v.dataset_name()).media_type();
      })
      .def("__getitem__", [](const View& v, const std::string& id) {
        auto samples = v.Select({id}).Samples();
        if (samples.empty()) throw NotFound("sample '" + id + "' is not in the view");
        return samples.front();
      });

  py::class_<Dataset> ds(m, "Dataset");
  ds.def(py::init([](py::object name) {
        std::string n = name.is_none() ? "dataset-" + NewObjectId() : name.cast<std::string>();
        return Dataset::Create(Db(), n);
      }),
      py::arg("name") = py::none());
  AddViewMethods(ds, [](const Dataset& d) { return d.view(); });
  AddViewStageMethods(ds);
  ds.def_property_readonly("name", &Dataset::name)
      .def("view", &Dataset::view)
      .def("add_samples", &AddSamples, py::arg("samples"))
      .def("add_sample", [](Dataset& d, Sample& s) {
        Sample copy = s;
        std::string id = d.AddSample(std::move(copy));
        s.id = id;
        return id;
      }, py::arg("sample"))
      .def("delete_samples", [](Dataset& d, py::object samples) {
        std::vector<std::string> ids;
        auto one = [&](py::handle h) {
          if (py::isinstance<Sample>(h)) ids.push_back(h.cast<const Sample&>().id);
          else ids.push_back(py::str(h));
        };
        if (py::isinstance<py::str>(samples) || py::isinstance<Sample>(samples)) one(samples);
        else for (auto h : samples) one(h);
        py::gil_scoped_release r;
        d.DeleteSamples(ids);
      }, py::arg("samples_or_ids"))
      .def("__getitem__", [](const Dataset& d, const std::string& id) { return d.GetSample(id); })
      .def("delete", [](const Dataset& d) { Dataset::Delete(d.database(), d.name()); })
      .def("get_field_schema", [](const Dataset& d) {
        py::dict out;
        for (const auto& f : d.Fields()) out[py::str(f.name)] = f.type;
        return out;
      })
      .def_property_readonly("media_type", &Dataset::media_type)
      .def_property("persistent", &Dataset::persistent, [](const Dataset& d, bool persistent) {
        if (!persistent)
          throw InvalidArgument("fo datasets are always persistent; delete dataset '" + d.name() +
                                "' with dataset.delete() when it is no longer needed");
      })
      .def("summary", [](const Dataset& d) { py::gil_scoped_release r; return DatasetSummary(d); })
      .def("__repr__", [](const Dataset& d) { py::gil_scoped_release r; return DatasetSummary(d); });
  AddBrainMethods(ds);
  AddEmbeddingMethods(view, ds);

  m.def("load_dataset", [](const std::string& name) { return Dataset::Load(Db(), name); }, py::arg("name"));
  m.def("list_datasets", []() { return Dataset::List(Db()); });
  m.def("dataset_exists", [](const std::string& name) { return Dataset::Exists(Db(), name); }, py::arg("name"));
  m.def("delete_dataset", [](const std::string& name) { Dataset::Delete(Db(), name); }, py::arg("name"));
  m.def("generate_shapes", [](const std::string& directory, size_t num_images, uint64_t seed, int width, int height) {
    ShapesOptions o;
    o.num_images = num_images;
    o.seed = seed;
    o.width = width;
    o.height = height;
    py::gil_scoped_release r;
    return GenerateShapes(directory, o);
  }, py::arg("directory"), py::arg("num_images") = 200, py::arg("seed") = 51, py::arg("width") = 320, py::arg("height") = 240);
}

}  // namespace fo::py_bind
