// Bindings of the zoo: the model manifest and its downloads, the
// downloader itself (fo.zoo downloads zoo datasets with it), and the
// importer of FiftyOneDataset exports that the quickstart dataset uses.
#include <filesystem>
#include <memory>
#include <optional>

#include "common.h"
#include "fiftyone_import.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "fo/zoo.h"

namespace fo::py_bind {
namespace {

// Like FromJson, keeping the order of object keys.
py::object FromOrderedJson(const nlohmann::ordered_json& j) {
  if (j.is_object()) {
    py::dict d;
    for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = FromOrderedJson(it.value());
    return d;
  }
  if (j.is_array()) {
    py::list l;
    for (const auto& e : j) l.append(FromOrderedJson(e));
    return l;
  }
  return FromJson(nlohmann::json::parse(j.dump()));
}

}  // namespace

void BindZoo(py::module_& m) {
  m.def("download_file", [](const std::string& url, const std::string& path, const std::string& sha256, uint64_t size,
                            std::optional<bool> progress, int max_attempts, long connect_timeout, long stall_timeout) {
    ZooDownloadOptions o;
    o.progress = progress;
    o.max_attempts = max_attempts;
    o.connect_timeout_seconds = connect_timeout;
    o.stall_timeout_seconds = stall_timeout;
    py::gil_scoped_release r;
    try {
      DownloadFile(url, path, sha256, size, o);
    } catch (const Error& e) {
      // A URL that is not there is a failed download like any other, not a
      // missing key: ConnectionError rather than KeyError.
      if (e.code() == ErrorCode::kNotFound) throw Error(ErrorCode::kUnavailable, e.what());
      throw;
    }
  }, py::arg("url"), py::arg("path"), py::arg("sha256") = "", py::arg("size") = 0, py::arg("progress") = py::none(),
     py::arg("max_attempts") = 4, py::arg("connect_timeout") = 30, py::arg("stall_timeout") = 60,
     R"doc(Downloads url (http, https or file) to path, as fo's zoo does: into "<path>.part", resumed after a
dropped connection, checked against size (0 = unknown) and sha256 ("" = unchecked), then renamed over path.
progress: a progress bar on stderr (default: when stderr is a terminal). Raises ConnectionError when the
server cannot be reached or answers an error (404 included), PermissionError for 401/403, RuntimeError for a
checksum or size mismatch, OSError when path cannot be written.)doc");

  m.def("list_zoo_models", []() {
    std::vector<std::string> names;
    for (const ZooModelInfo& info : ListZooModels()) names.push_back(info.name);
    return names;
  });

  m.def("zoo_model_info", [](const std::string& name) {
    bool downloaded = IsZooModelDownloaded(name);  // kNotFound naming the known models
    py::dict d = FromOrderedJson(ZooModelInfoToJson(*FindZooModel(name))).cast<py::dict>();
    d["downloaded"] = downloaded;
    return d;
  }, py::arg("name"), "The manifest entry of a zoo model (as `fo zoo models info --json`) plus 'downloaded'.");

  m.def("download_zoo_model", [](const std::string& name, bool overwrite) {
    ZooDownloadOptions o;
    o.overwrite = overwrite;
    std::vector<std::filesystem::path> paths;
    {
      py::gil_scoped_release r;
      paths = DownloadZooModel(name, o);
    }
    std::vector<std::string> out;
    for (const auto& p : paths) out.push_back(p.string());
    return out;
  }, py::arg("name"), py::arg("overwrite") = false, "Downloads the model's missing files; returns all its file paths.");

  m.def("import_fiftyone_dataset", [](const std::string& dataset_dir, const std::string& name,
                                      std::optional<size_t> max_samples) {
    FiftyOneExport e;
    {
      py::gil_scoped_release r;
      e = ReadFiftyOneDataset(dataset_dir, max_samples);
    }
    std::shared_ptr<Database> db = Db();
    Dataset ds = Dataset::Create(db, name);
    try {
      py::gil_scoped_release r;
      ds.AddSamples(std::move(e.samples));
    } catch (...) {
      try {
        Dataset::Delete(db, name);  // no half-imported dataset left behind
      } catch (...) {
      }
      throw;
    }
    py::dict out;
    out["dataset"] = py::cast(ds);
    out["skipped"] = e.skipped;
    out["classes"] = e.classes;
    return out;
  }, py::arg("dataset_dir"), py::arg("name"), py::arg("max_samples") = py::none(),
     R"doc(Imports a FiftyOneDataset export directory (metadata.json, samples.json, data/) into a new dataset
`name`. Returns {"dataset": Dataset, "skipped": [what was not imported], "classes": [...]}. Raises ValueError
for a directory that is not such an export or a name that is taken; on failure no dataset is left.)doc");
}

}  // namespace fo::py_bind
