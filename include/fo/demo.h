// The demo data set: synthetic images of coloured shapes on varied
// backgrounds, with a ground_truth Detections field, made deterministically
// from a seed, so the tour and the tests need no download.
#ifndef FO_DEMO_H_
#define FO_DEMO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fo/sample.h"

namespace fo {

struct ShapesOptions {
  size_t num_images = 200;
  uint64_t seed = 51;
  int width = 320;
  int height = 240;
};

// Writes the images as JPEG files into `directory` (created if needed) and
// returns one Sample per image with filepath, width, height and a
// "ground_truth" field of shape detections (labels circle, square,
// triangle, star, ...). Same seed, same images and labels.
std::vector<Sample> GenerateShapes(const std::string& directory, const ShapesOptions& options = {});

}  // namespace fo

#endif  // FO_DEMO_H_
