// fo::QdrantClient: a client for Qdrant's REST API (the operations a
// FiftyOne-style similarity backend needs), like `qdrant_index.client` in
// FiftyOne. libcurl underneath, one connection reused per client; HTTPS and
// the `api-key` header for Qdrant Cloud; bounded retries with backoff for
// idempotent calls on connection failures and 502/503/504.
//
// Errors (fo::Error): kUnavailable "Failed to connect to Qdrant at <url>: ..."
// and for 5xx/408/429 once retries are spent; kUnauthenticated for 401/403
// (names the url, never the key); kNotFound for a missing collection;
// kAlreadyExists for 409 (creating an existing collection); kInvalidArgument
// for other 4xx (the server's message passed on); kCorruption for a response
// that is not the JSON expected. Not thread-safe: use one client per thread.
#ifndef FO_QDRANT_CLIENT_H_
#define FO_QDRANT_CLIENT_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fo/matrix.h"

namespace fo {

struct QdrantClientOptions {
  // "http://host:6333", "https://...", or "host:port" (http assumed).
  std::string url = "http://localhost:6333";
  std::string api_key;            // sent as the `api-key` header when set
  double timeout_s = 60;          // whole request
  double connect_timeout_s = 5;
  int max_retries = 3;            // extra attempts for idempotent calls
  double retry_budget_s = 30;     // no retry starts after this much time
  double initial_backoff_s = 0.2; // doubled per retry, with jitter
};

struct QdrantPoint {
  std::string id;              // hyphenated UUID or decimal integer, as the server returns it
  std::vector<float> vector;   // empty unless requested
  nlohmann::json payload;      // null unless requested
};

struct QdrantScoredPoint {
  std::string id;
  double score = 0;            // Cosine/Dot: similarity (higher closer); Euclid: distance
  nlohmann::json payload;
};

struct QdrantScrollPage {
  std::vector<QdrantPoint> points;
  nlohmann::json next_page_offset;  // null at the end
};

class QdrantClient {
 public:
  explicit QdrantClient(QdrantClientOptions options);
  ~QdrantClient();
  QdrantClient(const QdrantClient&) = delete;
  QdrantClient& operator=(const QdrantClient&) = delete;

  // The normalised base url ("http://localhost:6333").
  const std::string& url() const;

  // GET /collections: the collection names.
  std::vector<std::string> ListCollections();
  // GET /collections/{name}/exists.
  bool CollectionExists(const std::string& name);
  // GET /collections/{name}: the `result` object (config, points_count...).
  nlohmann::json GetCollection(const std::string& name);
  // PUT /collections/{name} with `body` ({"vectors": {"size", "distance"}, ...}).
  void CreateCollection(const std::string& name, const nlohmann::json& body);
  // DELETE /collections/{name}; true if it existed.
  bool DeleteCollection(const std::string& name);

  // PUT /collections/{name}/points?wait=... in the batch form. ids are point
  // ids (UUID strings); payloads one object per row (or empty for none).
  // The body is written directly (no JSON tree) with shortest round-trip
  // float formatting. REQUIRES: vectors.rows() == ids.size().
  void Upsert(const std::string& name, const Matrix& vectors, const std::vector<std::string>& ids,
              const std::vector<nlohmann::json>& payloads, bool wait = true);
  // The exact size in bytes of the body Upsert would send for rows
  // [first_row, first_row + rows) (to split batches under the server's 32 MiB
  // request limit). `ids` and `payloads` (empty for none) are aligned either
  // with the whole matrix or with just those rows. Formats every float (into
  // a scratch buffer), so it costs about as much as writing the body.
  static size_t UpsertBodySize(const Matrix& vectors, size_t first_row, size_t rows,
                               const std::vector<std::string>& ids, const std::vector<nlohmann::json>& payloads);
  // POST /collections/{name}/points: the points that exist, in server order.
  std::vector<QdrantPoint> Retrieve(const std::string& name, const std::vector<std::string>& ids,
                                    bool with_vector, bool with_payload);
  // POST /collections/{name}/points/scroll.
  QdrantScrollPage Scroll(const std::string& name, const nlohmann::json& filter, size_t limit,
                          const nlohmann::json& offset, bool with_vector, bool with_payload);
  // POST /collections/{name}/points/count (exact).
  size_t Count(const std::string& name, const nlohmann::json& filter = nullptr);
  // POST /collections/{name}/points/query/batch: one search per row of
  // `queries`, each with `limit` and `filter` (null for none).
  std::vector<std::vector<QdrantScoredPoint>> QueryBatch(const std::string& name, const Matrix& queries, size_t limit,
                                                         const nlohmann::json& filter, bool with_payload = true);
  // POST /collections/{name}/points/delete?wait=... by ids.
  void DeletePoints(const std::string& name, const std::vector<std::string>& ids, bool wait = true);

  // A raw request, for anything else: method, path (with query string) and
  // JSON body; returns the envelope's `result`.
  nlohmann::json Request(const std::string& method, const std::string& path, const std::string& body = "",
                         bool idempotent = true);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Point ids as FiftyOne writes them: the 24-hex ObjectId + "00000000" read
// as a UUID (hyphenated form), and back.
std::string ObjectIdToPointId(const std::string& object_id);
// Accepts hyphenated or simple forms; throws kInvalidArgument for other ids.
std::string PointIdToObjectId(const std::string& point_id);

}  // namespace fo

#endif  // FO_QDRANT_CLIENT_H_
