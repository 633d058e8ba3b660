// FiftyOne's dataset and view summaries (include/fo/summary.h).
#include "fo/summary.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

namespace fo {

namespace {

constexpr const char* kFields = "fiftyone.core.fields.";

// "Name:" -> "Name:       ": headings padded to the longest, then one space
// before the value (fiftyone.core.utils.justify_headings, then "%s %s").
std::string JustifiedLines(const std::vector<std::pair<std::string, std::string>>& elements) {
  size_t width = 0;
  for (const auto& [heading, value] : elements) width = std::max(width, heading.size());
  std::string out;
  for (const auto& [heading, value] : elements)
    out += heading + std::string(width - heading.size(), ' ') + " " + value + "\n";
  return out;
}

// "    name: type" per field, names padded to the longest plus its colon.
std::string FieldLines(const std::vector<FieldInfo>& fields) {
  size_t width = 0;
  for (const FieldInfo& f : fields) width = std::max(width, f.name.size() + 1);
  std::string out;
  for (const FieldInfo& f : fields) {
    std::string name = f.name + ":";
    out += "    " + name + std::string(width - name.size(), ' ') + " " + FiftyOneFieldType(f) + "\n";
  }
  return out;
}

std::string SampleFieldsSection(const Dataset& dataset) { return "Sample fields:\n" + FieldLines(dataset.Fields()); }

std::string PythonBool(bool b) { return b ? "True" : "False"; }

}  // namespace

std::string FiftyOneFieldType(const FieldInfo& field) {
  static const std::map<std::string, std::string> kTypes = {
      {"id", std::string(kFields) + "ObjectIdField"},
      {"string", std::string(kFields) + "StringField"},
      {"bool", std::string(kFields) + "BooleanField"},
      {"int", std::string(kFields) + "IntField"},
      {"float", std::string(kFields) + "FloatField"},
      {"vector", std::string(kFields) + "VectorField"},
      {"list", std::string(kFields) + "ListField"},
      {"metadata", std::string(kFields) + "EmbeddedDocumentField(fiftyone.core.metadata.ImageMetadata)"},
      {"detections", std::string(kFields) + "EmbeddedDocumentField(fiftyone.core.labels.Detections)"},
  };
  // The built-in tags field is a list of strings; a user list's elements
  // have no declared type.
  if (field.name == "tags" && field.type == "list") return std::string(kFields) + "ListField(" + kFields + "StringField)";
  auto it = kTypes.find(field.type);
  return it == kTypes.end() ? std::string(kFields) + "Field" : it->second;
}

std::string DatasetSummary(const Dataset& dataset) {
  std::string out = JustifiedLines({{"Name:", dataset.name()},
                                    {"Media type:", dataset.media_type()},
                                    {"Num samples:", std::to_string(dataset.Count())},
                                    {"Persistent:", PythonBool(dataset.persistent())},
                                    {"Tags:", "[]"}});  // fo datasets have no dataset-level tags
  out += SampleFieldsSection(dataset);
  out.pop_back();  // FiftyOne joins the lines: no final newline
  return out;
}

std::string ViewSummary(const View& view) {
  Dataset dataset = Dataset::Load(view.database(), view.dataset_name());
  std::string out = JustifiedLines({{"Dataset:", dataset.name()},
                                    {"Media type:", dataset.media_type()},
                                    {"Num samples:", std::to_string(view.Count())}});
  out += SampleFieldsSection(dataset);
  out += "View stages:\n";
  std::vector<std::string> stages = view.StageDescriptions();
  if (stages.empty()) out += "    ---\n";
  for (size_t i = 0; i < stages.size(); ++i) out += "    " + std::to_string(i + 1) + ". " + stages[i] + "\n";
  out.pop_back();
  return out;
}

}  // namespace fo
