// A directory of many images that costs almost nothing to make: hard links
// to a few tiny PNG files. For the tests that ingest with `fo datasets
// create` (the crash and full-disk tests), which need many samples but never
// look at the pixels.
#ifndef FO_TESTS_IMAGE_LINKS_H_
#define FO_TESTS_IMAGE_LINKS_H_

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "fo/image.h"

namespace fo::testing {

// Creates `dir` holding `n` images 000000.png, 000001.png, ... (2 x 2
// pixels), hard links to one original per 50000 (ext4 allows 65000 links to
// a file); the originals are kept beside `dir`. Returns the images' paths
// as `dir` + "/" + name, in order.
inline std::vector<std::string> MakeImageLinks(const std::string& dir, size_t n) {
  std::filesystem::create_directories(dir);
  constexpr size_t kLinksPerFile = 50000;
  Image image{2, 2, std::vector<uint8_t>(12, 128)};
  std::vector<std::string> paths;
  std::string original;
  for (size_t i = 0; i < n; ++i) {
    if (i % kLinksPerFile == 0) {
      original = dir + ".original-" + std::to_string(i / kLinksPerFile) + ".png";
      SaveImage(image, original);
    }
    char name[32];
    std::snprintf(name, sizeof(name), "/%06zu.png", i);
    paths.push_back(dir + name);
    if (::link(original.c_str(), paths.back().c_str()) != 0) throw std::runtime_error("cannot link " + paths.back());
  }
  return paths;
}

}  // namespace fo::testing

#endif  // FO_TESTS_IMAGE_LINKS_H_
