// compute_embeddings: runs a model over a view's images (or over each
// detection's crop) and returns the vectors or stores them in a field.
#ifndef FO_EMBEDDINGS_H_
#define FO_EMBEDDINGS_H_

#include <optional>
#include <string>
#include <vector>

#include "fo/matrix.h"
#include "fo/model.h"
#include "fo/view.h"

namespace fo {

struct ComputeEmbeddingsOptions {
  // If set, vectors are stored there (a sample field, or with patches_field
  // a detection attribute) in one transaction.
  std::string embeddings_field;
  // A Detections field: embed each detection's crop instead of the image.
  std::string patches_field;
  size_t batch_size = 32;
  // Threads that decode, crop and preprocess (Model::PrepareImage) the next
  // batches while the model runs the current one. 0: one per core.
  size_t num_workers = 0;
  // A progress bar (count, rate, ETA) on stderr. Unset: only when stderr is
  // a terminal.
  std::optional<bool> progress;
  // Skip (with a warning on stderr) images that cannot be read, instead of
  // throwing. Skipped samples are absent from the result.
  bool skip_failures = false;
  bool force_square = false;
  std::optional<double> alpha;
};

// Rows in view order (and detection order within a sample). label_ids is
// filled only with patches_field.
struct EmbeddingsResult {
  Matrix embeddings;
  std::vector<std::string> sample_ids;
  std::vector<std::string> label_ids;
};

EmbeddingsResult ComputeEmbeddings(const View& samples, Model& model,
                                   const ComputeEmbeddingsOptions& options = {});

}  // namespace fo

#endif  // FO_EMBEDDINGS_H_
