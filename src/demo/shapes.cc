// The "shapes" demo data set: each image has 1-4 non-overlapping coloured
// shapes on a solid, gradient, noise or striped background. Every random
// choice comes from std::mt19937_64, whose output sequence the standard fixes,
// through our own mapping to ranges (the std distributions differ between
// standard libraries), so a seed gives the same files on every platform with
// the same OpenCV and libjpeg. Image i depends only on (seed, i), not on
// num_images.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>  // flags only: calls go through the plugin (image/codecs.h)
#include <opencv2/imgproc.hpp>
#include <random>

#include "fo/demo.h"
#include "fo/error.h"
#include "image/codecs.h"

namespace fo {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kMaxShapes = 4;
constexpr int kGap = 6;  // pixels kept free between shapes and to the border
constexpr int kJpegQuality = 92;

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  int Index(int n) { return std::min(n - 1, static_cast<int>(Uniform() * n)); }  // [0, n)

 private:
  std::mt19937_64 engine_;
};

// SplitMix64's finaliser, so that neighbouring (seed, index) pairs give
// unrelated generator seeds.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

struct NamedColor {
  const char* name;
  cv::Vec3d rgb;
};

// Saturated or extreme, so they stand out from the muted backgrounds.
const NamedColor kPalette[] = {
    {"red", {220, 30, 30}},     {"green", {40, 170, 60}},    {"blue", {30, 70, 220}},
    {"yellow", {240, 210, 30}}, {"orange", {245, 130, 20}},  {"purple", {130, 50, 180}},
    {"cyan", {30, 200, 210}},   {"magenta", {220, 40, 170}}, {"white", {250, 250, 250}},
    {"black", {15, 15, 15}},
};

const char* const kShapeNames[] = {"circle", "square", "triangle", "star", "hexagon", "ellipse", "cross"};
enum ShapeKind { kCircle, kSquare, kTriangle, kStar, kHexagon, kEllipse, kCross, kNumKinds };

cv::Scalar Bgr(const cv::Vec3d& rgb) { return cv::Scalar(rgb[2], rgb[1], rgb[0]); }

// A muted colour: a grey level with a mild tint.
cv::Vec3d MutedColor(Random& rng) {
  double grey = rng.Uniform(40, 215);
  cv::Vec3d c;
  for (int i = 0; i < 3; ++i) c[i] = std::clamp(grey + rng.Uniform(-40, 40), 0.0, 255.0);
  return c;
}

struct Background {
  cv::Mat bgr;
  std::vector<cv::Vec3d> key_colors;  // what shapes must contrast with
  const char* kind;
};

Background MakeBackground(Random& rng, int width, int height) {
  Background bg;
  cv::Vec3d a = MutedColor(rng), b = MutedColor(rng);
  bg.bgr = cv::Mat(height, width, CV_8UC3, Bgr(a));
  switch (rng.Index(4)) {
    case 0:
      bg.kind = "solid";
      bg.key_colors = {a};
      break;
    case 1: {
      bg.kind = "gradient";
      bg.key_colors = {a, b, (a + b) * 0.5};
      double angle = rng.Uniform(0, 2 * kPi), dx = std::cos(angle), dy = std::sin(angle);
      double span = std::abs(dx) * width + std::abs(dy) * height;
      for (int y = 0; y < height; ++y) {
        auto* row = bg.bgr.ptr<cv::Vec3b>(y);
        for (int x = 0; x < width; ++x) {
          double t = std::clamp(((x - width / 2.0) * dx + (y - height / 2.0) * dy) / span + 0.5, 0.0, 1.0);
          cv::Vec3d c = a * (1 - t) + b * t;
          row[x] = cv::Vec3b(cv::saturate_cast<uint8_t>(c[2]), cv::saturate_cast<uint8_t>(c[1]),
                             cv::saturate_cast<uint8_t>(c[0]));
        }
      }
      break;
    }
    case 2: {
      bg.kind = "noise";
      bg.key_colors = {a};
      // Blotches: coarse random offsets, smoothly enlarged.
      cv::Mat coarse(std::max(2, height / 16), std::max(2, width / 16), CV_32FC3);
      for (auto it = coarse.begin<cv::Vec3f>(); it != coarse.end<cv::Vec3f>(); ++it) {
        for (int i = 0; i < 3; ++i) (*it)[i] = static_cast<float>(rng.Uniform(-35, 35));
      }
      cv::Mat noise;
      cv::resize(coarse, noise, bg.bgr.size(), 0, 0, cv::INTER_LINEAR);
      cv::Mat base;
      bg.bgr.convertTo(base, CV_32FC3);
      cv::Mat(base + noise).convertTo(bg.bgr, CV_8UC3);
      break;
    }
    default: {
      bg.kind = "stripes";
      bg.key_colors = {a, b};
      int period = 2 * (8 + rng.Index(13));  // 16..40 px
      bool vertical = rng.Index(2) == 0;
      for (int pos = 0; pos < (vertical ? width : height); pos += period) {
        cv::Point p1 = vertical ? cv::Point(pos, 0) : cv::Point(0, pos);
        cv::Point p2 = vertical ? cv::Point(pos + period / 2 - 1, height - 1) : cv::Point(width - 1, pos + period / 2 - 1);
        cv::rectangle(bg.bgr, p1, p2, Bgr(b), cv::FILLED);
      }
      break;
    }
  }
  return bg;
}

