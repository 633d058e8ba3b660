// Samples and their labels, as plain values. A Sample is what you add to a
// dataset and what the dataset gives back; it holds no link to the store.
#ifndef FO_SAMPLE_H_
#define FO_SAMPLE_H_

#include <array>
#include <cstdint>
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
  // Image metadata (FiftyOne's ImageMetadata), from compute_metadata or
  // the caller; unset until known.
  std::optional<int> width;   // pixels
  std::optional<int> height;
  std::optional<int64_t> size_bytes;  // of the file
  std::optional<std::string> mime_type;  // e.g. "image/jpeg"
  std::optional<int> num_channels;  // 1 grey or palette, 2 grey + alpha, 3 colour, 4 colour + alpha (or CMYK)
  std::map<std::string, Value> fields;           // user fields
  std::map<std::string, Detections> label_fields;  // Detections fields

  // Field by name: "id", "filepath", "tags", "metadata.width" /
  // ".height" / ".size_bytes" / ".mime_type" / ".num_channels", or a user
  // field; null when absent.
  Value Get(const std::string& field) const;
};

}  // namespace fo

#endif  // FO_SAMPLE_H_
