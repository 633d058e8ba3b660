// Bindings of compute_similarity, the SimilarityIndex and brain run management.
#include <mutex>

#include "common.h"
#include "fo/brain.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "fo/qdrant_backend.h"
#include "fo/run_info.h"
#include "fo/similarity.h"

namespace fo::py_bind {
namespace {

std::string RunType(py::handle type) {
  if (type.is_none()) return "";
  if (py::isinstance<py::str>(type)) return type.cast<std::string>();
  if (py::hasattr(type, "_fo_run_type")) return type.attr("_fo_run_type").cast<std::string>();
  throw InvalidArgument("type must be a str or fo.brain.Similarity");
}

// fo/run_info.py, which builds FiftyOne's BrainInfo and config objects.
py::module_ RunInfoModule() { return py::module_::import("fo.run_info"); }

// A Python dict keeping the JSON's key order (the printed order of a run's
// fields), which converting through nlohmann::json would sort.
py::object OrderedFromJson(const nlohmann::ordered_json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

py::object IdArray(const std::vector<std::string>& ids) {
  return py::module_::import("numpy").attr("array")(py::cast(ids), py::str("U24"));
}

// As FiftyOne: (embeddings, sample_ids, label_ids), ids as numpy arrays,
// label_ids None for an index of samples.
py::tuple EmbeddingsTuple(Matrix embeddings, const std::vector<std::string>& sample_ids,
                          const std::vector<std::string>& label_ids, bool patches) {
  py::array_t<float> arr = FromMatrix(std::move(embeddings));
  return py::make_tuple(arr, IdArray(sample_ids), patches ? IdArray(label_ids) : py::object(py::none()));
}

}  // namespace

namespace {

// The Qdrant client of a qdrant index (owned by the index, which the
// Python object keeps alive), wrapped by fo/qdrant.py in qdrant-client's
// method names and result types.
void BindQdrantClient(py::module_& m) {
  py::class_<QdrantClient, std::unique_ptr<QdrantClient, py::nodelete>>(m, "QdrantClientHandle")
      .def_property_readonly("url", &QdrantClient::url)
      // One REST call (JSON body text, "" for none): the envelope's `result`
      // as Python values, which fo/qdrant_models.py turns into models.
      .def("request", [](QdrantClient& c, const std::string& method, const std::string& path, const std::string& body) {
        nlohmann::json result;
        {
          py::gil_scoped_release r;
          result = c.Request(method, path, body);
        }
        return py::module_::import("json").attr("loads")(result.dump());
      }, py::arg("method"), py::arg("path"), py::arg("body") = "")
      .def("collection_exists", [](QdrantClient& c, const std::string& name) {
        py::gil_scoped_release r;
        return c.CollectionExists(name);
      })
      .def("delete_collection", [](QdrantClient& c, const std::string& name) {
        py::gil_scoped_release r;
        return c.DeleteCollection(name);
      })
      .def("delete_points", [](QdrantClient& c, const std::string& name, py::object ids) {
        std::vector<std::string> point_ids = ToIds(ids, "ids");
        py::gil_scoped_release r;
        c.DeletePoints(name, point_ids, true);
      });
  m.def("qdrant_client_of", [](SimilarityIndex& index) { return &QdrantClientOf(index); },
        py::return_value_policy::reference_internal, py::arg("index"));
  m.def("qdrant_collection_of", [](SimilarityIndex& index) { return QdrantCollectionOf(index); }, py::arg("index"));
}

}  // namespace

void AddBrainMethods(py::class_<Dataset>& cls) {
  cls.def("list_brain_runs", [](const Dataset& d, py::object type, py::object method, py::kwargs config) {
        BrainRunFilter f;
        f.type = RunType(type);
        if (!method.is_none()) f.method = method.cast<std::string>();
        for (auto item : config) f.config[py::str(item.first)] = ToJson(item.second);
        return ListBrainRuns(d, f);
      }, py::arg("type") = py::none(), py::arg("method") = py::none())
      .def("has_brain_run", [](const Dataset& d, const std::string& key) { return HasBrainRun(d, key); }, py::arg("brain_key"))
      .def("has_brain_runs", [](const Dataset& d) { return !ListBrainRuns(d).empty(); })
      .def("get_brain_info", [](const Dataset& d, const std::string& key) {
        return RunInfoModule().attr("brain_info_from_json")(OrderedFromJson(BrainInfoJson(GetBrainInfo(d, key))));
      }, py::arg("brain_key"))
      .def("load_brain_results", [](const Dataset& d, const std::string& key, py::kwargs credentials) {
        nlohmann::json c = ToJson(credentials);
        py::gil_scoped_release r;
        return LoadBrainResults(d, key, c);
      }, py::arg("brain_key"))
      .def("rename_brain_run", [](const Dataset& d, const std::string& key, const std::string& new_key) {
        RenameBrainRun(d, key, new_key);
      }, py::arg("brain_key"), py::arg("new_brain_key"))
      .def("delete_brain_run", [](const Dataset& d, const std::string& key) { DeleteBrainRun(d, key); }, py::arg("brain_key"))
      .def("delete_brain_runs", [](const Dataset& d) { DeleteBrainRuns(d); });
}

void BindBrain(py::module_& m) {
  py::class_<SimilarityIndex, std::unique_ptr<SimilarityIndex>>(m, "SimilarityIndex")
      .def_property_readonly("key", &SimilarityIndex::brain_key)
      .def_property_readonly("brain_key", &SimilarityIndex::brain_key)
      .def_property_readonly("config", [](const SimilarityIndex& i) {
        nlohmann::json credentials = nlohmann::json::object();
        for (const auto& [name, value] : i.config().params.items())
          if (IsCredentialParam(name)) credentials[name] = value;
        return RunInfoModule().attr("config_from_json")(OrderedFromJson(SimilarityConfigJson(i.config())),
                                                        FromJson(credentials));
      })
      .def_property_readonly("is_patch_index", &SimilarityIndex::is_patch_index)
      .def_property_readonly("supports_prompts", &SimilarityIndex::supports_prompts)
      .def_property_readonly("total_index_size", [](SimilarityIndex& i) { py::gil_scoped_release r; return i.total_index_size(); })
      .def_property_readonly("index_size", [](SimilarityIndex& i) { py::gil_scoped_release r; return i.index_size(); })
      .def_property_readonly("missing_size", [](SimilarityIndex& i) { py::gil_scoped_release r; return i.missing_size(); })
      .def("add_to_index", [](SimilarityIndex& i, py::object embeddings, py::object sample_ids, py::object label_ids,
                              bool overwrite, bool allow_existing, bool warn_existing, py::object batch_size) {
        FloatRows e = ToFloatRows(embeddings, "embeddings");  // a view: no copy of a float32 array
        auto sids = ToIds(sample_ids, "sample_ids");
        auto lids = ToIds(label_ids, "label_ids");
        AddToIndexOptions o;
        o.overwrite = overwrite;
        o.allow_existing = allow_existing;
        o.warn_existing = warn_existing;
        if (!batch_size.is_none()) o.batch_size = batch_size.cast<size_t>();
        py::gil_scoped_release r;
        i.AddToIndex(e.view, sids, lids, o);
      }, py::arg("embeddings"), py::arg("sample_ids"), py::arg("label_ids") = py::none(), py::arg("overwrite") = true,
         py::arg("allow_existing") = true, py::arg("warn_existing") = false, py::arg("batch_size") = py::none())
      .def("remove_from_index", [](SimilarityIndex& i, py::object sample_ids, py::object label_ids, bool allow_missing,
                                   bool warn_missing) {
        auto sids = ToIds(sample_ids, "sample_ids");
        auto lids = ToIds(label_ids, "label_ids");
        RemoveFromIndexOptions o;
        o.allow_missing = allow_missing;
        o.warn_missing = warn_missing;
        py::gil_scoped_release r;
        i.RemoveFromIndex(sids, lids, o);
      }, py::arg("sample_ids") = py::none(), py::arg("label_ids") = py::none(), py::arg("allow_missing") = true,
         py::arg("warn_missing") = false)
      .def("get_embeddings", [](SimilarityIndex& i, py::object sample_ids, py::object label_ids, bool allow_missing) {
        auto sids = ToIds(sample_ids, "sample_ids");
        auto lids = ToIds(label_ids, "label_ids");
        IndexedEmbeddings e;
        {
          py::gil_scoped_release r;
          e = i.GetEmbeddings(sids, lids, allow_missing);
        }
        return EmbeddingsTuple(std::move(e.embeddings), e.sample_ids, e.label_ids, i.is_patch_index());
      }, py::arg("sample_ids") = py::none(), py::arg("label_ids") = py::none(), py::arg("allow_missing") = true)
      .def("compute_embeddings", [](SimilarityIndex& i, py::object samples, py::object batch_size,
                                    py::object num_workers, bool skip_failures, py::object progress) {
        View v = ToView(samples);
        ComputeEmbeddingsOptions o = EmbeddingsOptions(batch_size, num_workers, skip_failures, progress);
        EmbeddingsResult r;
        {
          py::gil_scoped_release release;
          r = i.ComputeEmbeddings(v, o);
        }
        return EmbeddingsTuple(std::move(r.embeddings), r.sample_ids, r.label_ids, i.is_patch_index());
      }, py::arg("samples"), py::arg("batch_size") = py::none(), py::arg("num_workers") = py::none(),
         py::arg("skip_failures") = true, py::arg("progress") = py::none())
      .def_property_readonly("client", [](py::object self) {
        auto& index = self.cast<SimilarityIndex&>();
        if (index.config().backend != "qdrant")
          throw py::attribute_error("a " + index.config().backend +
                                    " index has no client; only qdrant indexes do");
        return py::module_::import("fo.qdrant").attr("QdrantClient")(self);
      })
      .def("use_view", [](SimilarityIndex& i, py::object view) { i.UseView(ToView(view)); }, py::arg("samples"))
      .def("clear_view", &SimilarityIndex::ClearView)
      .def("reload", [](SimilarityIndex& i) { py::gil_scoped_release r; i.Reload(); })
      .def("cleanup", [](SimilarityIndex& i) { py::gil_scoped_release r; i.Cleanup(); })
      .def("__repr__", [](const SimilarityIndex& i) {
        return "<SimilarityIndex: key=" + i.brain_key() + " backend=" + i.config().backend + ">";
      });

  BindQdrantClient(m);

  m.def("compute_similarity", [](py::object samples, py::object model, py::object embeddings, py::object patches_field,
                                 py::object brain_key, py::object backend, size_t batch_size, size_t num_workers,
                                 bool skip_failures, py::object progress, bool force_square, py::object model_kwargs,
                                 py::kwargs kwargs) {
    View view = ToView(samples);
    ComputeSimilarityOptions o;
    std::unique_lock<std::mutex> model_lock;
    if (!brain_key.is_none()) o.brain_key = brain_key.cast<std::string>();
    if (!backend.is_none()) o.backend = backend.cast<std::string>();
    if (!patches_field.is_none()) o.patches_field = patches_field.cast<std::string>();
    if (py::isinstance<PyModel>(model)) {
      auto m = model.cast<std::shared_ptr<PyModel>>();
      o.model = m->name;
      o.model_kwargs = m->kwargs;
      // Another Python thread may be using this model (its calls release
      // the GIL): hold its lock for the run.
      model_lock = std::unique_lock<std::mutex>(m->mu);
      o.model_instance = m->model;
    } else if (!model.is_none()) {
      o.model = model.cast<std::string>();
    }
    if (!model_kwargs.is_none()) o.model_kwargs = ToJson(model_kwargs);
    o.batch_size = batch_size;
    o.num_workers = num_workers;
    o.skip_failures = skip_failures;
    o.force_square = force_square;
    if (!progress.is_none()) o.progress = progress.cast<bool>();
    o.params = ToJson(kwargs);
    FloatRows rows;  // a float32 C-contiguous array is viewed, not copied; alive until the call returns
    if (embeddings.is(py::bool_(false))) {
      o.no_embeddings = true;
    } else if (py::isinstance<py::str>(embeddings)) {
      o.embeddings_field = embeddings.cast<std::string>();
    } else if (!embeddings.is_none()) {
      rows = ToFloatRows(embeddings, "embeddings");  // rows in view order (see ComputeSimilarityOptions)
      o.embeddings_view = rows.view;
    }
    py::gil_scoped_release r;
    return ComputeSimilarity(view, std::move(o));
  }, py::arg("samples"), py::arg("model") = py::none(), py::arg("embeddings") = py::none(),
     py::arg("patches_field") = py::none(), py::arg("brain_key") = py::none(), py::arg("backend") = py::none(),
     py::arg("batch_size") = 32, py::arg("num_workers") = 0, py::arg("skip_failures") = true,
     py::arg("progress") = py::none(), py::arg("force_square") = false, py::arg("model_kwargs") = py::none());
}

}  // namespace fo::py_bind