const NamedColor& PickColor(Random& rng, const std::vector<cv::Vec3d>& avoid) {
  // Backgrounds are muted, so a contrasting palette colour is found in a
  // few tries; after 50 we take the last one rather than loop forever.
  const NamedColor* color = nullptr;
  for (int attempt = 0; attempt < 50; ++attempt) {
    color = &kPalette[rng.Index(std::size(kPalette))];
    bool contrasts = std::all_of(avoid.begin(), avoid.end(), [&](const cv::Vec3d& c) { return cv::norm(c - color->rgb) >= 110; });
    if (contrasts) break;
  }
  return *color;
}

// One shape, centred at the origin: its outline (empty for circle and
// ellipse, which OpenCV draws itself) and its extent.
struct Outline {
  ShapeKind kind = kCircle;
  double radius = 0, minor = 0, angle = 0;  // angle in radians
  std::vector<cv::Point2d> polygon;
  double min_x = 0, max_x = 0, min_y = 0, max_y = 0;
};

Outline MakeOutline(Random& rng, ShapeKind kind, double radius) {
  Outline o;
  o.kind = kind;
  o.radius = radius;
  o.angle = rng.Uniform(0, 2 * kPi);
  auto regular = [&](int n, double inner_ratio) {
    int points = inner_ratio > 0 ? 2 * n : n;
    for (int i = 0; i < points; ++i) {
      double r = (inner_ratio > 0 && i % 2 == 1) ? radius * inner_ratio : radius;
      double t = o.angle + 2 * kPi * i / points;
      o.polygon.push_back({r * std::cos(t), r * std::sin(t)});
    }
  };
  auto rotated = [&](std::vector<cv::Point2d> points, double angle) {
    for (auto& p : points) {
      o.polygon.push_back({p.x * std::cos(angle) - p.y * std::sin(angle), p.x * std::sin(angle) + p.y * std::cos(angle)});
    }
  };
  switch (kind) {
    case kCircle:
      o.min_x = o.min_y = -radius;
      o.max_x = o.max_y = radius;
      return o;
    case kEllipse: {
      o.minor = radius * rng.Uniform(0.45, 0.7);
      double c = std::cos(o.angle), s = std::sin(o.angle);
      o.max_x = std::hypot(radius * c, o.minor * s);
      o.max_y = std::hypot(radius * s, o.minor * c);
      o.min_x = -o.max_x;
      o.min_y = -o.max_y;
      return o;
    }
    case kSquare: {  // only slightly rotated, or it would read as a diamond
      double h = 0.85 * radius;
      rotated({{-h, -h}, {h, -h}, {h, h}, {-h, h}}, rng.Uniform(-kPi / 12, kPi / 12));
      break;
    }
    case kCross: {
      double l = radius, t = 0.3 * radius;
      rotated({{-t, -l}, {t, -l}, {t, -t}, {l, -t}, {l, t}, {t, t}, {t, l}, {-t, l}, {-t, t}, {-l, t}, {-l, -t}, {-t, -t}},
              rng.Uniform(-kPi / 9, kPi / 9));
      break;
    }
    case kTriangle: regular(3, 0); break;
    case kStar: regular(5, 0.45); break;
    default: regular(6, 0); break;  // hexagon
  }
  o.min_x = o.min_y = 1e9;
  o.max_x = o.max_y = -1e9;
  for (const auto& p : o.polygon) {
    o.min_x = std::min(o.min_x, p.x), o.max_x = std::max(o.max_x, p.x);
    o.min_y = std::min(o.min_y, p.y), o.max_y = std::max(o.max_y, p.y);
  }
  return o;
}

