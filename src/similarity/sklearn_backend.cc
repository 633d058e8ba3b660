// The "sklearn" backend (FiftyOne's name for its in-process default): exact
// search (ExactKnn: BLAS, multi-threaded) over vectors that a saved run keeps
// in memory-mapped column files (index_files.h), searched in place. Opening a
// run maps its files: no per-row work, and the vectors are never copied into
// process memory. An index without a run (no brain key) keeps its rows in
// memory until AttachToRun writes them out.
//
// The store's index_files row is the truth: every call first compares it
// with what this object last saw (one small query) and remaps when another
// handle, process, or a rolled-back transaction changed it. Writes append to
// the files inside a transaction and have them fdatasync'd when the store's
// outermost transaction commits (Sqlite::BeforeCommit), before the row that
// counts them does: once per commit, however many batches it holds. Removed rows (remove_from_index, or the old row of an
// upserted item) are listed in index_removed until a compaction copies the
// live rows into a new generation directory.
//
// Lookups by id (Contains, Get, Remove, upserts) scan the ObjectId column
// for a few ids, and otherwise build a hash map of the live rows once per
// mapping. View filters arrive as sorted sample keys and become a row mask
// by binary search over the per-row sample keys (sorted in the usual case
// that rows were added in dataset order; otherwise through a permutation
// built once per mapping).
//
// With `storage` = float16 | int8 a saved run also keeps a codes column
// (index_files.h) and a search scans the codes for CandidateCount(k)
// candidates, then re-ranks them with exact float32 distances read from the
// mapped vectors.f32 (quantized_knn.h): the exact top-k with high
// probability, for 2 or 4 times less memory traffic. Where the candidates
// would be a large part of the eligible rows (large k, small views) the
// exact scan is as cheap and is used instead. An unsaved index is always
// searched exactly (its rows are in memory anyway).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "fo/database.h"
#include "fo/error.h"
#include "fo/similarity_backend.h"
#include "similarity/builtin_backends.h"
#include "similarity/exact_knn.h"
#include "similarity/index_files.h"
#include "similarity/index_records.h"
#include "similarity/quantized_knn.h"
#include "store/sqlite.h"
#include "store/view_keys.h"

namespace fo {
namespace {

using internal::Columns;
using internal::FilesRecord;
using internal::Metric;
using internal::VectorStorage;
using internal::Oid;
using internal::OidHash;

Metric ParseMetric(const std::string& name) {
  if (name == "cosine") return Metric::kCosine;
  if (name == "dotproduct") return Metric::kDotProduct;
  if (name == "euclidean") return Metric::kEuclidean;
  throw InvalidArgument("unsupported metric '" + name + "' for backend 'sklearn'; supported metrics are [cosine, dotproduct, euclidean]");
}

VectorStorage ParseStorage(const nlohmann::json& params) {
  auto it = params.find("storage");
  if (it == params.end() || it->is_null()) return VectorStorage::kFloat32;
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    if (s == "float32" || s == "float16" || s == "int8") return internal::ParseVectorStorage(s);
  }
  throw InvalidArgument("unsupported storage " + it->dump() + " for backend 'sklearn'; supported are [float32, float16, int8]");
}

Oid ToOid(const uint8_t* p) {
  Oid o;
  std::copy_n(p, 12, o.begin());
  return o;
}

// Owned rows in the column layout: an unsaved index, or a batch being built.
class RowBuffer {
 public:
  explicit RowBuffer(size_t dim = 0) : dim_(dim) {}
  void PushCopy(const Columns& c, size_t r) {
    Push(c.vectors + r * c.dim, c.norms[r], c.sample_keys[r], c.item_keys[r], c.item_oid(r), c.sample_oid(r));
  }
  void Push(const float* v, float norm, int64_t sample_key, int64_t item_key, const uint8_t* item_oid,
            const uint8_t* sample_oid) {
    vectors_.insert(vectors_.end(), v, v + dim_);
    norms_.push_back(norm);
    sample_keys_.push_back(sample_key);
    item_keys_.push_back(item_key);
    oids_.insert(oids_.end(), item_oid, item_oid + 12);
    oids_.insert(oids_.end(), sample_oid, sample_oid + 12);
  }
  void Reserve(size_t rows) {
    vectors_.reserve(rows * dim_);
    norms_.reserve(rows);
    sample_keys_.reserve(rows);
    item_keys_.reserve(rows);
    oids_.reserve(rows * 24);
  }
  Columns view() const {
    return {norms_.size(), dim_, vectors_.data(), norms_.data(), sample_keys_.data(), item_keys_.data(), oids_.data()};
  }
  size_t rows() const { return norms_.size(); }
  size_t dim() const { return dim_; }

