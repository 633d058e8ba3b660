// compute_embeddings: worker threads decode, crop and preprocess the view's
// images a couple of batches ahead while the model runs the current batch
// (on images, or on each detection's crop with patches_field).
#include <algorithm>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "fo/dataset.h"
#include "fo/embeddings.h"
#include "fo/error.h"
#include "core/progress.h"
#include "models/embeddings_field.h"

namespace fo {

namespace {

// One unit of model input: an image or a crop, with its identity.
struct Item {
  std::string sample_id;
  std::string label_id;
  Image image;
};

// What a worker made of one sample: its model inputs, or why it failed.
struct Prepared {
  std::vector<Item> items;
  std::string error;
};

// Decodes, crops and preprocesses one sample. Runs on worker threads, so it
// touches nothing shared but the (thread-safe) PrepareImage.
Prepared PrepareSample(const Sample& s, const Model& model, const ComputeEmbeddingsOptions& o) {
  Prepared out;
  Image image;
  try {
    image = LoadImage(s.filepath);
    if (o.patches_field.empty()) {
      out.items.push_back({s.id, "", model.PrepareImage(image)});
      return out;
    }
    auto it = s.label_fields.find(o.patches_field);
    if (it == s.label_fields.end()) return out;
    for (const auto& d : it->second.detections)
      out.items.push_back({s.id, d.id, model.PrepareImage(CropPatch(image, d.bounding_box, o.force_square, o.alpha))});
  } catch (const Error& e) {
    out.items.clear();
    out.error = e.what();
  }
  return out;
}

// Prepares samples in order on `workers` threads, at most `lookahead`
// samples ahead of the consumer (bounding memory), so that decoding and
// resizing overlap the model's work on earlier batches.
class PreparePipeline {
 public:
  PreparePipeline(const std::vector<Sample>& samples, const Model& model, const ComputeEmbeddingsOptions& o,
                  size_t workers, size_t lookahead)
      : samples_(samples), model_(model), options_(o), results_(samples.size()), ready_(samples.size(), false),
        lookahead_(std::max<size_t>(1, lookahead)) {
    workers = std::clamp<size_t>(workers, 1, std::max<size_t>(1, samples.size()));
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~PreparePipeline() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    more_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Blocks until sample i is prepared; moves it out. Call with i = 0, 1, ...
  Prepared Take(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return ready_[i]; });
    consumed_ = i + 1;
    more_.notify_all();
    return std::move(results_[i]);
  }

 private:
  void Work() {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu_);
        more_.wait(lock, [&] { return stop_ || next_ >= samples_.size() || next_ < consumed_ + lookahead_; });
        if (stop_ || next_ >= samples_.size()) return;
        i = next_++;
      }
      Prepared p = PrepareSample(samples_[i], model_, options_);
      {
        std::lock_guard<std::mutex> lock(mu_);
        results_[i] = std::move(p);
        ready_[i] = true;
      }
      done_.notify_all();
    }
  }

  const std::vector<Sample>& samples_;
  const Model& model_;
  const ComputeEmbeddingsOptions& options_;
  std::vector<Prepared> results_;
  std::vector<bool> ready_;
  const size_t lookahead_;
  std::mutex mu_;
  std::condition_variable more_;  // a worker may claim another sample
  std::condition_variable done_;  // a sample is ready
  size_t next_ = 0;
  size_t consumed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

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

size_t DefaultWorkers() { return std::max(1u, std::thread::hardware_concurrency()); }

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
  const size_t batch_size = std::max<size_t>(1, options.batch_size);
  std::vector<Sample> all = samples.Samples();
  EmbeddingsResult out;
  internal::ProgressBar progress("embeddings", all.size(), options.progress.value_or(internal::StderrIsTerminal()));
  {
    // Two batches ahead: the next one is ready when the model finishes.
    PreparePipeline pipeline(all, model, options, options.num_workers ? options.num_workers : DefaultWorkers(),
                             2 * batch_size);
    std::vector<Item> batch;
    size_t reported = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      Prepared p = pipeline.Take(i);
      if (!p.error.empty()) {
        if (!options.skip_failures) throw InvalidArgument(p.error + " (pass skip_failures to skip unreadable images)");
        std::cerr << "warning: skipping sample " << all[i].id << ": " << p.error << "\n";
      }
      for (Item& item : p.items) batch.push_back(std::move(item));
      if ((i + 1) % batch_size == 0 || i + 1 == all.size()) {
        Embed(model, batch, &out);
        batch.clear();
        progress.Add(i + 1 - reported);
        reported = i + 1;
      }
    }
  }
  progress.Finish();
  if (!options.embeddings_field.empty())
    internal::StoreEmbeddings(Dataset::Load(samples.database(), samples.dataset_name()), out, options.embeddings_field,
                              options.patches_field);
  return out;
}

}  // namespace fo
