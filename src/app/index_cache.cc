#include "app/index_cache.h"

#include <filesystem>
#include <system_error>

#include "fo/brain.h"
#include "fo/database.h"

namespace fo::internal {

namespace {

SortResult Run(SimilarityIndex& index, const Dataset& dataset, const SimilarityQuery& query,
               std::optional<size_t> k, bool reverse) {
  // As the sort_by_similarity stage does for a view of the whole dataset.
  index.UseView(dataset.view());
  SortResult result;
  result.patches_field = index.config().patches_field;
  result.hits = index.Query(query, k, reverse);
  return result;
}

// Changes with every commit to the store, by this process or another: in WAL
// mode a commit appends to "<db>-wal", and a checkpoint rewrites the file.
std::string StoreVersion(const Database& db) {
  std::string version;
  for (const std::string& path : {db.path(), db.path() + "-wal"}) {
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(path, ec);
    auto size = std::filesystem::file_size(path, ec);
    if (ec) continue;  // no WAL right now
    version += std::to_string(mtime.time_since_epoch().count()) + ':' + std::to_string(size) + ';';
  }
  return version;
}

}  // namespace

SortResult IndexCache::Sort(const Dataset& dataset, const std::string& key, const SimilarityQuery& query,
                            std::optional<size_t> k, bool reverse) {
  BrainInfo info = GetBrainInfo(dataset, key);  // kNotFound for an unknown key
  if (info.type != "similarity" || info.config.value("method", "") != "sklearn") {
    return Run(*LoadBrainResults(dataset, key), dataset, query, k, reverse);
  }
  std::string run_prefix = std::to_string(dataset.id()) + '\n' + key + '\n';
  std::string id =
      run_prefix + info.timestamp + '\n' + info.config.dump() + '\n' + StoreVersion(*dataset.database());
  std::shared_ptr<Entry> entry = Find(id);
  if (!entry) {
    // Loaded outside the cache's lock, so other runs stay usable meanwhile;
    // two first requests for one run may both load it, which is harmless.
    auto loaded = std::make_shared<Entry>();
    loaded->id = id;
    loaded->index = LoadBrainResults(dataset, key);
    entry = Insert(std::move(loaded), run_prefix);
  }
  std::lock_guard lock(entry->mutex);
  return Run(*entry->index, dataset, query, k, reverse);
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
    if (e->id == entry->id) return e;  // another request loaded it first
  }
  // Older versions of the same run can never be asked for again.
  entries_.remove_if([&](const std::shared_ptr<Entry>& e) { return e->id.rfind(run_prefix, 0) == 0; });
  entries_.push_front(std::move(entry));
  while (entries_.size() > capacity_) entries_.pop_back();
  return entries_.front();
}

}  // namespace fo::internal