 private:
  size_t dim_;
  std::vector<float> vectors_, norms_;
  std::vector<int64_t> sample_keys_, item_keys_;
  std::vector<uint8_t> oids_;
};

float Norm(const float* v, size_t d) {
  float s = 0;
  for (size_t i = 0; i < d; ++i) s += v[i] * v[i];
  return std::sqrt(s);
}

class SklearnBackend : public SimilarityBackend {
 public:
  explicit SklearnBackend(const BackendContext& ctx)
      : db_(ctx.db), run_id_(ctx.run_id), metric_(ParseMetric(ctx.metric)), patches_(ctx.patches),
        storage_(ParseStorage(ctx.params)) {}
  // Files of runs deleted or generations replaced are collected when the
  // store is opened (index_records.cc registers the hook) and after
  // Cleanup(), not per backend object: the index cache creates one after
  // every commit.

  BackendCapabilities capabilities() const override { return Capabilities(); }
  static BackendCapabilities Capabilities() {
    return {std::nullopt, true, {"cosine", "dotproduct", "euclidean"}, true, true};
  }

  void AttachToRun(int64_t run_id) override {
    run_id_ = run_id;
    RowBuffer unsaved = std::move(memory_);
    std::vector<uint8_t> removed = std::move(removed_);
    ResetState();
    if (unsaved.rows() == 0) return;
    auto& s = db_->sqlite();
    internal::Transaction txn(s);
    Sync();
    WriteGeneration(unsaved.view(), removed);
    txn.Commit();
  }

  void Reserve(size_t items, size_t dim) override {
    if (run_id_ == 0 && (memory_.dim() == 0 || memory_.dim() == dim)) {
      if (memory_.dim() == 0) memory_ = RowBuffer(dim);
      memory_.Reserve(memory_.rows() + items);
    }
  }

  void PrepareForRows(MatrixView rows) override {
    // Only a run's first generation takes it: later rows are encoded with
    // the quantiser the run already has (compaction retrains on its rows).
    if (storage_ != VectorStorage::kInt8 || rows.rows() == 0) return;
    Sync();
    if (files_ || (record_ && record_->rows > 0)) return;
    pending_quantizer_ = internal::ScalarQuantizer::Train(rows.data(), rows.rows(), rows.cols(), metric_);
  }

  void Upsert(const Matrix& vectors, const std::vector<std::string>& item_ids, const std::vector<std::string>& sample_ids,
              const ItemKeys& keys) override {
    if (vectors.rows() == 0) return;
    std::optional<internal::Transaction> txn;
    if (run_id_ != 0) txn.emplace(db_->sqlite());
    Sync();
    size_t dim = Dimension();
    if (dim != 0 && vectors.cols() != dim)
      throw InvalidArgument("embeddings have dimension " + std::to_string(vectors.cols()) + " but the index has dimension " +
                            std::to_string(dim));
    // The vectors are appended from the caller's matrix; only the small
    // columns are built here.
    std::vector<float> norms(vectors.rows());
    std::vector<uint8_t> oids(vectors.rows() * 24);
    for (size_t i = 0; i < vectors.rows(); ++i) {
      norms[i] = Norm(vectors.row(i).data(), vectors.cols());
      Oid item = internal::OidFromHex(item_ids[i]), sample = internal::OidFromHex(sample_ids[i]);
      std::copy(item.begin(), item.end(), oids.begin() + static_cast<std::ptrdiff_t>(i * 24));
      std::copy(sample.begin(), sample.end(), oids.begin() + static_cast<std::ptrdiff_t>(i * 24 + 12));
    }
    Append(Columns{vectors.rows(), vectors.cols(), vectors.data(), norms.data(), keys.sample.data(), keys.item.data(),
                   oids.data()});
    if (txn) txn->Commit();
    MaybeCompact();
  }

