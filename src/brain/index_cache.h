// Loaded similarity indexes kept between sort_by_similarity calls. Opening
// an sklearn run only maps its files, but a kept index also keeps its pages
// mapped and its lazily built lookups (id map, key order), and saves the
// run's records being read again. Used by the
// sort_by_similarity stage (so by the library, the CLI and Python) and by
// the App.
//
// An entry is keyed by the store handle, dataset, brain key, the run's
// timestamp and config, and the store's version: SQLite's data_version
// (changes when another connection, in this process or another, commits)
// and this connection's total_changes (changes with its own writes). So a
// run recomputed, added to (add_to_index) or trimmed anywhere is reloaded
// on the next sort, while a read-only workload keeps its indexes. Each query
// restricts the index to the caller's view, as FiftyOne does. Remote
// backends (qdrant) are loaded per query: that is cheap (no vectors are
// read) and takes the credentials from the call, the environment and the
// brain config afresh.
//
// Bounded two ways: at most `capacity` runs, and at most `max_bytes` of
// vectors (plus the most recently used run, whatever its size, so that
// repeated sorts of one large run still hit). The process's cache takes
// max_bytes from $FO_INDEX_CACHE_MB (default 2048).
//
// Thread-safe: an index is used by one query at a time.
#ifndef FO_BRAIN_INDEX_CACHE_H_
#define FO_BRAIN_INDEX_CACHE_H_

#include <list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fo/dataset.h"
#include "fo/similarity.h"
#include "fo/view.h"

namespace fo::internal {

struct SortResult {
  std::string patches_field;  // empty for an image index
  std::vector<Hit> hits;      // rank order
};

class IndexCache {
 public:
  explicit IndexCache(size_t capacity = 4, size_t max_bytes = size_t{2048} << 20)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // The k items of `view` (a view of `dataset`) nearest to the query
  // (farthest with reverse) in run `key` of the dataset. Throws the library's errors (kNotFound
  // for an unknown key or id, kInvalidArgument for a prompt on a run without
  // prompts, kUnavailable for a server down...).
  SortResult Sort(const Dataset& dataset, const View& view, const std::string& key, const SimilarityQuery& query, std::optional<size_t> k,
                  bool reverse, const nlohmann::json& credentials = nlohmann::json::object());

  // Loaded runs kept (for tests).
  size_t cached_runs();

 private:
  struct Entry {
    std::string id;
    size_t bytes = 0;  // of its vectors
    std::mutex mutex;  // SimilarityIndex is not thread-safe
    std::unique_ptr<SimilarityIndex> index;
  };

  std::shared_ptr<Entry> Find(const std::string& id);
  std::shared_ptr<Entry> Insert(std::shared_ptr<Entry> entry, const std::string& run_prefix);

  size_t capacity_;
  size_t max_bytes_;
  std::mutex mutex_;
  std::list<std::shared_ptr<Entry>> entries_;  // most recently used first
};

// The cache of this process: 4 runs, $FO_INDEX_CACHE_MB (default 2048) MB
// of vectors; 0 turns it off.
IndexCache& ProcessIndexCache();

}  // namespace fo::internal

#endif  // FO_BRAIN_INDEX_CACHE_H_
