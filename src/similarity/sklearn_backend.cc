// The "sklearn" backend (FiftyOne's name for its in-process default): exact
// search over all vectors held in memory, with the vectors persisted in the
// store's index_items table beside the brain run, so that a restarted process
// answers the same. Search runs on ExactKnn (BLAS, multi-threaded).
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "fo/database.h"
#include "fo/error.h"
#include "fo/similarity_backend.h"
#include "similarity/builtin_backends.h"
#include "similarity/exact_knn.h"
#include "store/sample_store.h"
#include "store/sqlite.h"

namespace fo {
namespace {

using internal::Metric;

Metric ParseMetric(const std::string& name) {
  if (name == "cosine") return Metric::kCosine;
  if (name == "dotproduct") return Metric::kDotProduct;
  if (name == "euclidean") return Metric::kEuclidean;
  throw InvalidArgument("unsupported metric '" + name + "' for backend 'sklearn'; supported metrics are [cosine, dotproduct, euclidean]");
}

class SklearnBackend : public SimilarityBackend {
 public:
  explicit SklearnBackend(const BackendContext& ctx)
      : db_(ctx.db), run_id_(ctx.run_id), metric_(ParseMetric(ctx.metric)), patches_(ctx.patches) {
    if (run_id_ != 0) Load();
  }

  BackendCapabilities capabilities() const override { return Capabilities(); }

  static BackendCapabilities Capabilities() { return {std::nullopt, true, {"cosine", "dotproduct", "euclidean"}}; }

  void AttachToRun(int64_t run_id) override {
    run_id_ = run_id;
    PersistRows(Matrix(item_ids_.size(), dim_, vectors_), item_ids_, sample_ids_);
  }

  void Upsert(const Matrix& vectors, const std::vector<std::string>& item_ids,
              const std::vector<std::string>& sample_ids) override {
    if (vectors.rows() == 0) return;
    if (dim_ != 0 && vectors.cols() != dim_)
      throw InvalidArgument("embeddings have dimension " + std::to_string(vectors.cols()) + " but the index has dimension " +
                            std::to_string(dim_));
    // Persist first: if the write fails, memory is untouched too.
    PersistRows(vectors, item_ids, sample_ids);
    dim_ = vectors.cols();
    for (size_t i = 0; i < vectors.rows(); ++i) Put(vectors.row(i), item_ids[i], sample_ids[i]);
  }

  void Reserve(size_t items, size_t dim) override {
    if (dim_ != 0 && dim != dim_) return;  // Upsert will reject it
    size_t rows = item_ids_.size() + items;
    vectors_.reserve(rows * dim);
    norms_.reserve(rows);
    item_ids_.reserve(rows);
    sample_ids_.reserve(rows);
    row_of_.reserve(rows);
  }

  std::vector<bool> Contains(const std::vector<std::string>& item_ids) override {
    std::vector<bool> out;
    for (const auto& id : item_ids) out.push_back(row_of_.count(id) > 0);
    return out;
  }

  size_t Remove(const std::vector<std::string>& item_ids) override {
    std::unordered_set<size_t> doomed;
    for (const auto& id : item_ids) {
      auto it = row_of_.find(id);
      if (it != row_of_.end()) doomed.insert(it->second);
    }
    if (doomed.empty()) return 0;
    if (run_id_ != 0) {
      auto& s = db_->sqlite();
      internal::Transaction txn(s);
      auto del = s.Prepare("DELETE FROM index_items WHERE run_id = ? AND item_id = ?");
      for (size_t r : doomed) del.Bind(1, run_id_).Bind(2, item_ids_[r]).Run();
      txn.Commit();
    }
    Compact(doomed);
    return doomed.size();
  }

  std::vector<std::string> ItemIdsOfSamples(const std::vector<std::string>& sample_ids) override {
    std::unordered_set<std::string> wanted(sample_ids.begin(), sample_ids.end());
    std::vector<std::string> out;
    for (size_t r = 0; r < item_ids_.size(); ++r)
      if (wanted.count(sample_ids_[r])) out.push_back(item_ids_[r]);
    return out;
  }