void Draw(cv::Mat& bgr, const Outline& o, cv::Point2d centre, const cv::Scalar& color) {
  constexpr int kShift = 4;  // sub-pixel vertices: coordinates in 1/16 px
  auto fixed = [](double v) { return static_cast<int>(std::lround(v * (1 << kShift))); };
  if (o.kind == kCircle) {
    cv::circle(bgr, {fixed(centre.x), fixed(centre.y)}, fixed(o.radius), color, cv::FILLED, cv::LINE_AA, kShift);
  } else if (o.kind == kEllipse) {
    cv::RotatedRect rect(cv::Point2f(centre), cv::Size2f(2 * o.radius, 2 * o.minor), static_cast<float>(o.angle * 180 / kPi));
    cv::ellipse(bgr, rect, color, cv::FILLED, cv::LINE_AA);
  } else {
    std::vector<cv::Point> points;
    for (const auto& p : o.polygon) points.push_back({fixed(centre.x + p.x), fixed(centre.y + p.y)});
    cv::fillPoly(bgr, std::vector<std::vector<cv::Point>>{points}, color, cv::LINE_AA, kShift);
  }
}

Sample MakeImage(Random& rng, const ShapesOptions& options, const std::string& path) {
  const int width = options.width, height = options.height;
  Background bg = MakeBackground(rng, width, height);
  Detections detections;
  std::vector<cv::Rect2d> taken;  // boxes in pixels, grown by kGap
  int wanted = 1 + rng.Index(kMaxShapes);
  for (int s = 0; s < wanted; ++s) {
    // Retry a few placements; a shape that finds no free room is dropped.
    for (int attempt = 0; attempt < 30; ++attempt) {
      ShapeKind kind = static_cast<ShapeKind>(rng.Index(kNumKinds));
      double radius = rng.Uniform(0.08, 0.2) * std::min(width, height);
      Outline o = MakeOutline(rng, kind, radius);
      double lo_x = kGap - o.min_x, hi_x = width - kGap - o.max_x;
      double lo_y = kGap - o.min_y, hi_y = height - kGap - o.max_y;
      if (lo_x >= hi_x || lo_y >= hi_y) continue;
      cv::Point2d centre(rng.Uniform(lo_x, hi_x), rng.Uniform(lo_y, hi_y));
      cv::Rect2d box(centre.x + o.min_x, centre.y + o.min_y, o.max_x - o.min_x, o.max_y - o.min_y);
      cv::Rect2d grown(box.x - kGap, box.y - kGap, box.width + 2 * kGap, box.height + 2 * kGap);
      if (std::any_of(taken.begin(), taken.end(), [&](const cv::Rect2d& t) { return (t & grown).area() > 0; })) continue;
      taken.push_back(grown);
      const NamedColor& color = PickColor(rng, bg.key_colors);
      Draw(bg.bgr, o, centre, Bgr(color.rgb));
      Detection d;
      d.label = kShapeNames[kind];
      d.bounding_box = {box.x / width, box.y / height, box.width / width, box.height / height};
      d.attributes["color"] = Value(color.name);
      detections.detections.push_back(std::move(d));
      break;
    }
  }
  bool ok = false;
  try {
    ok = internal::GetImageCodecs().Write(path, bg.bgr, {cv::IMWRITE_JPEG_QUALITY, kJpegQuality});
  } catch (const cv::Exception& e) {
    throw IOError("cannot write " + path + ": " + e.what());
  }
  if (!ok) throw IOError("cannot write " + path);

  Sample sample;
  sample.filepath = path;
  sample.width = width;
  sample.height = height;
  sample.fields["shape_count"] = Value(static_cast<int>(detections.detections.size()));
  sample.fields["background"] = Value(bg.kind);
  sample.label_fields["ground_truth"] = std::move(detections);
  return sample;
}

}  // namespace

std::vector<Sample> GenerateShapes(const std::string& directory, const ShapesOptions& options) {
  // Below this a shape (at least 8% of the short side, plus gaps) won't fit.
  if (options.width < 64 || options.height < 64) {
    throw InvalidArgument("shapes images must be at least 64x64 pixels, got " + std::to_string(options.width) + "x" +
                          std::to_string(options.height));
  }
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (!std::filesystem::is_directory(directory)) {
    throw IOError("cannot create directory " + directory + (ec ? ": " + ec.message() : ""));
  }
  std::filesystem::path root = std::filesystem::absolute(directory).lexically_normal();
  int digits = std::max<int>(3, std::to_string(options.num_images > 0 ? options.num_images - 1 : 0).size());
  std::vector<Sample> samples;
  samples.reserve(options.num_images);
  for (size_t i = 0; i < options.num_images; ++i) {
    std::string number = std::to_string(i);
    std::string name = "shape_" + std::string(digits - std::min<int>(digits, number.size()), '0') + number + ".jpg";
    Random rng(Mix(options.seed ^ Mix(i)));
    samples.push_back(MakeImage(rng, options, (root / name).string()));
  }
  return samples;
}

}  // namespace fo
