#include <algorithm>
#include <iostream>
#include <unordered_set>

#include "fo/database.h"
#include "fo/error.h"
#include "fo/model.h"
#include "fo/object_id.h"
#include "fo/similarity.h"
#include "store/sample_store.h"
#include "store/sqlite.h"
#include "store/view_keys.h"

namespace fo {

namespace {

void CheckIds(const std::vector<std::string>& ids, const char* what) {
  for (const auto& id : ids)
    if (!IsObjectId(id)) throw InvalidArgument(std::string(what) + " '" + id + "' is not a 24-hex ObjectId");
}

std::string JoinFirst(const std::vector<std::string>& ids, size_t n = 3) {
  std::string s;
  for (size_t i = 0; i < ids.size() && i < n; ++i) s += (i ? ", " : "") + ids[i];
  if (ids.size() > n) s += ", ... (" + std::to_string(ids.size()) + " in all)";
  return s;
}

Matrix MeanRow(const Matrix& m) {
  Matrix mean(1, m.cols());
  for (size_t r = 0; r < m.rows(); ++r)
    for (size_t c = 0; c < m.cols(); ++c) mean.data()[c] += m.row(r)[c];
  for (size_t c = 0; c < m.cols(); ++c) mean.data()[c] /= static_cast<float>(m.rows());
  return mean;
}

}  // namespace

SimilarityIndex::SimilarityIndex(View root, std::string brain_key, SimilarityConfig config, BackendContext context)
    : root_(root), view_(std::move(root)), brain_key_(std::move(brain_key)), config_(std::move(config)),
      context_(std::move(context)), backend_(CreateSimilarityBackend(config_.backend, context_)) {}

SimilarityIndex::~SimilarityIndex() = default;

void SimilarityIndex::AddToIndex(MatrixView embeddings, const std::vector<std::string>& sample_ids,
                                 const std::vector<std::string>& label_ids, const AddToIndexOptions& options) {
  if (embeddings.rows() != sample_ids.size())
    throw InvalidArgument("got " + std::to_string(embeddings.rows()) + " embeddings but " + std::to_string(sample_ids.size()) +
                          " sample ids; pass one id per row");
  if (is_patch_index() && label_ids.size() != sample_ids.size())
    throw InvalidArgument("a patch index needs one label id per embedding (got " + std::to_string(label_ids.size()) + ")");
  if (!is_patch_index() && !label_ids.empty())
    throw InvalidArgument("label ids were given, but brain run '" + brain_key_ + "' is not a patch index");
  if (embeddings.rows() == 0) return;
  if (embeddings.cols() == 0) throw InvalidArgument("embeddings have dimension 0");
  embeddings.CheckFinite("embeddings");
  CheckIds(sample_ids, "sample id");
  CheckIds(label_ids, "label id");
  size_t dim = backend_->Dimension();
  if (dim != 0 && dim != embeddings.cols())
    throw InvalidArgument("embeddings have dimension " + std::to_string(embeddings.cols()) + " but index '" + brain_key_ +
                          "' has dimension " + std::to_string(dim));
  const std::vector<std::string>& item_ids = is_patch_index() ? label_ids : sample_ids;
  {
    std::unordered_set<std::string> seen;
    for (const auto& id : item_ids)
      if (!seen.insert(id).second) throw InvalidArgument("id " + id + " appears twice in the embeddings added");
  }

  std::vector<size_t> rows;
  if (!options.overwrite || options.warn_existing) {
    std::vector<bool> exists = backend_->Contains(item_ids);
    std::vector<std::string> existing;
    for (size_t i = 0; i < item_ids.size(); ++i) {
      if (exists[i]) existing.push_back(item_ids[i]);
      if (!exists[i] || options.overwrite) rows.push_back(i);
    }
    if (!existing.empty() && !options.overwrite && !options.allow_existing)
      throw AlreadyExists(std::to_string(existing.size()) + " ids are already in index '" + brain_key_ +
                          "': " + JoinFirst(existing) + "; pass overwrite or allow_existing");
    if (!existing.empty() && options.warn_existing)
      std::cerr << "warning: " << existing.size() << " ids already in the index were "
                << (options.overwrite ? "overwritten" : "skipped") << ": " << JoinFirst(existing) << "\n";
  } else {
    for (size_t i = 0; i < item_ids.size(); ++i) rows.push_back(i);
  }

  // Store keys of every row, resolved in batched queries (never one per id).
  std::vector<int64_t> sample_keys = internal::SampleKeysOfIds(root_, sample_ids);
  std::vector<int64_t> item_keys = is_patch_index() ? internal::LabelKeysOfIds(root_, label_ids) : sample_keys;
  size_t batch = std::max<size_t>(1, options.batch_size);
  backend_->Reserve(rows.size(), embeddings.cols());
  backend_->PrepareForRows(embeddings);
  internal::Transaction txn(root_.database()->sqlite());
  size_t start = 0;
  try {
    for (; start < rows.size(); start += batch) {
      AddBatch(embeddings, item_ids, sample_ids, item_keys, sample_keys, rows, start, std::min(rows.size(), start + batch));
    }
  } catch (const Error& e) {
    // A store-backed index loses every batch with the transaction; a remote
    // one keeps those it took.
    if (start == 0 || backend_->capabilities().writes_with_store) throw;
    throw Error(e.code(), std::string(e.what()) + "; " + std::to_string(start) + " of " + std::to_string(rows.size()) +
                              " embeddings were added before the failure: run add_to_index again to finish");
  }
  txn.Commit();
}

void SimilarityIndex::AddBatch(MatrixView embeddings, const std::vector<std::string>& item_ids,
                               const std::vector<std::string>& sample_ids, const std::vector<int64_t>& item_keys,
                               const std::vector<int64_t>& sample_keys, const std::vector<size_t>& rows, size_t begin,
                               size_t end) {
  // One batch's rows (bounded: batch_size rows), sized once.
  Matrix m(end - begin, embeddings.cols());
  std::vector<std::string> items, samples;
  std::vector<int64_t> ikeys, skeys;
  for (size_t i = begin; i < end; ++i) {
    std::copy_n(embeddings.row(rows[i]).data(), embeddings.cols(), m.data() + (i - begin) * embeddings.cols());
    items.push_back(item_ids[rows[i]]);
    samples.push_back(sample_ids[rows[i]]);
    ikeys.push_back(item_keys[rows[i]]);
    skeys.push_back(sample_keys[rows[i]]);
  }
  backend_->Upsert(m, items, samples, ItemKeys{ikeys, skeys});
}

void SimilarityIndex::RemoveFromIndex(const std::vector<std::string>& sample_ids, const std::vector<std::string>& label_ids,
                                      const RemoveFromIndexOptions& options) {
  if (!label_ids.empty() && !is_patch_index())
    throw InvalidArgument("label ids were given, but brain run '" + brain_key_ + "' is not a patch index");
  CheckIds(sample_ids, "sample id");
  CheckIds(label_ids, "label id");
  std::vector<std::string> items = label_ids;
  if (is_patch_index()) {
    // Upstream FiftyOne removes nothing (Qdrant) or one row (sklearn) here;
    // we define it as every patch of these samples.
    auto of_samples = backend_->ItemIdsOfSamples(sample_ids);
    items.insert(items.end(), of_samples.begin(), of_samples.end());
  } else {
    items = sample_ids;
  }
  std::vector<bool> exists = backend_->Contains(items);
  std::vector<std::string> missing;
  for (size_t i = 0; i < items.size(); ++i)
    if (!exists[i]) missing.push_back(items[i]);
  if (!missing.empty() && !options.allow_missing)
    throw NotFound(std::to_string(missing.size()) + " ids are not in index '" + brain_key_ + "': " + JoinFirst(missing));
  if (!missing.empty() && options.warn_missing)
    std::cerr << "warning: " << missing.size() << " ids are not in the index: " << JoinFirst(missing) << "\n";
  backend_->Remove(items);
}

IndexedEmbeddings SimilarityIndex::GetEmbeddings(const std::vector<std::string>& sample_ids,
                                                 const std::vector<std::string>& label_ids, bool allow_missing) {
  if (!label_ids.empty() && !is_patch_index())
    throw InvalidArgument("label ids were given, but brain run '" + brain_key_ + "' is not a patch index");
  CheckIds(sample_ids, "sample id");
  CheckIds(label_ids, "label id");
  if (sample_ids.empty() && label_ids.empty()) return backend_->Get({});
  std::vector<std::string> items;
  if (!label_ids.empty()) {
    items = label_ids;
  } else if (is_patch_index()) {
    items = backend_->ItemIdsOfSamples(sample_ids);
  } else {
    items = sample_ids;
  }
  IndexedEmbeddings out = backend_->Get(items);
  size_t found = out.embeddings.rows();
  if (!allow_missing && found != items.size()) {
    std::vector<bool> exists = backend_->Contains(items);
    std::vector<std::string> missing;
    for (size_t i = 0; i < items.size(); ++i)
      if (!exists[i]) missing.push_back(items[i]);
    throw NotFound(std::to_string(missing.size()) + " ids are not in index '" + brain_key_ + "': " + JoinFirst(missing));
  }
  return out;
}

size_t SimilarityIndex::total_index_size() { return backend_->Size(); }

namespace {

// The items (sample ids, or label ids of the patches field) of a view.
std::vector<std::string> ViewItems(const View& view, const std::vector<std::string>& sample_ids,
                                   const std::string& patches_field) {
  if (patches_field.empty()) return sample_ids;
  auto& db = view.database()->sqlite();
  std::lock_guard lock(db.mutex());
  std::vector<std::string> items;
  for (auto& labels : internal::LabelIdsOfSamples(db, view.dataset_id(), sample_ids, patches_field))
    items.insert(items.end(), labels.begin(), labels.end());
  return items;
}

}  // namespace

size_t SimilarityIndex::index_size() {
  std::vector<std::string> items = ViewItems(view_, view_.Ids(), config_.patches_field);
  std::vector<bool> exists = backend_->Contains(items);
  return static_cast<size_t>(std::count(exists.begin(), exists.end(), true));
}

std::optional<size_t> SimilarityIndex::missing_size() {
  std::vector<std::string> items = ViewItems(view_, view_.Ids(), config_.patches_field);
  std::vector<bool> exists = backend_->Contains(items);
  size_t missing = static_cast<size_t>(std::count(exists.begin(), exists.end(), false));
  if (missing == 0) return std::nullopt;
  return missing;
}

SimilarityIndex& SimilarityIndex::UseView(const View& view) {
  if (view.dataset_id() != root_.dataset_id() || view.database() != root_.database())
    throw InvalidArgument("the view belongs to dataset '" + view.dataset_name() + "', not to '" + root_.dataset_name() + "'");
  view_ = view;
  return *this;
}

void SimilarityIndex::ClearView() { view_ = root_; }

void SimilarityIndex::Reload() {
  // A new backend object re-reads the persisted state (sklearn: the store).
  backend_ = CreateSimilarityBackend(config_.backend, context_);
}

void SimilarityIndex::Cleanup() { backend_->Cleanup(); }

void SimilarityIndex::AttachToRun(int64_t run_id) {
  context_.run_id = run_id;
  backend_->AttachToRun(run_id);
}

Matrix SimilarityIndex::EmbedPrompts(const std::vector<std::string>& prompts) {
  if (!supports_prompts())
    throw InvalidArgument("brain run '" + brain_key_ + "' uses model '" + (config_.model.empty() ? "none" : config_.model) +
                          "', which does not support prompts; query by id or vector instead");
  return RunModel().EmbedPrompts(prompts);
}

EmbeddingsResult SimilarityIndex::ComputeEmbeddings(const View& samples, ComputeEmbeddingsOptions options) {
  if (config_.model.empty())
    throw FailedPrecondition("brain run '" + brain_key_ +
                             "' has no model (its embeddings were given directly); compute them yourself and call add_to_index");
  if (samples.dataset_name() != root_.dataset_name())
    throw InvalidArgument("the samples are from dataset '" + samples.dataset_name() + "' but brain run '" + brain_key_ +
                          "' is on dataset '" + root_.dataset_name() + "'");
  options.patches_field = config_.patches_field;
  options.embeddings_field.clear();
  return fo::ComputeEmbeddings(samples, RunModel(), options);
}

Model& SimilarityIndex::RunModel() {
  if (!model_) model_ = LoadModel(config_.model, config_.model_kwargs);
  return *model_;
}

Matrix SimilarityIndex::QueryVector(const SimilarityQuery& query) {
  int forms = !query.ids.empty() + !query.vectors.empty() + !query.text.empty();
  if (forms == 0) throw InvalidArgument("the query is empty; give ids, a vector or a text prompt");
  if (forms > 1) throw InvalidArgument("give only one of ids, vectors or a text prompt as the query");
  Matrix q;
  if (!query.ids.empty()) {
    CheckIds(query.ids, "query id");
    // Query ids are items (label ids for a patch index); a sample id of a
    // patch index stands for all of its patches.
    IndexedEmbeddings got = backend_->Get(query.ids);
    if (got.embeddings.rows() != query.ids.size()) {
      std::vector<bool> exists = backend_->Contains(query.ids);
      std::vector<std::string> missing, resolved;
      for (size_t i = 0; i < query.ids.size(); ++i) (exists[i] ? resolved : missing).push_back(query.ids[i]);
      if (is_patch_index()) {
        auto patches = backend_->ItemIdsOfSamples(missing);
        std::unordered_set<std::string> covered;
        for (const auto& p : backend_->Get(patches).sample_ids) covered.insert(p);
        std::vector<std::string> still;
        for (const auto& m : missing)
          if (!covered.count(m)) still.push_back(m);
        missing = still;
        resolved.insert(resolved.end(), patches.begin(), patches.end());
      }
      if (!missing.empty())
        throw NotFound("query id " + JoinFirst(missing) + " is not in index '" + brain_key_ + "'");
      got = backend_->Get(resolved);
    }
    q = std::move(got.embeddings);
  } else if (!query.vectors.empty()) {
    q = query.vectors;
    q.CheckFinite("the query vector");
  } else {
    q = EmbedPrompts({query.text});
  }
  size_t dim = backend_->Dimension();
  if (dim != 0 && q.cols() != dim)
    throw InvalidArgument("the query has dimension " + std::to_string(q.cols()) + " but index '" + brain_key_ +
                          "' has dimension " + std::to_string(dim));
  return q.rows() > 1 ? MeanRow(q) : q;
}

SearchFilter SimilarityIndex::ViewFilter() {
  // Even the whole dataset filters: the index may still hold samples that
  // were deleted since, and those must not come back.
  SearchFilter f;
  f.mode = SearchFilter::Mode::kOnly;
  f.by_sample_id = is_patch_index();
  f.ids = view_.Ids();
  if (!has_view()) {
    f.complement.emplace();  // the whole dataset: nothing else to exclude
  } else {
    std::unordered_set<std::string> in_view(f.ids.begin(), f.ids.end());
    std::vector<std::string> others;
    for (auto& id : root_.Ids())
      if (!in_view.count(id)) others.push_back(std::move(id));
    f.complement = std::move(others);
  }
  return f;
}

std::vector<Hit> SimilarityIndex::Query(const SimilarityQuery& query, std::optional<size_t> k, bool reverse) {
  BackendCapabilities caps = backend_->capabilities();
  if (k && *k == 0) throw InvalidArgument("k must be a positive integer");
  if (k && caps.max_k && *k > *caps.max_k)
    throw InvalidArgument("k = " + std::to_string(*k) + " exceeds this backend's maximum of " + std::to_string(*caps.max_k));
  if (reverse && !caps.supports_least_similarity)
    throw InvalidArgument("backend '" + config_.backend + "' does not support least similarity queries (reverse)");
  Matrix q = QueryVector(query);
  size_t size = backend_->Size();
  if (size == 0) return {};
  if (caps.filters_by_sample_key) return SearchByKeys(q, k.value_or(size), reverse);
  auto hits = backend_->Search(q, k.value_or(size), reverse, ViewFilter());
  return hits.empty() ? std::vector<Hit>{} : std::move(hits.front());
}

namespace {

// Removes the hits whose sample is no longer in the dataset (one query over
// the hits' keys); returns how many were removed.
size_t DropDeletedSamples(const View& dataset, std::vector<Hit>& hits) {
  std::vector<int64_t> keys;
  for (const auto& h : hits) keys.push_back(h.sample_key);
  std::vector<int64_t> live = internal::ExistingSampleKeys(dataset, keys);
  size_t before = hits.size();
  std::erase_if(hits, [&](const Hit& h) { return !std::binary_search(live.begin(), live.end(), h.sample_key); });
  return before - hits.size();
}

}  // namespace

std::vector<Hit> SimilarityIndex::SearchByKeys(const Matrix& q, size_t k, bool reverse) {
  if (!has_view()) {
    // The whole dataset: search everything, then drop samples deleted since
    // they were indexed. Only if that cost hits is the search repeated
    // restricted to the dataset's keys, so the usual query costs one search.
    auto all = backend_->Search(q, k, reverse, SearchFilter{});
    std::vector<Hit> hits = all.empty() ? std::vector<Hit>{} : std::move(all.front());
    size_t found = hits.size();
    bool returned_all = found < k || found == backend_->Size();
    if (DropDeletedSamples(root_, hits) == 0 || returned_all) return hits;
  }
  std::vector<int64_t> keys = internal::ViewSampleKeys(view_);
  SearchFilter f;
  f.mode = SearchFilter::Mode::kOnly;
  f.by_sample_id = is_patch_index();
  f.sample_keys = std::span<const int64_t>(keys);
  auto hits = backend_->Search(q, k, reverse, f);
  return hits.empty() ? std::vector<Hit>{} : std::move(hits.front());
}

}  // namespace fo
