// The stages a View is made of. Each stage maps the rows of the view before
// it (its input) to new rows; the first stage's input is every sample of the
// dataset in insertion order.
#ifndef FO_STORE_STAGES_H_
#define FO_STORE_STAGES_H_

#include <string>
#include <vector>

#include "fo/view.h"

namespace fo::internal {

struct Stage {
  virtual ~Stage() = default;
  // `input` is the view the stage is applied to (for stages that need its
  // dataset or want to evaluate it again); `rows` are its rows, replaced by
  // the output.
  virtual void Apply(const View& input, std::vector<ViewRow>& rows) const = 0;
  virtual std::string Describe() const = 0;
};

// Defined in src/brain (it runs a similarity query).
std::shared_ptr<const Stage> MakeSortBySimilarityStage(SimilarityQuery query, SortBySimilarityOptions options);

}  // namespace fo::internal

#endif  // FO_STORE_STAGES_H_