  std::vector<bool> Contains(const std::vector<std::string>& item_ids) override {
    Sync();
    std::vector<bool> out;
    for (const auto& r : FindRows(item_ids)) out.push_back(r.has_value());
    return out;
  }

  size_t Remove(const std::vector<std::string>& item_ids) override {
    std::optional<internal::Transaction> txn;
    if (run_id_ != 0) txn.emplace(db_->sqlite());
    Sync();
    std::vector<int64_t> doomed;
    for (const auto& r : FindRows(item_ids))
      if (r) doomed.push_back(static_cast<int64_t>(*r));
    std::sort(doomed.begin(), doomed.end());
    doomed.erase(std::unique(doomed.begin(), doomed.end()), doomed.end());
    if (doomed.empty()) return 0;
    MarkRemoved(doomed);
    if (run_id_ != 0) {
      FilesRecord rec = *record_;
      rec.removed = static_cast<int64_t>(removed_count_);
      rec.stamp = internal::NewStamp();
      internal::AddRemovedRows(db_->sqlite(), run_id_, doomed);
      internal::WriteFilesRecord(db_->sqlite(), run_id_, rec);
      record_ = rec;
      txn->Commit();
    }
    MaybeCompact();
    return doomed.size();
  }

  std::vector<std::string> ItemIdsOfSamples(const std::vector<std::string>& sample_ids) override {
    Sync();
    std::unordered_set<Oid, OidHash> wanted;
    for (const auto& id : sample_ids) wanted.insert(internal::OidFromHex(id));
    Columns c = columns();
    std::vector<std::string> out;
    for (size_t r = 0; r < c.rows; ++r)
      if (Live(r) && wanted.count(ToOid(c.sample_oid(r)))) out.push_back(internal::OidToHex(c.item_oid(r)));
    return out;
  }

  IndexedEmbeddings Get(const std::vector<std::string>& item_ids) override {
    Sync();
    Columns c = columns();
    std::vector<size_t> rows;
    if (item_ids.empty()) {
      for (size_t r = 0; r < c.rows; ++r)
        if (Live(r)) rows.push_back(r);
    } else {
      for (const auto& r : FindRows(item_ids))
        if (r) rows.push_back(*r);
    }
    IndexedEmbeddings out;
    out.embeddings = Matrix(rows.size(), c.dim);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::copy_n(c.vectors + rows[i] * c.dim, c.dim, out.embeddings.data() + i * c.dim);
      out.sample_ids.push_back(internal::OidToHex(c.sample_oid(rows[i])));
      if (patches_) out.label_ids.push_back(internal::OidToHex(c.item_oid(rows[i])));
    }
    return out;
  }

  std::optional<std::vector<std::string>> ItemIds() override {
    Sync();
    Columns c = columns();
    std::vector<std::string> out;
    for (size_t r = 0; r < c.rows; ++r)
      if (Live(r)) out.push_back(internal::OidToHex(c.item_oid(r)));
    return out;
  }

  size_t Size() override {
    Sync();
    return columns().rows - removed_count_;
  }

  size_t Dimension() override {
    Sync();
    return run_id_ == 0 ? memory_.dim() : record_ ? static_cast<size_t>(record_->dim) : 0;
  }

