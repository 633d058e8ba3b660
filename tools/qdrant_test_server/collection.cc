#include "collection.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "api_error.h"

namespace qdrant_test_server {

using nlohmann::json;

std::optional<Distance> ParseDistance(const std::string& name) {
  if (name == "Cosine") return Distance::kCosine;
  if (name == "Euclid") return Distance::kEuclid;
  if (name == "Dot") return Distance::kDot;
  if (name == "Manhattan") return Distance::kManhattan;
  return std::nullopt;
}

bool HigherIsBetter(Distance distance) { return distance == Distance::kCosine || distance == Distance::kDot; }

void Preprocess(Distance distance, std::vector<float>& vector) {
  if (distance != Distance::kCosine) return;
  float squared = 0;
  for (float x : vector) squared += x * x;
  if (squared < FLT_EPSILON) return;
  float length = std::sqrt(squared);
  for (float& x : vector) x /= length;
}

float Score(Distance distance, const std::vector<float>& a, const std::vector<float>& b) {
  float sum = 0;
  switch (distance) {
    case Distance::kCosine:
    case Distance::kDot:
      for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
      return sum;
    case Distance::kEuclid:
      for (size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
      return std::sqrt(sum);
    case Distance::kManhattan:
      for (size_t i = 0; i < a.size(); ++i) sum += std::fabs(a[i] - b[i]);
      return sum;
  }
  return sum;
}

void Collection::CheckDimension(const std::vector<float>& vector) const {
  if (!dim) throw BadInput("Not existing vector name error: ");
  if (vector.size() != *dim) {
    throw BadInput("Vector dimension error: expected dim: " + std::to_string(*dim) + ", got " +
                   std::to_string(vector.size()));
  }
}

json RecordJson(const PointId& id, const Point& point, const PayloadSelector& with_payload,
                bool with_vector) {
  json record = {{"id", ToJson(id)}};
  if (with_payload.enabled()) record["payload"] = with_payload.Apply(point.payload);
  if (with_vector) record["vector"] = VectorToJson(point.vector);
  return record;
}

json Search(const Collection& collection, const SearchRequest& request) {
  std::optional<std::vector<float>> query = request.vector;
  if (request.by_id) {
    auto it = collection.points.find(*request.by_id);
    if (it == collection.points.end()) {
      throw NotFound("No point with id " + ToString(*request.by_id) + " found");
    }
    query = it->second.vector;  // already preprocessed
  } else if (query) {
    collection.CheckDimension(*query);
    Preprocess(collection.distance, *query);
  }

  struct Hit {
    const PointId* id;
    const Point* point;
    float score;
  };
  std::vector<Hit> hits;
  for (const auto& [id, point] : collection.points) {
    if (request.by_id && id == *request.by_id) continue;  // Qdrant excludes referenced ids
    if (request.filter && !Matches(*request.filter, id, point.payload)) continue;
    float score = query ? Score(collection.distance, *query, point.vector) : 0.0f;
    if (query && request.score_threshold) {
      // The threshold is strict: score > t, or distance < t.
      bool keep = HigherIsBetter(collection.distance) ? score > *request.score_threshold
                                                      : score < *request.score_threshold;
      if (!keep) continue;
    }
    hits.push_back({&id, &point, score});
  }
  if (query) {
    bool higher = HigherIsBetter(collection.distance);
    std::stable_sort(hits.begin(), hits.end(), [higher](const Hit& a, const Hit& b) {
      return higher ? a.score > b.score : a.score < b.score;
    });
  }

  json points = json::array();
  for (size_t i = request.offset; i < hits.size() && points.size() < request.limit; ++i) {
    const Hit& hit = hits[i];
    json scored = {
        {"id", ToJson(*hit.id)}, {"version", hit.point->version}, {"score", FloatToJson(hit.score)}};
    if (request.with_payload.enabled()) scored["payload"] = request.with_payload.Apply(hit.point->payload);
    if (request.with_vector) scored["vector"] = VectorToJson(hit.point->vector);
    points.push_back(std::move(scored));
  }
  return points;
}

}  // namespace qdrant_test_server
