// The App's JSON API as plain functions from a parsed request to a response,
// so that tests and benchmarks can call them without HTTP. app_server.cc
// only routes to them.
//
//   GET  /api/datasets                             [{"name", "count"}]
//   GET  /api/datasets/{name}                      {"name", "count", "label_fields", "default"}
//   GET  /api/datasets/{name}/samples?offset&limit {"total", "offset", "limit", "samples": [Sample]}
//   GET  /api/datasets/{name}/patches?field&offset&limit
//                                                  {"total", "offset", "limit", "patches": [Patch]}
//   GET  /api/datasets/{name}/brain_runs?type&patches_field&supports_prompts
//                                                  [{"key", "type", "backend", "metric", "model",
//                                                    "patches_field", "supports_prompts",
//                                                    "supports_least_similarity"}]
//   POST /api/datasets/{name}/sort_by_similarity   {"brain_key", "query_ids" | "text", "k", "reverse"}
//                                                  -> {"brain_key", "patches", "results": [...]}
//   GET  /api/datasets/{name}/thumbnails/{id}[?label_id=L]   image/jpeg, longest side <= 256
//   GET  /api/datasets/{name}/media/{id}           the sample's file, by sample id only
//
// Sample and Patch are laid out in app_json.h. Errors are {"error": "<one
// line>"} with 400 for bad input, 404 for an unknown dataset, key, id or
// field, 503 when a backend server is unreachable, 500 otherwise.
//
// Thread-safe: handlers may run concurrently (the store serialises access).
#ifndef FO_APP_API_H_
#define FO_APP_API_H_

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fo/brain.h"
#include "thumbnails.h"
#include "fo/database.h"

namespace fo::internal {

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The body parsed as JSON (for tests).
  nlohmann::json Json() const { return nlohmann::json::parse(body); }
};

// Query parameters as cpp-httplib gives them (a name may repeat; the first wins).
using QueryParams = std::multimap<std::string, std::string>;

// Largest page and largest k a client may ask for: bounds on one response's
// size and on the time one request can hold the store.
inline constexpr size_t kMaxPageSize = 1000;
inline constexpr size_t kDefaultPageSize = 100;
inline constexpr size_t kMaxK = 10000;
inline constexpr size_t kDefaultK = 100;

// {"error": message} with that status.
ApiResponse ErrorResponse(int status, const std::string& message);

class AppApi {
 public:
  AppApi(std::shared_ptr<Database> db, std::string default_dataset, std::string thumbnail_dir,
         uint64_t thumbnail_cache_bytes = 0);

  ApiResponse ListDatasets() const;
  ApiResponse GetDataset(const std::string& name) const;
  ApiResponse ListSamples(const std::string& name, const QueryParams& params) const;
  ApiResponse ListPatches(const std::string& name, const QueryParams& params) const;
  ApiResponse ListBrainRuns(const std::string& name, const QueryParams& params) const;
  ApiResponse SortBySimilarity(const std::string& name, const std::string& body) const;
  // if_none_match: the request's If-None-Match header; a match answers 304.
  ApiResponse Thumbnail(const std::string& name, const std::string& sample_id, const QueryParams& params,
                        const std::string& if_none_match = "") const;
  ApiResponse Media(const std::string& name, const std::string& sample_id) const;

  const ThumbnailCache& thumbnails() const { return thumbnails_; }

 private:
  std::shared_ptr<Database> db_;
  std::string default_dataset_;
  ThumbnailCache thumbnails_;
};

}  // namespace fo::internal

#endif  // FO_APP_API_H_