  IndexedEmbeddings Get(const std::vector<std::string>& item_ids) override {
    std::vector<size_t> rows;
    if (item_ids.empty()) {
      for (size_t r = 0; r < item_ids_.size(); ++r) rows.push_back(r);
    } else {
      for (const auto& id : item_ids) {
        auto it = row_of_.find(id);
        if (it != row_of_.end()) rows.push_back(it->second);
      }
    }
    IndexedEmbeddings out;
    out.embeddings = Matrix(rows.size(), dim_);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::copy_n(vectors_.data() + rows[i] * dim_, dim_, out.embeddings.data() + i * dim_);
      out.sample_ids.push_back(sample_ids_[rows[i]]);
      if (patches_) out.label_ids.push_back(item_ids_[rows[i]]);
    }
    return out;
  }

  std::optional<std::vector<std::string>> ItemIds() override { return item_ids_; }
  size_t Size() override { return item_ids_.size(); }
  size_t Dimension() override { return dim_; }

  std::vector<std::vector<Hit>> Search(const Matrix& queries, size_t k, bool reverse, const SearchFilter& filter) override {
    std::vector<std::vector<Hit>> out(queries.rows());
    size_t n = item_ids_.size();
    if (n == 0 || k == 0) return out;
    if (queries.cols() != dim_)
      throw InvalidArgument("query vectors have dimension " + std::to_string(queries.cols()) + " but the index has dimension " +
                            std::to_string(dim_));
    std::vector<uint8_t> allowed = AllowedMask(filter);
    k = std::min(k, n);
    std::vector<int64_t> idx(queries.rows() * k);
    std::vector<float> dist(queries.rows() * k);
    internal::ExactKnn(vectors_.data(), norms_.data(), n, dim_, queries.data(), queries.rows(), k, metric_, reverse,
                       allowed.empty() ? nullptr : allowed.data(), idx.data(), dist.data());
    for (size_t q = 0; q < queries.rows(); ++q) {
      for (size_t j = 0; j < k; ++j) {
        int64_t r = idx[q * k + j];
        if (r < 0) break;
        // Float rounding can put a vector at cosine distance -1e-7 from itself.
        double d = metric_ == Metric::kCosine ? std::max(0.0f, dist[q * k + j]) : dist[q * k + j];
        out[q].push_back({item_ids_[r], sample_ids_[r], d});
      }
    }
    return out;
  }

  void Cleanup() override {
    if (run_id_ != 0) {
      auto& s = db_->sqlite();
      internal::Transaction txn(s);
      s.Prepare("DELETE FROM index_items WHERE run_id = ?").Bind(1, run_id_).Run();
      txn.Commit();
    }
    *this = SklearnBackend(db_, metric_, patches_);
  }

 private:
  SklearnBackend(std::shared_ptr<Database> db, Metric metric, bool patches)
      : db_(std::move(db)), metric_(metric), patches_(patches) {}

  void Load() {
    auto& s = db_->sqlite();
    std::lock_guard lock(s.mutex());
    auto count = s.Prepare("SELECT COUNT(*) FROM index_items WHERE run_id = ?");
    count.Bind(1, run_id_);
    count.Step();
    const size_t rows = static_cast<size_t>(count.Int(0));
    auto q = s.Prepare("SELECT item_id, sample_id, vector FROM index_items WHERE run_id = ? ORDER BY rowid");
    q.Bind(1, run_id_);
    while (q.Step()) {
      auto blob = q.Blob(2);
      if (dim_ == 0) {
        dim_ = blob.size() / sizeof(float);
        Reserve(rows, dim_);
      }
      if (blob.size() != dim_ * sizeof(float)) throw Corruption("index vector of item " + q.Text(0) + " has the wrong size");
      FloatVector v = internal::BlobToVector(blob);
      Put(v, q.Text(0), q.Text(1));
    }
  }

