// Bindings of embedding models (fo.zoo.load_zoo_model) and of
// compute_embeddings on datasets and views.
#include <mutex>

#include <unordered_map>

#include "common.h"
#include "fo/dataset.h"
#include "fo/embeddings.h"
#include "fo/error.h"
#include "fo/image.h"
#include "fo/model.h"

namespace fo::py_bind {
namespace {

// An image given from Python: a file path, or a uint8 array of shape (h, w),
// (h, w, 3) RGB or (h, w, 4) RGBA, as FiftyOne's models take.
Image ToImage(py::handle obj) {
  if (py::isinstance<py::str>(obj)) return LoadImage(obj.cast<std::string>());
  py::array given = py::array::ensure(obj);
  if (!given || !given.dtype().is(py::dtype::of<uint8_t>()))
    throw InvalidArgument("an image must be a file path or a uint8 array of shape (h, w[, 3 or 4])");
  auto a = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(given);
  const int channels = a.ndim() == 2 ? 1 : a.ndim() == 3 ? int(a.shape(2)) : 0;
  if (channels != 1 && channels != 3 && channels != 4)
    throw InvalidArgument("an image array must have shape (h, w), (h, w, 3) or (h, w, 4); got " + std::to_string(a.ndim()) +
                          " dimensions");
  Image img;
  img.height = int(a.shape(0));
  img.width = int(a.shape(1));
  const size_t n = size_t(img.width) * img.height;
  if (n == 0) throw InvalidArgument("an image array must not be empty");
  img.rgb.resize(n * 3);
  const uint8_t* p = a.data();
  if (channels == 4) img.alpha.resize(n);
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) img.rgb[i * 3 + c] = p[i * channels + (channels == 1 ? 0 : c)];
    if (channels == 4) img.alpha[i] = p[i * 4 + 3];
  }
  return img;
}

std::vector<std::string> ToStrings(py::handle obj, const char* what) {
  if (py::isinstance<py::str>(obj)) throw InvalidArgument(std::string(what) + " must be a list of strings, not one string");
  std::vector<std::string> out;
  for (auto item : obj) {
    if (!py::isinstance<py::str>(item)) throw InvalidArgument(std::string(what) + " must contain only strings");
    out.push_back(item.cast<std::string>());
  }
  return out;
}


// FiftyOne returns a (n, d) array when every sample was embedded, else a
// list with None for the samples that failed (skip_failures).
py::object AlignedEmbeddings(EmbeddingsResult r, const std::vector<std::string>& view_ids) {
  if (r.sample_ids == view_ids) return FromMatrix(std::move(r.embeddings));
  std::unordered_map<std::string, size_t> row_of;
  for (size_t i = 0; i < r.sample_ids.size(); ++i) row_of[r.sample_ids[i]] = i;
  py::array_t<float> all = FromMatrix(std::move(r.embeddings));
  py::list out;
  for (const auto& id : view_ids) {
    auto it = row_of.find(id);
    out.append(it == row_of.end() ? py::object(py::none()) : py::object(all[py::int_(it->second)]));
  }
  return out;
}

}  // namespace

ComputeEmbeddingsOptions EmbeddingsOptions(py::object batch_size, py::object num_workers, bool skip_failures,
                                           py::object progress) {
  ComputeEmbeddingsOptions o;
  if (!batch_size.is_none()) {
    int64_t b = batch_size.cast<int64_t>();
    if (b <= 0) throw InvalidArgument("batch_size must be positive, got " + std::to_string(b));
    o.batch_size = size_t(b);
  }
  if (!num_workers.is_none()) o.num_workers = num_workers.cast<size_t>();
  o.skip_failures = skip_failures;
  if (!progress.is_none()) o.progress = progress.cast<bool>();
  return o;
}

std::shared_ptr<PyModel> ToModel(py::handle obj) {
  if (py::isinstance<PyModel>(obj)) return obj.cast<std::shared_ptr<PyModel>>();
  if (py::isinstance<py::str>(obj)) return PyModel::Load(obj.cast<std::string>(), nlohmann::json::object());
  throw InvalidArgument("model must be a model name or a model from fo.zoo.load_zoo_model, got a " +
                        std::string(py::str(obj.get_type().attr("__name__"))));
}

std::shared_ptr<PyModel> PyModel::Load(const std::string& name, nlohmann::json kwargs) {
  auto m = std::make_shared<PyModel>();
  m->name = name;
  m->kwargs = std::move(kwargs);
  py::gil_scoped_release r;
  m->model = LoadModel(name, m->kwargs);
  return m;
}

namespace {

py::object ComputeViewEmbeddings(const View& v, py::object model, py::object embeddings_field, py::object batch_size,
                                 py::object num_workers, bool skip_failures, py::object progress) {
  auto m = ToModel(model);
  ComputeEmbeddingsOptions o = EmbeddingsOptions(batch_size, num_workers, skip_failures, progress);
  if (!embeddings_field.is_none()) o.embeddings_field = embeddings_field.cast<std::string>();
  EmbeddingsResult r;
  std::vector<std::string> ids;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(m->mu);
    r = ComputeEmbeddings(v, *m->model, o);
    if (o.embeddings_field.empty()) ids = v.Ids();
  }
  if (!o.embeddings_field.empty()) return py::none();
  return AlignedEmbeddings(std::move(r), ids);
}

