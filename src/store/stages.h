// The stages a View is made of. A stage compiles itself into the view's SQL
// (store/view_query.h): it receives the query of the view before it (its
// input) and transforms it. Stages of other layers (sort_by_similarity, from
// the similarity layer) implement the same interface and are appended with
// View::AddStage, so the store never calls up into them.
#ifndef FO_STORE_STAGES_H_
#define FO_STORE_STAGES_H_

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fo/view.h"
#include "store/view_query.h"

namespace fo::internal {

struct Stage {
  virtual ~Stage() = default;
  // `input` is the view the stage is applied to (for stages that must
  // evaluate it or need its dataset); `query` is its compiled query, to be
  // transformed into this stage's output.
  virtual void Compile(const View& input, ViewQuery& query) const = 0;
  // How FiftyOne prints the stage (store/stage_repr.h); by default from
  // ToJson()'s class name and kwargs, so the two never disagree. A stage
  // overrides at least one of the two (each default calls the other).
  virtual std::string Describe() const;
  // FiftyOne's serialised form of the stage, {"_cls": "fiftyone.core.stages.X",
  // "kwargs": [[name, value]...]} (View::ToJson). Throws kUnimplemented for a
  // stage that has none.
  virtual nlohmann::json ToJson() const;
};

// {"_cls": "fiftyone.core.stages.<name>", "kwargs": [[k, v]...]} in this order.
nlohmann::json StageJson(const std::string& name, const std::vector<std::pair<std::string, nlohmann::json>>& kwargs);

}  // namespace fo::internal

#endif  // FO_STORE_STAGES_H_