  std::vector<std::vector<Hit>> Search(const Matrix& queries, size_t k, bool reverse, const SearchFilter& filter) override {
    Sync();
    Columns c = columns();
    std::vector<std::vector<Hit>> out(queries.rows());
    if (c.rows == 0 || k == 0) return out;
    if (queries.cols() != c.dim)
      throw InvalidArgument("query vectors have dimension " + std::to_string(queries.cols()) + " but the index has dimension " +
                            std::to_string(c.dim));
    std::vector<uint8_t> allowed = AllowedMask(filter);
    k = std::min(k, c.rows);
    std::vector<int64_t> idx(queries.rows() * k);
    std::vector<float> dist(queries.rows() * k);
    const uint8_t* mask = allowed.empty() ? nullptr : allowed.data();
    const size_t eligible = EligibleRows(allowed);
    // A saved run's first scan copies rows with pread, as do scans after an
    // in-place one turned out slower (RunFiles::ScanInPlace); but a sparse
    // view (a take(1000)) reads few rows, and in place touches only their
    // pages where a copy would read whole blocks around them.
    const bool copies = run_id_ != 0 && files_ && !files_->ScanInPlace() && eligible * kSparseView > c.rows;
    const auto start = std::chrono::steady_clock::now();
    if (SearchesCodes(k, eligible)) {
      internal::CodeMatrix codes = files_->codes();
      std::vector<float> row(copies ? c.dim : 0);
      auto fetch = [&](int64_t r) -> const float* {
        if (!copies) return c.vectors + static_cast<size_t>(r) * c.dim;
        files_->ReadVectors(static_cast<size_t>(r), 1, row.data());
        return row.data();
      };
      if (copies) {
        codes.read = [this](size_t first, size_t count, void* out) { files_->ReadCodes(first, count, out); };
        codes.codes = nullptr;
      }
      for (size_t q = 0; q < queries.rows(); ++q)
        internal::QuantizedKnn(codes, fetch, queries.data() + q * c.dim, k, metric_, reverse, mask, idx.data() + q * k,
                               dist.data() + q * k, Candidates(k, c.rows));
    } else {
      internal::RowSource rows = internal::RowSource::InPlace(c.vectors, c.dim * sizeof(float));
      if (copies) {
        rows.data = nullptr;
        rows.read = [this](size_t first, size_t count, void* out) { files_->ReadVectors(first, count, out); };
      }
      internal::ExactKnn(rows, c.norms, c.rows, c.dim, queries.data(), queries.rows(), k, metric_, reverse, mask,
                         idx.data(), dist.data());
    }
    if (run_id_ != 0 && files_) {
      // Only scans of every row are comparable with one another.
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      files_->Scanned(!copies, mask == nullptr ? took.count() : -1.0);
    }
    for (size_t q = 0; q < queries.rows(); ++q) {
      for (size_t j = 0; j < k; ++j) {
        int64_t r = idx[q * k + j];
        if (r < 0) break;
        // Float rounding can put a vector at cosine distance -1e-7 from itself.
        double d = metric_ == Metric::kCosine ? std::max(0.0f, dist[q * k + j]) : dist[q * k + j];
        out[q].push_back({internal::OidToHex(c.item_oid(r)), internal::OidToHex(c.sample_oid(r)), d, c.item_keys[r],
                          c.sample_keys[r]});
      }
    }
    return out;
  }

  void Cleanup() override {
    if (run_id_ != 0) {
      auto& s = db_->sqlite();
      internal::Transaction txn(s);
      internal::DeleteFilesRecord(s, run_id_);
      txn.Commit();
    }
    ResetState();
    internal::CollectIndexGarbage(*db_);
  }

 private:
  // --- State ---

  Columns columns() const {
    if (run_id_ == 0) return memory_.view();
    if (!files_) return Columns{0, record_ ? static_cast<size_t>(record_->dim) : 0};
    return files_->columns();
  }

  // Whether a search scans the codes and re-ranks candidates: a saved run
  // with codes, and candidates well under the eligible rows (otherwise the
  // re-rank would read most float32 rows anyway, and the exact scan costs
  // no more).
  bool SearchesCodes(size_t k, size_t eligible) const {
    if (run_id_ == 0 || !files_ || files_->codes().codes == nullptr) return false;
    return Candidates(k, columns().rows) * 4 < eligible;
  }

  // Rows a search may return: all, or those `allowed` marks.
  size_t EligibleRows(const std::vector<uint8_t>& allowed) const {
    if (allowed.empty()) return columns().rows;
    return static_cast<size_t>(std::count_if(allowed.begin(), allowed.end(), [](uint8_t a) { return a != 0; }));
  }

  // A view holding under 1 row in kSparseView is read in place even from a
  // cold mapping: a 128 KiB block copied for each of its rows would cost
  // more than the page faults of its rows alone.
  static constexpr size_t kSparseView = 64;