py::object ComputePatchEmbeddings(const View& v, py::object model, const std::string& patches_field,
                                  py::object embeddings_field, py::object batch_size, py::object num_workers,
                                  bool skip_failures, py::object progress, bool force_square, py::object alpha) {
  auto m = ToModel(model);
  ComputeEmbeddingsOptions o = EmbeddingsOptions(batch_size, num_workers, skip_failures, progress);
  o.patches_field = patches_field;
  o.force_square = force_square;
  if (!alpha.is_none()) o.alpha = alpha.cast<double>();
  if (!embeddings_field.is_none()) o.embeddings_field = embeddings_field.cast<std::string>();
  EmbeddingsResult r;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(m->mu);
    r = ComputeEmbeddings(v, *m->model, o);
  }
  if (!o.embeddings_field.empty()) return py::none();
  // As FiftyOne: {sample_id: (num_patches, d) array}.
  py::array_t<float> all = FromMatrix(std::move(r.embeddings));
  py::dict out;
  for (size_t i = 0, j = 0; i < r.sample_ids.size(); i = j) {
    while (j < r.sample_ids.size() && r.sample_ids[j] == r.sample_ids[i]) ++j;
    out[py::str(r.sample_ids[i])] = all[py::slice(py::ssize_t(i), py::ssize_t(j), 1)];
  }
  return out;
}

template <typename T, typename GetView>
void DefEmbeddingMethods(py::class_<T>& cls, GetView get) {
  cls.def("compute_embeddings",
          [get](const T& self, py::object model, py::object embeddings_field, py::object batch_size,
                py::object num_workers, bool skip_failures, py::object progress) {
            return ComputeViewEmbeddings(get(self), model, embeddings_field, batch_size, num_workers, skip_failures,
                                         progress);
          },
          py::arg("model"), py::arg("embeddings_field") = py::none(), py::arg("batch_size") = py::none(),
          py::arg("num_workers") = py::none(), py::arg("skip_failures") = true, py::arg("progress") = py::none())
      .def("compute_patch_embeddings",
           [get](const T& self, py::object model, const std::string& patches_field, py::object embeddings_field,
                 py::object batch_size, py::object num_workers, bool skip_failures, py::object progress,
                 bool force_square, py::object alpha) {
             return ComputePatchEmbeddings(get(self), model, patches_field, embeddings_field, batch_size,
                                           num_workers, skip_failures, progress, force_square, alpha);
           },
           py::arg("model"), py::arg("patches_field"), py::arg("embeddings_field") = py::none(),
           py::arg("batch_size") = py::none(), py::arg("num_workers") = py::none(), py::arg("skip_failures") = true,
           py::arg("progress") = py::none(), py::arg("force_square") = false, py::arg("alpha") = py::none());
}

}  // namespace

void AddEmbeddingMethods(py::class_<View>& view, py::class_<Dataset>& dataset) {
  DefEmbeddingMethods(view, [](const View& v) { return v; });
  DefEmbeddingMethods(dataset, [](const Dataset& d) { return d.view(); });
}

void BindModel(py::module_& m) {
  py::class_<PyModel, std::shared_ptr<PyModel>>(m, "Model")
      .def_readonly("name", &PyModel::name)
      .def_property_readonly("kwargs", [](const PyModel& p) { return FromJson(p.kwargs); })
      .def_property_readonly("dimension", [](const PyModel& p) { return p.model->dimension(); })
      .def_property_readonly("has_embeddings", [](const PyModel&) { return true; })
      .def_property_readonly("can_embed_prompts", [](const PyModel& p) { return p.model->supports_prompts(); })
      .def_property_readonly("supports_prompts", [](const PyModel& p) { return p.model->supports_prompts(); })
      .def("embed", [](PyModel& p, py::handle image) {
        std::vector<Image> images{ToImage(image)};
        Matrix e;
        {
          py::gil_scoped_release r;
          std::lock_guard<std::mutex> lock(p.mu);
          e = p.model->EmbedImages(images);
        }
        return FromMatrix(std::move(e), true);
      }, py::arg("arg"))
      .def("embed_all", [](PyModel& p, py::iterable images) {
        std::vector<Image> decoded;
        for (auto img : images) decoded.push_back(ToImage(img));
        Matrix e(0, p.model->dimension());
        {
          py::gil_scoped_release r;
          std::lock_guard<std::mutex> lock(p.mu);
          if (!decoded.empty()) e = p.model->EmbedImages(decoded);
        }
        return FromMatrix(std::move(e));
      }, py::arg("args"))
      .def("embed_prompt", [](PyModel& p, const std::string& prompt) {
        Matrix e;
        {
          py::gil_scoped_release r;
          std::lock_guard<std::mutex> lock(p.mu);
          e = p.model->EmbedPrompts({prompt});
        }
        return FromMatrix(std::move(e), true);
      }, py::arg("arg"))
      .def("embed_prompts", [](PyModel& p, py::handle prompts) {
        std::vector<std::string> texts = ToStrings(prompts, "prompts");
        Matrix e(0, p.model->dimension());
        {
          py::gil_scoped_release r;
          std::lock_guard<std::mutex> lock(p.mu);
          if (!texts.empty()) e = p.model->EmbedPrompts(texts);
        }
        return FromMatrix(std::move(e));
      }, py::arg("args"))
      .def("__repr__", [](const PyModel& p) {
        return "<Model: " + p.name + " dimension=" + std::to_string(p.model->dimension()) +
               (p.model->supports_prompts() ? " prompts" : "") + ">";
      });

  m.def("load_model", [](const std::string& name, py::kwargs kwargs) { return PyModel::Load(name, ToJson(kwargs)); },
        py::arg("name"));
  m.def("list_models", []() {
    std::vector<std::string> names;
    for (const auto& info : ListModels()) names.push_back(info.name);
    return names;
  });
}

}  // namespace fo::py_bind
