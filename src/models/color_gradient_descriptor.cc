// "color-gradient-descriptor": a built-in embedding model with no weights,
// so that similarity search, uniqueness and visualisation work out of the box
// and in tests, with no download and no libtorch.
//
// What it captures: where in the image which colours are (colour layout) and
// which way its edges run in each region (edge orientation, like HOG). Two
// images are close if they look alike at a glance: a red disc on blue is near
// another red disc on blue, even slightly moved or re-encoded, and far from a
// green star on white. It knows nothing of semantics: a red car and a red
// apple on the same background may be nearer than two cars of other colours.
//
// Every image is first stretched to 128x128 RGB (aspect ratio not kept;
// INTER_AREA when shrinking, bilinear when enlarging). The vector, 284
// floats, in this order:
//   1. Colour, 140 = 5 cells x 28 bins. Cells: the whole image, then its 2x2
//      quadrants in row-major order. Per cell, on HSV of the 128x128 image:
//      12 hue bins of 15 degrees (soft, circular) for dark pixels, 12 for
//      bright ones (value split softly between 64 and 192), then 4 grey
//      bins (value, soft; centres 0, 85, 170, 255). A pixel's weight goes
//      to the hue bins by the product of two ramps, saturation and value
//      each from 30 to 80 (of 255), and the rest to the grey bins, so greys,
//      black and white add no hue noise. Each cell sums to 1.
//   2. Edges, 144 = 4x4 cells (row-major) x 9 bins. 3x3 Sobel gradients of
//      the grey image; unsigned orientation (0-180 degrees) in 9 bins of 20
//      degrees, soft between neighbours, weighted by gradient magnitude;
//      normalised to sum 1 over the whole block, so that cells keep their
//      relative edge strength (a flat image gives an all-zero block).
// Then the square root of every value (the Hellinger map, under which the dot
// product of two histograms is the Bhattacharyya coefficient), each block is
// scaled to unit L2 norm, and the whole vector too. So the colour and edge
// blocks weigh equally, and cosine similarity equals the dot product.
#include <algorithm>
#include <cmath>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "fo/error.h"
#include "fo/model.h"
#include "models/builtin_models.h"

namespace fo {
namespace {

constexpr int kSize = 128;  // images are resized to kSize x kSize
constexpr int kHueBins = 12;
constexpr int kGreyBins = 4;
constexpr int kColorBins = kHueBins * 2 + kGreyBins;  // 28
constexpr int kColorCells = 1 + 2 * 2;
constexpr int kOrientationBins = 9;
constexpr int kEdgeGrid = 4;
constexpr size_t kColorDims = kColorBins * kColorCells;                 // 140
constexpr size_t kEdgeDims = kOrientationBins * kEdgeGrid * kEdgeGrid;  // 144
constexpr size_t kDimension = kColorDims + kEdgeDims;                   // 284

float Ramp(float v, float lo, float hi) { return std::clamp((v - lo) / (hi - lo), 0.0f, 1.0f); }

// Adds `weight` split linearly between the two circular bins nearest `pos`
// (bin centres at 0.5, 1.5, ... in units of bins).
void AddCircular(float* hist, int bins, float pos, float weight) {
  pos -= 0.5f;
  float lower = std::floor(pos);
  float frac = pos - lower;
  int b0 = (static_cast<int>(lower) % bins + bins) % bins;
  hist[b0] += weight * (1 - frac);
  hist[(b0 + 1) % bins] += weight * frac;
}

void AddColor(const cv::Mat& rgb, float* out) {
  cv::Mat hsv;
  cv::cvtColor(rgb, hsv, cv::COLOR_RGB2HSV);  // 8-bit: H in [0, 180)
  float* quadrants = out + kColorBins;  // cell 0 (whole image) comes first
  const int half = kSize / 2;
  for (int y = 0; y < kSize; ++y) {
    const uint8_t* row = hsv.ptr<uint8_t>(y);
    for (int x = 0; x < kSize; ++x) {
      float h = row[3 * x], s = row[3 * x + 1], v = row[3 * x + 2];
      float* hist = quadrants + ((y / half) * 2 + x / half) * kColorBins;
      float chroma = Ramp(s, 30, 80) * Ramp(v, 30, 80);
      if (chroma > 0) {
        float bright = Ramp(v, 64, 192);
        AddCircular(hist, kHueBins, h * kHueBins / 180.0f, chroma * (1 - bright));
        AddCircular(hist + kHueBins, kHueBins, h * kHueBins / 180.0f, chroma * bright);
      }
      float pos = v * (kGreyBins - 1) / 255.0f;
      int b0 = std::min(static_cast<int>(pos), kGreyBins - 2);
      float* grey = hist + 2 * kHueBins;
      grey[b0] += (1 - chroma) * (1 - (pos - b0));
      grey[b0 + 1] += (1 - chroma) * (pos - b0);
    }
  }
  const float per_quadrant = 1.0f / (half * half);
  for (int q = 0; q < 4; ++q) {
    for (int b = 0; b < kColorBins; ++b) {
      quadrants[q * kColorBins + b] *= per_quadrant;
      out[b] += 0.25f * quadrants[q * kColorBins + b];
    }
  }
}

void AddEdges(const cv::Mat& rgb, float* out) {
  cv::Mat grey, gx, gy, magnitude, angle;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  grey.convertTo(grey, CV_32F, 1.0 / 255);
  cv::Sobel(grey, gx, CV_32F, 1, 0, 3);
  cv::Sobel(grey, gy, CV_32F, 0, 1, 3);
  cv::cartToPolar(gx, gy, magnitude, angle, /*angleInDegrees=*/true);
  const int cell = kSize / kEdgeGrid;
  double total = 0;
  for (int y = 0; y < kSize; ++y) {
    const float* m = magnitude.ptr<float>(y);
    const float* a = angle.ptr<float>(y);
    for (int x = 0; x < kSize; ++x) {
      float unsigned_angle = a[x] >= 180 ? a[x] - 180 : a[x];
      float* hist = out + ((y / cell) * kEdgeGrid + x / cell) * kOrientationBins;
      AddCircular(hist, kOrientationBins, unsigned_angle * kOrientationBins / 180.0f, m[x]);
      total += m[x];
    }
  }
  // Below this the image is flat and what gradient there is, is noise.
  if (total < 1e-3) {
    std::fill(out, out + kEdgeDims, 0.0f);
    return;
  }
  for (size_t i = 0; i < kEdgeDims; ++i) out[i] = static_cast<float>(out[i] / total);
}

// Square root of each value, then unit L2 norm (left zero if all zero).
void HellingerNormalize(float* v, size_t n) {
  double norm = 0;
  for (size_t i = 0; i < n; ++i) {
    v[i] = std::sqrt(std::max(v[i], 0.0f));
    norm += double{v[i]} * v[i];
  }
  if (norm <= 0) return;
  float scale = static_cast<float>(1 / std::sqrt(norm));
  for (size_t i = 0; i < n; ++i) v[i] *= scale;
}

void Describe(const Image& image, float* out) {
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.rgb.data()));
  cv::Mat small;
  // INTER_AREA averages when shrinking; when enlarging it degrades to
  // nearest-neighbour, whose blocky steps would add false 0/90 degree edges.
  bool shrink = image.width >= kSize && image.height >= kSize;
  cv::resize(rgb, small, cv::Size(kSize, kSize), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  std::fill(out, out + kDimension, 0.0f);
  AddColor(small, out);
  AddEdges(small, out + kColorDims);
  HellingerNormalize(out, kColorDims);
  HellingerNormalize(out + kColorDims, kEdgeDims);
  double norm = 0;
  for (size_t i = 0; i < kDimension; ++i) norm += double{out[i]} * out[i];
  float scale = static_cast<float>(1 / std::sqrt(norm));  // the colour block is never zero
  for (size_t i = 0; i < kDimension; ++i) out[i] *= scale;
}

class ColorGradientDescriptor : public Model {
 public:
  const std::string& name() const override {
    static const std::string kName = kColorGradientDescriptor;
    return kName;
  }
  size_t dimension() const override { return kDimension; }