  // More rows crowd more near-ties into the codes' error band: 10M
  // clustered 512-d rows missed a true top-10 row in 2 of 100 queries with
  // 110 candidates. The re-rank reads one float32 row per candidate.
  static size_t Candidates(size_t k, size_t rows) { return std::max(internal::CandidateCount(k), k + rows / 20000); }

  bool Live(size_t r) const { return removed_count_ == 0 || r >= removed_.size() || !removed_[r]; }

  void ResetState() {
    memory_ = RowBuffer();
    files_.reset();
    record_.reset();
    removed_.clear();
    removed_count_ = 0;
    ResetDerived();
  }

  // Lookup structures built lazily from the columns.
  void ResetDerived() {
    row_of_.reset();
    key_order_.reset();
  }

  // Brings this object in line with the store's index_files row.
  void Sync() {
    if (run_id_ == 0) return;
    auto& s = db_->sqlite();
    std::lock_guard lock(s.mutex());
    std::optional<FilesRecord> rec = internal::ReadFilesRecord(s, run_id_);
    if (!rec && !legacy_checked_) {
      legacy_checked_ = true;
      if (ConvertLegacyRows()) return;  // the conversion opened the new files
    }
    if (rec == record_ && (files_ || !rec)) return;
    ResetDerived();
    removed_.clear();
    removed_count_ = 0;
    record_ = rec;
    if (!rec) {
      files_.reset();
      return;
    }
    std::string dir = internal::FilesRoot(*db_) + "/" + rec->dir;
    if (!files_ || files_->dir() != dir || files_->columns().rows != static_cast<size_t>(rec->rows)) {
      files_.reset();
      try {
        files_ = internal::RunFiles::Open(dir, static_cast<size_t>(rec->dim), static_cast<size_t>(rec->rows),
                                          {internal::ParseVectorStorage(rec->storage), metric_});
      } catch (const Error& e) {
        record_.reset();
        throw Corruption("the vectors of brain run '" + internal::RunKey(s, run_id_) + "' cannot be read (" + e.what() +
                         "); run delete_brain_run('" + internal::RunKey(s, run_id_) + "') and compute_similarity again");
      }
    }
    if (rec->removed > 0) MarkRemoved(internal::ReadRemovedRows(s, run_id_));
  }