  // Inserts or replaces one row in memory; returns its row number.
  size_t Put(std::span<const float> v, const std::string& item_id, const std::string& sample_id) {
    float norm = 0;
    for (float x : v) norm += x * x;
    norm = std::sqrt(norm);
    auto it = row_of_.find(item_id);
    if (it != row_of_.end()) {
      std::copy(v.begin(), v.end(), vectors_.begin() + static_cast<std::ptrdiff_t>(it->second * dim_));
      norms_[it->second] = norm;
      sample_ids_[it->second] = sample_id;
      return it->second;
    }
    size_t r = item_ids_.size();
    vectors_.insert(vectors_.end(), v.begin(), v.end());
    norms_.push_back(norm);
    item_ids_.push_back(item_id);
    sample_ids_.push_back(sample_id);
    row_of_[item_id] = r;
    return r;
  }

  void PersistRows(const Matrix& vectors, const std::vector<std::string>& item_ids,
                   const std::vector<std::string>& sample_ids) {
    if (run_id_ == 0 || item_ids.empty()) return;
    auto& s = db_->sqlite();
    internal::Transaction txn(s);
    auto put = s.Prepare(
        "INSERT INTO index_items(run_id, item_id, sample_id, vector) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(run_id, item_id) DO UPDATE SET sample_id = excluded.sample_id, vector = excluded.vector");
    for (size_t r = 0; r < item_ids.size(); ++r) {
      put.Bind(1, run_id_).Bind(2, item_ids[r]).Bind(3, sample_ids[r]);
      put.BindBlob(4, vectors.row(r).data(), vectors.cols() * sizeof(float));
      put.Run();
    }
    txn.Commit();
  }

  void Compact(const std::unordered_set<size_t>& doomed) {
    size_t w = 0;
    for (size_t r = 0; r < item_ids_.size(); ++r) {
      if (doomed.count(r)) continue;
      if (w != r) {
        std::copy_n(vectors_.begin() + static_cast<std::ptrdiff_t>(r * dim_), dim_, vectors_.begin() + static_cast<std::ptrdiff_t>(w * dim_));
        norms_[w] = norms_[r];
        item_ids_[w] = std::move(item_ids_[r]);
        sample_ids_[w] = std::move(sample_ids_[r]);
      }
      ++w;
    }
    vectors_.resize(w * dim_);
    norms_.resize(w);
    item_ids_.resize(w);
    sample_ids_.resize(w);
    row_of_.clear();
    for (size_t r = 0; r < w; ++r) row_of_[item_ids_[r]] = r;
  }

  std::vector<uint8_t> AllowedMask(const SearchFilter& filter) const {
    if (filter.mode == SearchFilter::Mode::kAll) return {};
    std::unordered_set<std::string> ids(filter.ids.begin(), filter.ids.end());
    bool keep_listed = filter.mode == SearchFilter::Mode::kOnly;
    const auto& keys = filter.by_sample_id ? sample_ids_ : item_ids_;
    std::vector<uint8_t> allowed(keys.size());
    for (size_t r = 0; r < keys.size(); ++r) allowed[r] = (ids.count(keys[r]) > 0) == keep_listed;
    return allowed;
  }

  std::shared_ptr<Database> db_;
  int64_t run_id_ = 0;
  Metric metric_;
  bool patches_ = false;
  size_t dim_ = 0;
  std::vector<float> vectors_;  // rows x dim_, row-major
  std::vector<float> norms_;
  std::vector<std::string> item_ids_;
  std::vector<std::string> sample_ids_;
  std::unordered_map<std::string, size_t> row_of_;
};

}  // namespace

namespace internal {
void RegisterSklearnBackend() {
  RegisterSimilarityBackend("sklearn", SklearnBackend::Capabilities(),
                            [](const BackendContext& ctx) { return std::make_unique<SklearnBackend>(ctx); });
}
}  // namespace internal

}  // namespace fo
