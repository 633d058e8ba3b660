// The rows of a sort_by_similarity view, flattened for printing: one entry
// per sample for an image index, one per matched patch for a patch index.
// Shared by `fo brain sort-by-similarity` and `fo demo`.
#ifndef FO_CLI_SIMILARITY_RESULTS_H_
#define FO_CLI_SIMILARITY_RESULTS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fo/dataset.h"
#include "fo/view.h"

namespace fo::cli {

struct SimilarityResult {
  std::string sample_id;
  std::string filepath;
  std::optional<double> distance;
  std::string label_id;  // patch index only
  std::string label;     // patch index only, for tables
};

struct SimilarityResults {
  bool patches = false;
  std::vector<SimilarityResult> items;  // nearest first (farthest with reverse)
};

// Looks up filepaths (and labels of patches) in one read. Patches are put in
// distance order across samples, since a patch query ranks labels, while the
// view groups them under their samples.
SimilarityResults CollectSimilarityResults(const Dataset& dataset, const std::vector<ViewRow>& rows,
                                           bool reverse);

// [{"id", "filepath", "distance"[, "label_id"]}, ...] in order.
nlohmann::ordered_json SimilarityResultsToJson(const SimilarityResults& results);

// A table with a rank column, for people.
void PrintSimilarityTable(const SimilarityResults& results);

}  // namespace fo::cli

#endif  // FO_CLI_SIMILARITY_RESULTS_H_