  // A run written by schema version 1 keeps one BLOB row per vector in
  // index_items. The first open moves them into files, in one transaction
  // with their deletion, so a crash leaves either form whole. True if any
  // rows were moved.
  bool legacy_checked_ = false;
  std::optional<internal::ScalarQuantizer> pending_quantizer_;  // from PrepareForRows, for the first generation
  bool ConvertLegacyRows() {
    auto& s = db_->sqlite();
    internal::Transaction txn(s);
    auto count = s.Prepare("SELECT count(*) FROM index_items WHERE run_id = ?");
    count.Bind(1, run_id_);
    count.Step();
    if (count.Int(0) == 0) return false;
    auto ds = s.Prepare("SELECT d.id, d.name FROM brain_runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.run_id = ?");
    ds.Bind(1, run_id_);
    if (!ds.Step()) return false;
    View dataset(db_, ds.Int(0), ds.Text(1));
    auto rows = s.Prepare("SELECT item_id, sample_id, vector FROM index_items WHERE run_id = ? ORDER BY rowid");
    rows.Bind(1, run_id_);
    std::vector<std::string> items, samples;
    std::vector<float> vectors;
    size_t dim = 0;
    while (rows.Step()) {
      auto blob = rows.Blob(2);
      if (dim == 0) dim = blob.size() / sizeof(float);
      if (dim == 0 || blob.size() != dim * sizeof(float)) throw Corruption("index vector of item " + rows.Text(0) + " has the wrong size");
      items.push_back(rows.Text(0));
      samples.push_back(rows.Text(1));
      const float* v = reinterpret_cast<const float*>(blob.data());
      vectors.insert(vectors.end(), v, v + dim);
    }
    std::vector<int64_t> sample_keys = internal::SampleKeysOfIds(dataset, samples);
    std::vector<int64_t> item_keys = patches_ ? internal::LabelKeysOfIds(dataset, items) : sample_keys;
    RowBuffer batch(dim);
    batch.Reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      Oid item = internal::OidFromHex(items[i]), sample = internal::OidFromHex(samples[i]);
      batch.Push(vectors.data() + i * dim, Norm(vectors.data() + i * dim, dim), sample_keys[i], item_keys[i], item.data(),
                 sample.data());
    }
    Append(batch.view());
    s.Prepare("DELETE FROM index_items WHERE run_id = ?").Bind(1, run_id_).Run();
    txn.Commit();
    return true;
  }

  void MarkRemoved(const std::vector<int64_t>& rows) {
    removed_.resize(columns().rows, 0);
    for (int64_t r : rows) {
      if (r < 0 || static_cast<size_t>(r) >= removed_.size() || removed_[r]) continue;
      removed_[r] = 1;
      ++removed_count_;
      if (row_of_) {
        auto it = row_of_->find(ToOid(columns().item_oid(r)));
        if (it != row_of_->end() && it->second == static_cast<uint32_t>(r)) row_of_->erase(it);
      }
    }
  }

  // --- Writes ---

  // Appends rows; an item already indexed (or repeated in the batch) keeps
  // only its last row. REQUIRES Sync() in the same transaction.
  void Append(const Columns& batch) {
    const size_t first = columns().rows;
    EnsureRowOf();
    std::vector<int64_t> replaced;
    std::unordered_map<Oid, uint32_t, OidHash> added;
    for (size_t i = 0; i < batch.rows; ++i) {
      Oid item = ToOid(batch.item_oid(i));
      auto it = row_of_->find(item);
      if (it != row_of_->end()) replaced.push_back(it->second);
      auto [a, fresh] = added.try_emplace(item, static_cast<uint32_t>(first + i));
      if (!fresh) replaced.push_back(std::exchange(a->second, static_cast<uint32_t>(first + i)));
    }
    if (run_id_ == 0) {
      if (memory_.dim() == 0) memory_ = RowBuffer(batch.dim);
      for (size_t i = 0; i < batch.rows; ++i) memory_.PushCopy(batch, i);
    } else {
      AppendToFiles(batch, replaced);
    }
    for (const auto& [oid, row] : added) (*row_of_)[oid] = row;
    MarkRemoved(replaced);
    key_order_.reset();
  }

  void AppendToFiles(const Columns& batch, const std::vector<int64_t>& replaced) {
    auto& s = db_->sqlite();
    FilesRecord rec = record_.value_or(FilesRecord{});
    if (!files_) {
      rec = NewRecord(batch.dim);
      files_ = CreateGeneration(rec.dir, batch);
    }
    files_->Append(batch, static_cast<size_t>(rec.rows));
    SyncBeforeCommit(files_);  // durable before the row below commits
    rec.rows += static_cast<int64_t>(batch.rows);
    rec.removed += static_cast<int64_t>(CountNewRemovals(replaced));
    rec.stamp = internal::NewStamp();
    internal::AddRemovedRows(s, run_id_, replaced);
    internal::WriteFilesRecord(s, run_id_, rec);
    record_ = rec;
  }

  FilesRecord NewRecord(size_t dim) const {
    return FilesRecord{internal::NewGenerationName(run_id_), 0, static_cast<int64_t>(dim), internal::StorageName(storage_),
                       0, 0};
  }

  // A new generation directory, deleted again if the transaction it is
  // created in rolls back. An int8 run's quantizer is trained here, once
  // per generation, on (a bounded sample of) the rows it starts with: the
  // first batch of a new run, every row of a compacted one. Later rows are
  // encoded with it, values outside its range clamped.
  std::shared_ptr<internal::RunFiles> CreateGeneration(const std::string& name, const Columns& first_rows) {
    std::optional<internal::ScalarQuantizer> quantizer;
    if (storage_ == VectorStorage::kInt8) {
      if (pending_quantizer_ && pending_quantizer_->dim() == first_rows.dim) quantizer = std::move(pending_quantizer_);
      else quantizer = internal::ScalarQuantizer::Train(first_rows.vectors, first_rows.rows, first_rows.dim, metric_);
      pending_quantizer_.reset();
    }
    auto files = internal::RunFiles::Create(internal::FilesRoot(*db_) + "/" + name, first_rows.dim,
                                            {storage_, metric_}, std::move(quantizer));
    internal::RemoveGenerationOnRollback(*db_, name);
    return files;
  }

  // fdatasync of `files` when the store's outermost transaction commits,
  // before its rows do: one sync per commit rather than per batch. The
  // callback keeps the files alive until then.
  void SyncBeforeCommit(const std::shared_ptr<internal::RunFiles>& files) {
    db_->sqlite().BeforeCommit([files] { files->Sync(); });
  }

  size_t CountNewRemovals(std::vector<int64_t> rows) const {
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [&](int64_t r) {
      return static_cast<size_t>(r) >= removed_.size() || !removed_[r];
    }));
  }

  // Writes the live rows of `c` into a new generation and points the run at
  // it. The old directory is left for garbage collection: the transaction
  // may still roll back, and other processes may be reading it.
  void WriteGeneration(const Columns& c, const std::vector<uint8_t>& removed) {
    auto& s = db_->sqlite();
    FilesRecord rec = NewRecord(c.dim);
    std::shared_ptr<internal::RunFiles> files = CreateGeneration(rec.dir, c);
    constexpr size_t kChunk = 4096;  // rows copied per write: bounded memory
    RowBuffer chunk(c.dim);
    size_t written = 0;
    for (size_t r = 0; r < c.rows; ++r) {
      if (r < removed.size() && removed[r]) continue;
      chunk.PushCopy(c, r);
      if (chunk.rows() == kChunk || r + 1 == c.rows) {
        files->Append(chunk.view(), written);
        written += chunk.rows();
        chunk = RowBuffer(c.dim);
      }
    }
    if (chunk.rows() > 0) {
      files->Append(chunk.view(), written);
      written += chunk.rows();
    }
    SyncBeforeCommit(files);
    rec.rows = static_cast<int64_t>(written);
    rec.stamp = internal::NewStamp();
    internal::ClearRemovedRows(s, run_id_);
    internal::WriteFilesRecord(s, run_id_, rec);
    ResetDerived();
    removed_.clear();
    removed_count_ = 0;
    files_ = std::move(files);
    record_ = rec;
  }

  // Compacts once more than a quarter of the rows are removed, so that
  // search never scans mostly dead rows.
  void MaybeCompact() {
    Columns c = columns();
    if (removed_count_ == 0 || removed_count_ * 4 <= c.rows) return;
    if (run_id_ == 0) {
      RowBuffer live(c.dim);
      for (size_t r = 0; r < c.rows; ++r)
        if (Live(r)) live.PushCopy(c, r);
      memory_ = std::move(live);
      removed_.clear();
      removed_count_ = 0;
      ResetDerived();
      return;
    }
    internal::Transaction txn(db_->sqlite());
    Sync();
    std::vector<uint8_t> removed = removed_;
    WriteGeneration(columns(), removed);
    txn.Commit();
  }

  // --- Lookups ---

  void EnsureRowOf() {
    if (row_of_) return;
    Columns c = columns();
    row_of_.emplace();
    row_of_->reserve(c.rows);
    for (size_t r = 0; r < c.rows; ++r)
      if (Live(r)) (*row_of_)[ToOid(c.item_oid(r))] = static_cast<uint32_t>(r);
  }

  // The live row of each id, if any. A few ids are found by scanning the id
  // column (milliseconds for a million rows) so that one query by id in a
  // new process builds no map.
  std::vector<std::optional<size_t>> FindRows(const std::vector<std::string>& ids) {
    std::vector<std::optional<size_t>> out(ids.size());
    Columns c = columns();
    if (!row_of_ && ids.size() <= 8) {
      for (size_t i = 0; i < ids.size(); ++i) {
        Oid want = internal::OidFromHex(ids[i]);
        for (size_t r = c.rows; r-- > 0;)
          if (Live(r) && std::equal(want.begin(), want.end(), c.item_oid(r))) {
            out[i] = r;
            break;
          }
      }
      return out;
    }
    EnsureRowOf();
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = row_of_->find(internal::OidFromHex(ids[i]));
      if (it != row_of_->end()) out[i] = it->second;
    }
    return out;
  }

  // Rows ordered by sample key (empty = the rows already are).
  const std::vector<uint32_t>& KeyOrder() {
    if (key_order_) return *key_order_;
    Columns c = columns();
    key_order_.emplace();
    if (!std::is_sorted(c.sample_keys, c.sample_keys + c.rows)) {
      key_order_->resize(c.rows);
      std::iota(key_order_->begin(), key_order_->end(), 0u);
      std::stable_sort(key_order_->begin(), key_order_->end(),
                       [&](uint32_t a, uint32_t b) { return c.sample_keys[a] < c.sample_keys[b]; });
    }
    return *key_order_;
  }

  // Marks the rows whose sample key is in `keys` (sorted ascending).
  void MaskByKeys(std::span<const int64_t> keys, std::vector<uint8_t>& mask) {
    Columns c = columns();
    const std::vector<uint32_t>& order = KeyOrder();
    auto row_at = [&](size_t i) -> size_t { return order.empty() ? i : order[i]; };
    auto key_at = [&](size_t i) { return c.sample_keys[row_at(i)]; };
    if (keys.size() * 16 < c.rows) {
      // A small view: one binary search per key.
      for (int64_t k : keys) {
        size_t lo = 0, hi = c.rows;
        while (lo < hi) {
          size_t mid = (lo + hi) / 2;
          if (key_at(mid) < k) lo = mid + 1; else hi = mid;
        }
        for (size_t i = lo; i < c.rows && key_at(i) == k; ++i) mask[row_at(i)] = 1;
      }
      return;
    }
    // A large one: merge the two sorted sequences.
    size_t j = 0;
    for (size_t i = 0; i < c.rows; ++i) {
      int64_t k = key_at(i);
      while (j < keys.size() && keys[j] < k) ++j;
      if (j < keys.size() && keys[j] == k) mask[row_at(i)] = 1;
    }
  }

  // The rows a search may return; empty = all.
  std::vector<uint8_t> AllowedMask(const SearchFilter& filter) {
    Columns c = columns();
    std::vector<uint8_t> mask;
    if (filter.mode == SearchFilter::Mode::kOnly && filter.sample_keys) {
      mask.assign(c.rows, 0);
      MaskByKeys(*filter.sample_keys, mask);
    } else if (filter.mode != SearchFilter::Mode::kAll) {
      std::unordered_set<Oid, OidHash> ids;
      for (const auto& id : filter.ids) ids.insert(internal::OidFromHex(id));
      bool keep_listed = filter.mode == SearchFilter::Mode::kOnly;
      mask.resize(c.rows);
      for (size_t r = 0; r < c.rows; ++r)
        mask[r] = (ids.count(ToOid(filter.by_sample_id ? c.sample_oid(r) : c.item_oid(r))) > 0) == keep_listed;
    }
    if (removed_count_ > 0) {
      if (mask.empty()) mask.assign(c.rows, 1);
      for (size_t r = 0; r < c.rows; ++r) mask[r] &= Live(r);
    }
    return mask;
  }

  std::shared_ptr<Database> db_;
  int64_t run_id_ = 0;
  Metric metric_;
  bool patches_ = false;
  VectorStorage storage_;                     // of new generations (an open one's is in record_)
  RowBuffer memory_;                          // rows of an unsaved index
  std::shared_ptr<internal::RunFiles> files_; // rows of a saved one
  std::optional<FilesRecord> record_;         // the store's row files_ reflect
  std::vector<uint8_t> removed_;              // per row, 1 = removed (empty when none)
  size_t removed_count_ = 0;
  std::optional<std::unordered_map<Oid, uint32_t, OidHash>> row_of_;  // live row of each item
  std::optional<std::vector<uint32_t>> key_order_;
};

}  // namespace

namespace internal {
void RegisterSklearnBackend() {
  RegisterSimilarityBackend("sklearn", SklearnBackend::Capabilities(),
                            [](const BackendContext& ctx) { return std::make_unique<SklearnBackend>(ctx); });
}
}  // namespace internal

}  // namespace fo
