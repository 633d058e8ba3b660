// How FiftyOne prints a view stage: "ClassName(name=value, ...)", each value
// shortened as Python's reprlib does with the limits of fiftyone's
// core/stages.py (_repr: maxlevel 2, maxlist/maxdict 3, maxstring/maxother
// 30). Used by the stages' Describe(), which view summaries list.
#ifndef FO_STORE_STAGE_REPR_H_
#define FO_STORE_STAGE_REPR_H_

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace fo::internal {

// Python's repr() of a JSON value (str, int, float, True/False/None, list,
// dict) through FiftyOne's reprlib limits.
std::string StageValueRepr(const nlohmann::json& value);

// "Limit(limit=10)": the class name and the [name, value] kwargs in order.
std::string StageRepr(const std::string& class_name,
                      const std::vector<std::pair<std::string, nlohmann::json>>& kwargs);

}  // namespace fo::internal

#endif  // FO_STORE_STAGE_REPR_H_
