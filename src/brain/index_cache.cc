#include "brain/index_cache.h"

#include <sqlite3.h>

#include <cstdlib>
#include <iostream>

#include "fo/brain.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/error.h"
#include "fo/similarity_backend.h"
#include "store/sqlite.h"

namespace fo::internal {

namespace {

SortResult Run(SimilarityIndex& index, const View& view, const SimilarityQuery& query, std::optional<size_t> k,
               bool reverse) {
  index.UseView(view);
  SortResult result;
  result.patches_field = index.config().patches_field;
  result.hits = index.Query(query, k, reverse);
  return result;
}

// Only an index that lives in the store is kept between queries: the store's
// change stamp then says when it changed. A remote collection may change
// behind this process's back, so it is loaded per query.
bool KeptBetweenQueries(const BrainInfo& info) {
  if (info.type != "similarity") return false;
  try {
    return SimilarityBackendCapabilities(info.config.value("method", "")).writes_with_store;
  } catch (const Error&) {
    return false;  // a backend this build does not have: LoadBrainResults reports it
  }
}

}  // namespace

SortResult IndexCache::Sort(const Dataset& dataset, const View& view, const std::string& key,
                            const SimilarityQuery& query, std::optional<size_t> k, bool reverse,
                            const nlohmann::json& credentials) {
  BrainInfo info = GetBrainInfo(dataset, key);  // kNotFound for an unknown key
  if (!KeptBetweenQueries(info)) {
    return Run(*LoadBrainResults(dataset, key, credentials), view, query, k, reverse);
  }
  // The handle's address tells stores (and connections) apart: data_version
  // is per connection.
  std::string run_prefix = std::to_string(reinterpret_cast<uintptr_t>(view.database().get())) + '\n' +
                           std::to_string(dataset.id()) + '\n' + key + '\n';
  std::shared_ptr<Entry> entry;
  {
    // Held while the version is read and the run loaded, so that no write
    // of this process falls between the two.
    std::lock_guard store_lock(view.database()->sqlite().mutex());
    std::string id = run_prefix + info.timestamp + '\n' + info.config.dump() + '\n' + view.database()->sqlite().ChangeStamp();
    entry = Find(id);
    if (!entry) {
      auto loaded = std::make_shared<Entry>();
      loaded->id = id;
      loaded->index = LoadBrainResults(dataset, key, credentials);
      loaded->bytes = loaded->index->total_index_size() * loaded->index->backend().Dimension() * sizeof(float);
      entry = Insert(std::move(loaded), run_prefix);
    }
  }
  std::lock_guard lock(entry->mutex);
  return Run(*entry->index, view, query, k, reverse);
}

std::shared_ptr<IndexCache::Entry> IndexCache::Find(const std::string& id) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if ((*it)->id != id) continue;
    entries_.splice(entries_.begin(), entries_, it);
    return entries_.front();
  }
  return nullptr;
}

std::shared_ptr<IndexCache::Entry> IndexCache::Insert(std::shared_ptr<Entry> entry, const std::string& run_prefix) {
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    if (e->id == entry->id) return e;  // another thread loaded it first
  }
  // Older versions of the same run can never be asked for again.
  entries_.remove_if([&](const std::shared_ptr<Entry>& e) { return e->id.rfind(run_prefix, 0) == 0; });
  entries_.push_front(std::move(entry));
  size_t bytes = 0;
  for (const auto& e : entries_) bytes += e->bytes;
  while (entries_.size() > 1 && (entries_.size() > capacity_ || bytes > max_bytes_)) {
    bytes -= entries_.back()->bytes;
    entries_.pop_back();
  }
  std::shared_ptr<Entry> newest = entries_.front();
  if (capacity_ == 0) entries_.clear();
  return newest;
}

size_t IndexCache::cached_runs() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

IndexCache& ProcessIndexCache() {
  static auto* cache = [] {
    size_t mb = 2048;
    if (const char* env = std::getenv("FO_INDEX_CACHE_MB"); env && *env) {
      char* end = nullptr;
      unsigned long long v = std::strtoull(env, &end, 10);
      if (end && *end == '\0') mb = static_cast<size_t>(v);
      else std::cerr << "warning: FO_INDEX_CACHE_MB='" << env << "' is not a number of megabytes; using 2048\n";
    }
    return new IndexCache(mb == 0 ? 0 : 4, mb << 20);
  }();  // leaked: used until exit, from any thread
  return *cache;
}

}  // namespace fo::internal
