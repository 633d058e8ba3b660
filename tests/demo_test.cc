// Tests for the shapes demo generator (fo/demo.h) and directory import
// (fo/import.h).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "fo/demo.h"
#include "fo/error.h"
#include "fo/image.h"
#include "fo/import.h"
#include "test_support.h"

namespace fo {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// The generator's palette: a shape whose "color" attribute is "red" must be
// red in the image.
const std::map<std::string, std::array<double, 3>> kPalette = {
    {"red", {220, 30, 30}},     {"green", {40, 170, 60}},   {"blue", {30, 70, 220}},
    {"yellow", {240, 210, 30}}, {"orange", {245, 130, 20}}, {"purple", {130, 50, 180}},
    {"cyan", {30, 200, 210}},   {"magenta", {220, 40, 170}}, {"white", {250, 250, 250}},
    {"black", {15, 15, 15}},
};

std::vector<Sample> Generate(const std::string& dir, uint64_t seed, size_t n) {
  ShapesOptions options;
  options.seed = seed;
  options.num_images = n;
  return GenerateShapes(dir, options);
}

// Labels as comparable text: label, box, colour per detection.
std::string Describe(const std::vector<Sample>& samples) {
  std::string out;
  for (const Sample& s : samples) {
    out += fs::path(s.filepath).filename().string() + ":";
    for (const Detection& d : s.label_fields.at("ground_truth").detections) {
      out += " " + d.label + "/" + d.attributes.at("color").as<std::string>();
      for (double v : d.bounding_box) out.append(",").append(std::to_string(v));
    }
    out += "\n";
  }
  return out;
}

TEST(ShapesTest, SameSeedSameFilesAndLabels) {
  TempDir a, b;
  std::vector<Sample> first = Generate(a.path(), 7, 12), second = Generate(b.path(), 7, 12);
  ASSERT_EQ(first.size(), 12u);
  EXPECT_EQ(Describe(first), Describe(second));
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(testing::ReadFile(first[i].filepath), testing::ReadFile(second[i].filepath)) << i;
  }
  // Image i depends on (seed, i) only.
  TempDir c;
  std::vector<Sample> fewer = Generate(c.path(), 7, 5);
  EXPECT_EQ(testing::ReadFile(fewer[4].filepath), testing::ReadFile(first[4].filepath));
}

TEST(ShapesTest, DifferentSeedDifferentImages) {
  TempDir a, b;
  std::vector<Sample> first = Generate(a.path(), 7, 6), second = Generate(b.path(), 8, 6);
  EXPECT_NE(Describe(first), Describe(second));
  int same_files = 0;
  for (size_t i = 0; i < first.size(); ++i) {
    same_files += testing::ReadFile(first[i].filepath) == testing::ReadFile(second[i].filepath);
  }
  EXPECT_EQ(same_files, 0);
}

TEST(ShapesTest, DefaultDataSetIsFastAndVaried) {
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  std::vector<Sample> samples = GenerateShapes(dir.File("shapes"));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 5.0);  // about 0.3 s on a laptop core; generous for CI
  ASSERT_EQ(samples.size(), 200u);
  EXPECT_EQ(fs::path(samples[0].filepath).filename(), "shape_000.jpg");
  EXPECT_TRUE(fs::path(samples[0].filepath).is_absolute());
  std::set<std::string> labels, backgrounds;
  for (const Sample& s : samples) {
    const auto& dets = s.label_fields.at("ground_truth").detections;
    ASSERT_GE(dets.size(), 1u);
    ASSERT_LE(dets.size(), 4u);
    EXPECT_EQ(s.fields.at("shape_count").as<int64_t>(), static_cast<int64_t>(dets.size()));
    EXPECT_EQ(s.width, 320);
    EXPECT_EQ(s.height, 240);
    backgrounds.insert(s.fields.at("background").as<std::string>());
    for (const Detection& d : dets) {
      labels.insert(d.label);
      EXPECT_TRUE(d.id.empty());
      EXPECT_FALSE(d.confidence.has_value());
      const auto& [x, y, w, h] = d.bounding_box;
      EXPECT_TRUE(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 1 && y + h <= 1) << s.filepath;
    }
  }
  EXPECT_EQ(labels, (std::set<std::string>{"circle", "cross", "ellipse", "hexagon", "square", "star", "triangle"}));
  EXPECT_EQ(backgrounds, (std::set<std::string>{"gradient", "noise", "solid", "stripes"}));
}

bool Matches(const Image& image, int x, int y, const std::array<double, 3>& color) {
  const uint8_t* p = image.pixel(x, y);
  return std::hypot(p[0] - color[0], p[1] - color[1], p[2] - color[2]) < 50;
}

