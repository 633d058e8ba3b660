// Samples and their labels, as plain values. A Sample is what you add to a
// dataset and what the dataset gives back; it holds no link to the store.
#ifndef FO_SAMPLE_H_
#define FO_SAMPLE_H_

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fo/value.h"

namespace fo {

// One object in an image. bounding_box is [x, y, w, h] relative to the image
// size, top-left origin, each in [0, 1].
struct Detection {
  std::string id;  // 24-hex ObjectId; empty means "assign one on add"
  std::string label;
  std::array<double, 4> bounding_box{0, 0, 0, 0};
  std::optional<double> confidence;
  std::map<std::string, Value> attributes;  // e.g. a patch embedding vector
};

struct Detections {
  std::vector<Detection> detections;
};

struct Sample {
  std::string id;  // 24-hex ObjectId; empty means "assign one on add"
  std::string filepath;
  std::vector<std::string> tags;
  std::optional<int> width;   // image metadata, pixels
  std::optional<int> height;
  std::map<std::string, Value> fields;           // user fields
  std::map<std::string, Detections> label_fields;  // Detections fields

  // Field by name: "id", "filepath", "tags", "metadata.width" /
  // "metadata.height", or a user field; null when absent.
  Value Get(const std::string& field) const;
};

}  // namespace fo

#endif  // FO_SAMPLE_H_
