// fo::SimilarityBackend: where a similarity index keeps its vectors and how it
// searches them. This is the plug-in point for backends ("sklearn" exact
// in-process search, "qdrant" ...): one source file implements the class and
// registers a factory by name. SimilarityIndex (similarity.h) builds
// FiftyOne's semantics (views, id queries, add/remove options) on top, so a
// backend only stores items and answers k-NN queries.
//
// An item is one vector keyed by its item id: the sample id for an image
// index, the label id for a patch index; each item remembers its sample id.
#ifndef FO_SIMILARITY_BACKEND_H_
#define FO_SIMILARITY_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fo/matrix.h"

namespace fo {

class Database;

// Restricts a search to some items, by item id or by sample id.
struct SearchFilter {
  enum class Mode { kAll, kOnly, kExcept };
  Mode mode = Mode::kAll;
  bool by_sample_id = false;     // ids are sample ids (of a patch index)
  std::vector<std::string> ids;  // the allowed (kOnly) or excluded (kExcept) ids
  // With kOnly: the dataset's other ids (those not allowed), when known. A
  // remote backend may send whichever list is shorter (must_not the
  // complement) and drop results outside `ids` itself, which also drops
  // items of samples deleted since they were indexed.
  std::optional<std::vector<std::string>> complement;
  // With kOnly, for a backend whose capabilities say filters_by_sample_key:
  // the allowed samples as store keys (samples.seq), sorted ascending, used
  // instead of `ids` (which is then left empty). The caller owns the keys
  // for the duration of Search.
  std::optional<std::span<const int64_t>> sample_keys;
};

struct Hit {
  std::string item_id;
  std::string sample_id;
  double distance = 0;  // smaller is closer; see docs/architecture.md
  // Store keys (samples.seq; labels.seq of a patch), 0 when the backend does
  // not keep them or the item was not in the store when it was indexed.
  int64_t item_key = 0;
  int64_t sample_key = 0;
};

// Store keys of the items of an Upsert, rows aligned: `sample` is the
// samples.seq of each item's sample, `item` is samples.seq for an image
// index and labels.seq for a patch index; 0 for an id that is not in the
// store (such an item never matches a view). Backends that do not filter by
// key ignore them.
struct ItemKeys {
  std::span<const int64_t> item;
  std::span<const int64_t> sample;
};

// Vectors with their ids, rows aligned.
struct IndexedEmbeddings {
  Matrix embeddings;
  std::vector<std::string> sample_ids;
  std::vector<std::string> label_ids;  // empty for an image index
};

struct BackendCapabilities {
  std::optional<size_t> max_k;         // largest k, or no limit
  bool supports_least_similarity = true;
  std::vector<std::string> metrics;    // accepted metric names
  // Search accepts SearchFilter::sample_keys, and hits carry sample keys.
  bool filters_by_sample_key = false;
  // A saved index's writes are part of the store's open transaction: they
  // commit or roll back with it (sklearn), rather than staying as they are
  // made (a remote collection).
  bool writes_with_store = false;
};

// What a backend is created with.
struct BackendContext {
  std::shared_ptr<Database> db;
  int64_t run_id = 0;            // the brain run that owns the index; 0 = not saved
  std::string dataset_name;
  std::string metric;            // validated against capabilities().metrics
  bool patches = false;          // items are labels
  nlohmann::json params;         // backend parameters, credentials included
};

class SimilarityBackend {
 public:
  virtual ~SimilarityBackend() = default;

  virtual BackendCapabilities capabilities() const = 0;

  // Parameters to persist with the run (never credentials), e.g. the Qdrant
  // collection name chosen at creation.
  virtual nlohmann::json PersistentParams() const { return nlohmann::json::object(); }

  // Called once the run is registered, so that a backend that stores its
  // data with the run (sklearn) can write it there.
  virtual void AttachToRun(int64_t run_id) {}

  // A hint before Upsert calls that add up to `items` new items of `dim`
  // values: an in-memory backend grows its storage once instead of doubling
  // (and copying) as rows arrive.
  virtual void Reserve(size_t items, size_t dim) {}
  // A hint before those Upsert calls: every row they will add (read only
  // during the call). A backend that fits something to the data (sklearn's
  // int8 quantiser) fits it to a sample of all of them rather than to the
  // first batch.
  virtual void PrepareForRows(MatrixView rows) {}
  // Inserts or replaces items, atomically. REQUIRES: vectors.rows() ==
  // item_ids.size() == sample_ids.size() == keys.item.size() ==
  // keys.sample.size(), vectors finite, dimension equal to the index's (once
  // it has one; throws kInvalidArgument otherwise).
  virtual void Upsert(const Matrix& vectors, const std::vector<std::string>& item_ids,
                      const std::vector<std::string>& sample_ids, const ItemKeys& keys) = 0;
  // For each id, whether it is indexed.
  virtual std::vector<bool> Contains(const std::vector<std::string>& item_ids) = 0;
  // Removes the items that exist; returns how many did.
  virtual size_t Remove(const std::vector<std::string>& item_ids) = 0;
  // Item ids of every item of these samples.
  virtual std::vector<std::string> ItemIdsOfSamples(const std::vector<std::string>& sample_ids) = 0;
  // The items with these ids, in the order given, missing ones left out;
  // every item when item_ids is empty (label_ids filled for patch indexes).
  virtual IndexedEmbeddings Get(const std::vector<std::string>& item_ids) = 0;
  // Every item id, or nullopt if the backend cannot list them cheaply.
  virtual std::optional<std::vector<std::string>> ItemIds() = 0;
  virtual size_t Size() = 0;
  // Vector dimension, 0 while empty and unknown.
  virtual size_t Dimension() = 0;
  // For each query row, up to k nearest items passing the filter, nearest
  // first (farthest first with reverse).
  virtual std::vector<std::vector<Hit>> Search(const Matrix& queries, size_t k, bool reverse,
                                               const SearchFilter& filter) = 0;
  // Deletes the backend's index (a Qdrant collection; sklearn's stored vectors).
  virtual void Cleanup() = 0;
};

using BackendFactory = std::function<std::unique_ptr<SimilarityBackend>(const BackendContext&)>;

void RegisterSimilarityBackend(const std::string& name, BackendCapabilities caps, BackendFactory factory);
// Throws kInvalidArgument "Unsupported backend 'x'; available backends are [...]".
std::unique_ptr<SimilarityBackend> CreateSimilarityBackend(const std::string& name, const BackendContext& context);
BackendCapabilities SimilarityBackendCapabilities(const std::string& name);
std::vector<std::string> ListSimilarityBackends();

}  // namespace fo

#endif  // FO_SIMILARITY_BACKEND_H_
