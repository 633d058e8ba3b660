// What a similarity query asks for and how its results are shaped: the
// arguments of sort_by_similarity (fo::SortBySimilarity in brain.h).
#ifndef FO_SIMILARITY_QUERY_H_
#define FO_SIMILARITY_QUERY_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fo/matrix.h"

namespace fo {

// What to search for in sort_by_similarity.
struct SimilarityQuery {
  std::vector<std::string> ids;  // one id, or several (their vectors are averaged)
  Matrix vectors;                // one vector, or several (averaged)
  std::string text;              // a prompt, for models that embed text

  static SimilarityQuery ById(std::string id) { return {{std::move(id)}, {}, {}}; }
  static SimilarityQuery ByIds(std::vector<std::string> ids) { return {std::move(ids), {}, {}}; }
  static SimilarityQuery ByVector(std::vector<float> v);
  static SimilarityQuery ByVectors(Matrix m) { return {{}, std::move(m), {}}; }
  static SimilarityQuery ByText(std::string t) { return {{}, {}, std::move(t)}; }
};

struct SortBySimilarityOptions {
  std::optional<size_t> k;     // nearest k; all indexed items when unset. REQUIRES k > 0
  bool reverse = false;        // least similar first
  std::string dist_field;      // if set, each result's distance is written there
  std::string brain_key;       // may be empty when exactly one similarity run fits
  // Credentials for a remote backend ("url", "api_key"); unset ones come
  // from the environment and the brain config, as in load_brain_results.
  std::map<std::string, std::string> credentials;
};

}  // namespace fo

#endif  // FO_SIMILARITY_QUERY_H_