// Most of a box is its shape's colour, and the band just outside it is not.
TEST(ShapesTest, BoxesEncloseTheirShapes) {
  TempDir dir;
  int checked = 0;
  for (const Sample& s : Generate(dir.path(), 3, 40)) {
    Image image = LoadImage(s.filepath);
    for (const Detection& d : s.label_fields.at("ground_truth").detections) {
      const auto& color = kPalette.at(d.attributes.at("color").as<std::string>());
      int x1 = static_cast<int>(std::floor(d.bounding_box[0] * image.width));
      int y1 = static_cast<int>(std::floor(d.bounding_box[1] * image.height));
      int x2 = static_cast<int>(std::ceil((d.bounding_box[0] + d.bounding_box[2]) * image.width));
      int y2 = static_cast<int>(std::ceil((d.bounding_box[1] + d.bounding_box[3]) * image.height));
      int inside = 0, band = 0, band_matches = 0;
      for (int y = std::max(0, y1 - 6); y < std::min(image.height, y2 + 6); ++y) {
        for (int x = std::max(0, x1 - 6); x < std::min(image.width, x2 + 6); ++x) {
          bool in_box = x >= x1 && x < x2 && y >= y1 && y < y2;
          bool in_band = x < x1 - 2 || x >= x2 + 2 || y < y1 - 2 || y >= y2 + 2;
          if (in_box) inside += Matches(image, x, y, color);
          if (in_band) ++band, band_matches += Matches(image, x, y, color);
        }
      }
      double area = double(x2 - x1) * (y2 - y1);
      EXPECT_GT(inside / area, 0.2) << s.filepath << " " << d.label;
      EXPECT_LT(band_matches, 0.02 * band + 1) << s.filepath << " " << d.label;
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
}

TEST(ShapesTest, RejectsTinyImages) {
  TempDir dir;
  ShapesOptions options;
  options.width = 10;
  try {
    GenerateShapes(dir.path(), options);
    FAIL() << "expected kInvalidArgument";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
}

Image Solid(int w, int h) { return Image{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3, 90)}; }

TEST(ImportTest, FindsNestedImagesSortedAndSkipsCorruptOnes) {
  TempDir dir;
  fs::create_directories(dir.File("sub/deeper"));
  SaveImage(Solid(30, 20), dir.File("b.png"));
  SaveImage(Solid(40, 10), dir.File("sub/a.jpg"));
  SaveImage(Solid(12, 34), dir.File("sub/deeper/c.JPEG"));
  SaveImage(Solid(8, 8), dir.File("a.bmp"));
  testing::WriteFile(dir.File("notes.txt"), "not an image");
  testing::WriteFile(dir.File("sub/broken.jpg"), "garbage bytes, not a jpeg");

  std::vector<std::string> skipped;
  std::vector<Sample> samples = ScanImageDirectory(dir.path() + "/./", &skipped);
  const std::string& root = dir.path();  // already absolute and normal
  ASSERT_EQ(samples.size(), 4u);
  std::vector<std::string> expected = {root + "/a.bmp", root + "/b.png", root + "/sub/a.jpg", root + "/sub/deeper/c.JPEG"};
  std::vector<std::pair<int, int>> sizes = {{8, 8}, {30, 20}, {40, 10}, {12, 34}};
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].filepath, expected[i]);
    EXPECT_EQ(samples[i].width, sizes[i].first) << expected[i];
    EXPECT_EQ(samples[i].height, sizes[i].second) << expected[i];
    EXPECT_TRUE(samples[i].label_fields.empty());
  }
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].rfind(root + "/sub/broken.jpg: ", 0), 0u) << skipped[0];
  EXPECT_GT(skipped[0].size(), (root + "/sub/broken.jpg: ").size());  // a reason follows
  // Without a list to report into, the corrupt file is still left out.
  EXPECT_EQ(ScanImageDirectory(dir.path(), nullptr).size(), 4u);
}

TEST(ImportTest, FindsTheGeneratedShapes) {
  TempDir dir;
  std::vector<Sample> generated = Generate(dir.path(), 51, 5);
  std::vector<std::string> skipped;
  std::vector<Sample> scanned = ScanImageDirectory(dir.path(), &skipped);
  ASSERT_EQ(scanned.size(), generated.size());
  EXPECT_TRUE(skipped.empty());
  for (size_t i = 0; i < scanned.size(); ++i) {
    EXPECT_EQ(fs::canonical(scanned[i].filepath), fs::canonical(generated[i].filepath));
    EXPECT_EQ(scanned[i].width, 320);
    EXPECT_EQ(scanned[i].height, 240);
  }
}

TEST(ImportTest, RejectsWhatIsNotADirectory) {
  TempDir dir;
  testing::WriteFile(dir.File("file.jpg"), "x");
  for (const std::string& path : {dir.File("file.jpg"), dir.File("missing")}) {
    try {
      ScanImageDirectory(path, nullptr);
      ADD_FAILURE() << "expected kInvalidArgument for " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << path;
    }
  }
  EXPECT_TRUE(ScanImageDirectory(dir.File(""), nullptr).empty());  // a directory with no images
}

}  // namespace
}  // namespace fo
