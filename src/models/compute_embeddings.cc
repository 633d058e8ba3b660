// compute_embeddings: decodes the view's images in batches (decoding on
// worker threads) and runs the model on each batch, or on each detection's
// crop with patches_field.
#include <future>
#include <iostream>

#include "fo/dataset.h"
#include "fo/embeddings.h"
#include "fo/error.h"
#include "models/embeddings_field.h"

namespace fo {

namespace {

// One unit of model input: an image or a crop, with its identity.
struct Item {
  std::string sample_id;
  std::string label_id;
  Image image;
};

// Decodes the samples' images in parallel; failures are nullopt plus a reason.
std::vector<std::optional<Image>> DecodeAll(const std::vector<Sample>& samples, std::vector<std::string>* errors) {
  std::vector<std::future<Image>> futures;
  for (const auto& s : samples) futures.push_back(std::async(std::launch::async, [&s] { return LoadImage(s.filepath); }));
  std::vector<std::optional<Image>> out;
  for (auto& f : futures) {
    try {
      out.emplace_back(f.get());
      errors->emplace_back();
    } catch (const Error& e) {
      out.emplace_back(std::nullopt);
      errors->emplace_back(e.what());
    }
  }
  return out;
}

std::vector<Item> ItemsOf(const std::vector<Sample>& batch, const ComputeEmbeddingsOptions& o) {
  std::vector<std::string> errors;
  std::vector<std::optional<Image>> images = DecodeAll(batch, &errors);
  std::vector<Item> items;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!images[i]) {
      if (!o.skip_failures) throw InvalidArgument(errors[i] + " (pass skip_failures to skip unreadable images)");
      std::cerr << "warning: skipping sample " << batch[i].id << ": " << errors[i] << "\n";
      continue;
    }
    if (o.patches_field.empty()) {
      items.push_back({batch[i].id, "", std::move(*images[i])});
      continue;
    }
    auto it = batch[i].label_fields.find(o.patches_field);
    if (it == batch[i].label_fields.end()) continue;
    for (const auto& d : it->second.detections)
      items.push_back({batch[i].id, d.id, CropPatch(*images[i], d.bounding_box, o.force_square, o.alpha)});
  }
  return items;
}

void Embed(Model& model, std::vector<Item>& items, EmbeddingsResult* out) {
  if (items.empty()) return;
  std::vector<Image> images;
  for (auto& it : items) images.push_back(std::move(it.image));
  Matrix m = model.EmbedImages(images);
  if (m.rows() != items.size()) throw Internal("model '" + model.name() + "' returned the wrong number of embeddings");
  for (size_t i = 0; i < items.size(); ++i) {
    out->embeddings.AppendRow(m.row(i));
    out->sample_ids.push_back(items[i].sample_id);
    if (!items[i].label_id.empty()) out->label_ids.push_back(items[i].label_id);
  }
}

}  // namespace

namespace internal {

std::string LabelAttribute(const std::string& field, const std::string& patches_field) {
  std::string prefix = patches_field + ".detections.";
  return field.rfind(prefix, 0) == 0 ? field.substr(prefix.size()) : field;
}

void StoreEmbeddings(Dataset dataset, const EmbeddingsResult& r, const std::string& field,
                     const std::string& patches_field) {
  std::map<std::string, Value> values;
  for (size_t i = 0; i < r.embeddings.rows(); ++i) {
    auto row = r.embeddings.row(i);
    values[patches_field.empty() ? r.sample_ids[i] : r.label_ids[i]] = FloatVector(row.begin(), row.end());
  }
  if (patches_field.empty()) {
    dataset.SetValues(field, values);
  } else {
    dataset.SetLabelValues(patches_field, LabelAttribute(field, patches_field), values);
  }
}

}  // namespace internal

EmbeddingsResult ComputeEmbeddings(const View& samples, Model& model, const ComputeEmbeddingsOptions& options) {
  size_t batch_size = std::max<size_t>(1, options.batch_size);
  std::vector<Sample> all = samples.Samples();
  EmbeddingsResult out;
  for (size_t start = 0; start < all.size(); start += batch_size) {
    std::vector<Sample> batch(all.begin() + static_cast<std::ptrdiff_t>(start),
                              all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), start + batch_size)));
    std::vector<Item> items = ItemsOf(batch, options);
    Embed(model, items, &out);
  }
  if (!options.embeddings_field.empty())
    internal::StoreEmbeddings(Dataset::Load(samples.database(), samples.dataset_name()), out, options.embeddings_field,
                              options.patches_field);
  return out;
}

}  // namespace fo