  Matrix EmbedImages(const std::vector<Image>& images) override {
    for (size_t i = 0; i < images.size(); ++i) {
      const Image& im = images[i];
      if (im.width <= 0 || im.height <= 0 || im.rgb.size() != static_cast<size_t>(im.width) * im.height * 3) {
        throw InvalidArgument(name() + ": image " + std::to_string(i) + " is empty or malformed (" +
                              std::to_string(im.width) + "x" + std::to_string(im.height) + ")");
      }
    }
    Matrix out(images.size(), kDimension);
    size_t threads = std::min<size_t>(images.size(), std::max(1u, std::thread::hardware_concurrency()));
    if (threads <= 1) {
      for (size_t i = 0; i < images.size(); ++i) Describe(images[i], out.row(i).data());
      return out;
    }
    // Each thread takes every threads-th image and writes only its own rows.
    std::vector<std::exception_ptr> errors(threads);
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        try {
          for (size_t i = t; i < images.size(); i += threads) Describe(images[i], out.row(i).data());
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    }
    for (auto& thread : pool) thread.join();
    for (const auto& error : errors) {
      if (error) std::rethrow_exception(error);
    }
    return out;
  }
};

}  // namespace

namespace internal {

void RegisterColorGradientDescriptor() {
  ModelInfo info;
  info.name = kColorGradientDescriptor;
  info.description =
      "Weightless colour-layout and edge-orientation descriptor (HSV histograms on 1x1 + 2x2 cells, "
      "9-bin gradient orientation histograms on 4x4 cells, Hellinger-normalised). Finds images that "
      "look alike, not images of the same kind of thing.";
  info.dimension = kDimension;
  info.supports_prompts = false;
  RegisterModel(info, [](const nlohmann::json& kwargs) -> std::unique_ptr<Model> {
    if (!kwargs.is_null() && !kwargs.is_object()) {
      throw InvalidArgument(std::string(kColorGradientDescriptor) + ": kwargs must be a JSON object");
    }
    if (kwargs.is_object() && !kwargs.empty()) {
      throw InvalidArgument(std::string(kColorGradientDescriptor) + " takes no kwargs; got '" +
                            kwargs.begin().key() + "'");
    }
    return std::make_unique<ColorGradientDescriptor>();
  });
}

}  // namespace internal
}  // namespace fo
