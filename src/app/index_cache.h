// Similarity queries for the App, with loaded sklearn indexes kept between
// requests. Loading a run reads every vector from the store (about 25 ms for
// 10,000 x 284 floats), which would dominate each sort; a loaded index answers
// in a few milliseconds.
//
// An entry is keyed by dataset, brain key, the run's timestamp and config, and
// the store file's version: the modification time and size of the SQLite file
// and its write-ahead log, which every committed write changes, whichever
// process made it. So a run recomputed, added to (add_to_index) or trimmed
// elsewhere is reloaded on the next sort, while a read-only App keeps its
// indexes. Each query also restricts the index to the dataset's current
// samples, as the sort_by_similarity stage does. Remote backends (qdrant) are
// loaded per query: that is cheap (no vectors are read) and takes the
// credentials from the environment and brain config afresh, as the library
// does.
//
// Thread-safe: an index is used by one request at a time.
#ifndef FO_APP_INDEX_CACHE_H_
#define FO_APP_INDEX_CACHE_H_

#include <list>
#include <memory>
#include <mutex>
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
  explicit IndexCache(size_t capacity = 4) : capacity_(capacity) {}

  // The k items of the dataset nearest to the query (farthest with reverse)
  // in run `key`: what View::SortBySimilarity ranks. Throws the library's
  // errors (kNotFound for an unknown key or id, kInvalidArgument for a
  // prompt on a run without prompts, kUnavailable for a server down...).
  SortResult Sort(const Dataset& dataset, const std::string& key, const SimilarityQuery& query,
                  std::optional<size_t> k, bool reverse);

 private:
  struct Entry {
    std::string id;
    std::mutex mutex;  // SimilarityIndex is not thread-safe
    std::unique_ptr<SimilarityIndex> index;
  };

  std::shared_ptr<Entry> Find(const std::string& id);
  std::shared_ptr<Entry> Insert(std::shared_ptr<Entry> entry, const std::string& run_prefix);

  size_t capacity_;
  std::mutex mutex_;
  std::list<std::shared_ptr<Entry>> entries_;  // most recently used first
};

}  // namespace fo::internal

#endif  // FO_APP_INDEX_CACHE_H_
