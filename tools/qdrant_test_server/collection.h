// One in-memory collection: its configuration as the info endpoint shows it,
// and its points (a single unnamed dense vector and a payload each). Not
// thread-safe: the server guards every collection with its one mutex.
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_COLLECTION_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_COLLECTION_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "filters.h"
#include "json_io.h"
#include "point_id.h"

namespace qdrant_test_server {

enum class Distance { kCosine, kEuclid, kDot, kManhattan };

std::optional<Distance> ParseDistance(const std::string& name);  // case-sensitive, as Qdrant

// Cosine and Dot rank higher scores first; Euclid and Manhattan report a
// distance and rank lower first.
bool HigherIsBetter(Distance distance);

// Qdrant normalises Cosine vectors to unit length when they are stored and
// when they are queried; a vector whose squared length is below f32 epsilon
// is left as it is.
void Preprocess(Distance distance, std::vector<float>& vector);

// The score Qdrant reports between two preprocessed vectors: the dot product
// (Cosine, Dot), the L2 distance (Euclid) or the L1 distance (Manhattan).
float Score(Distance distance, const std::vector<float>& a, const std::vector<float>& b);

struct Point {
  std::vector<float> vector;  // preprocessed for the collection's distance
  nlohmann::json payload;     // always an object
  uint64_t version = 0;       // the operation that last wrote the point
};

struct Collection {
  // Absent when the collection was created without dense vectors.
  std::optional<uint64_t> dim;
  Distance distance = Distance::kCosine;
  nlohmann::json config;  // CollectionInfo.config, echoed by GET /collections/{c}
  std::map<PointId, Point> points;
  std::map<std::string, nlohmann::json> payload_indexes;  // field -> {data_type, params?}
  uint64_t next_operation_id = 0;

  // Throws 400 "Wrong input: Vector dimension error: expected dim: X, got Y".
  void CheckDimension(const std::vector<float>& vector) const;
};

// What a query or search asks for, already parsed and validated.
struct SearchRequest {
  std::optional<std::vector<float>> vector;  // nearest to this vector
  std::optional<PointId> by_id;              // nearest to this point's vector, point excluded
  std::optional<Filter> filter;
  size_t limit = 10;
  size_t offset = 0;
  std::optional<float> score_threshold;
  PayloadSelector with_payload;
  bool with_vector = false;
};

// Exact (brute-force) search. Returns ScoredPoint objects, best first (ties by
// id); with neither vector nor by_id, points in id order with score 0 (a
// query without `query`). Throws 404 when by_id names a missing point and 400
// on a wrong dimension.
nlohmann::json Search(const Collection& collection, const SearchRequest& request);

// A Record for retrieve and scroll: id, then payload / vector when selected.
nlohmann::json RecordJson(const PointId& id, const Point& point, const PayloadSelector& with_payload,
                          bool with_vector);

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_COLLECTION_H_
