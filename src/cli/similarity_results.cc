#include "similarity_results.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

#include "output.h"

namespace fo::cli {

namespace {

struct SampleNames {
  std::string filepath;
  std::map<std::string, std::string> labels;  // label id -> label
};

std::map<std::string, SampleNames> ReadSampleNames(const Dataset& dataset, const std::vector<ViewRow>& rows) {
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const ViewRow& row : rows) ids.push_back(row.sample_id);
  std::map<std::string, SampleNames> names;
  if (ids.empty()) return names;
  for (const Sample& sample : dataset.view().Select(ids).Samples()) {
    SampleNames& entry = names[sample.id];
    entry.filepath = sample.filepath;
    for (const auto& [field, detections] : sample.label_fields) {
      for (const Detection& d : detections.detections) entry.labels[d.id] = d.label;
    }
  }
  return names;
}

}  // namespace

SimilarityResults CollectSimilarityResults(const Dataset& dataset, const std::vector<ViewRow>& rows,
                                           bool reverse) {
  SimilarityResults results;
  results.patches = std::any_of(rows.begin(), rows.end(), [](const ViewRow& r) { return !r.patches.empty(); });
  std::map<std::string, SampleNames> names = ReadSampleNames(dataset, rows);
  for (const ViewRow& row : rows) {
    const SampleNames& sample = names[row.sample_id];
    if (!results.patches) {
      results.items.push_back({row.sample_id, sample.filepath, row.distance, "", ""});
      continue;
    }
    for (const PatchMatch& patch : row.patches) {
      auto label = sample.labels.find(patch.label_id);
      results.items.push_back({row.sample_id, sample.filepath, patch.distance, patch.label_id,
                               label == sample.labels.end() ? "" : label->second});
    }
  }
  if (results.patches) {
    std::stable_sort(results.items.begin(), results.items.end(),
                     [reverse](const SimilarityResult& a, const SimilarityResult& b) {
                       return reverse ? *a.distance > *b.distance : *a.distance < *b.distance;
                     });
  }
  return results;
}

nlohmann::ordered_json SimilarityResultsToJson(const SimilarityResults& results) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const SimilarityResult& r : results.items) {
    nlohmann::ordered_json item = {{"id", r.sample_id}, {"filepath", r.filepath}};
    item["distance"] = r.distance ? nlohmann::ordered_json(*r.distance) : nlohmann::ordered_json(nullptr);
    if (results.patches) item["label_id"] = r.label_id;
    out.push_back(std::move(item));
  }
  return out;
}

void PrintSimilarityTable(const SimilarityResults& results) {
  if (results.items.empty()) {
    std::cout << "(no results)\n";
    return;
  }
  if (results.patches) {
    std::printf("%4s  %-24s  %-24s  %-10s  %10s  %s\n", "rank", "sample id", "label id", "label", "distance",
                "filepath");
  } else {
    std::printf("%4s  %-24s  %10s  %s\n", "rank", "id", "distance", "filepath");
  }
  size_t rank = 0;
  for (const SimilarityResult& r : results.items) {
    std::string distance = r.distance ? FormatDistance(*r.distance) : "-";
    if (results.patches) {
      std::printf("%4zu  %-24s  %-24s  %-10s  %10s  %s\n", ++rank, r.sample_id.c_str(), r.label_id.c_str(),
                  r.label.c_str(), distance.c_str(), r.filepath.c_str());
    } else {
      std::printf("%4zu  %-24s  %10s  %s\n", ++rank, r.sample_id.c_str(), distance.c_str(), r.filepath.c_str());
    }
  }
  std::fflush(stdout);
}

}  // namespace fo::cli
