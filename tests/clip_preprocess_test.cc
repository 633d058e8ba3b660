// Tests for src/image/resize.h: CLIP's preprocessing must reproduce PIL
// 9.4 + torchvision bit for bit, checked against ../shared/clip (see its
// README: reference.json and preprocessed_224/ came from OpenAI's code).
#include "image/resize.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "fo/error.h"
#include "fo/image.h"
#include "test_support.h"

namespace fo::internal {
namespace {

using testing::CodeOf;

constexpr std::array<float, 3> kClipMean = {0.48145466f, 0.4578275f, 0.40821073f};
constexpr std::array<float, 3> kClipStd = {0.26862954f, 0.26130258f, 0.27577711f};

std::string ClipDir() { return testing::SharedDir() + "/clip/"; }

const nlohmann::json& Reference() {
  static const nlohmann::json ref = nlohmann::json::parse(testing::ReadFile(ClipDir() + "reference.json"));
  return ref;
}

// FNV-1a 64, to compare with PIL output without storing it.
uint64_t Fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ULL;
  return h;
}

uint64_t Sum(const std::vector<uint8_t>& bytes) {
  uint64_t s = 0;
  for (uint8_t b : bytes) s += b;
  return s;
}

// The synthetic image whose PIL resizes are pinned below: pixel (x, y) =
// ((7x + 3y) % 256, (x*x + 5y) % 256, 11 (x ^ y) % 256), alpha (13x + 29y) % 256.
Image Synthetic(int w, int h, bool alpha) {
  Image im{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
  if (alpha) im.alpha.resize(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const size_t i = static_cast<size_t>(y) * w + x;
      im.rgb[i * 3 + 0] = static_cast<uint8_t>((x * 7 + y * 3) % 256);
      im.rgb[i * 3 + 1] = static_cast<uint8_t>((x * x + y * 5) % 256);
      im.rgb[i * 3 + 2] = static_cast<uint8_t>(((x ^ y) * 11) % 256);
      if (alpha) im.alpha[i] = static_cast<uint8_t>((x * 13 + y * 29) % 256);
    }
  }
  return im;
}

class ReferenceImageTest : public ::testing::TestWithParam<int> {
 protected:
  const nlohmann::json& entry() const { return Reference()["images"][GetParam()]; }
  Image Load() const { return LoadImage(ClipDir() + entry()["file"].get<std::string>()); }
};

TEST_P(ReferenceImageTest, DecodedMeanMatchesPil) {
  const Image image = Load();
  const auto& e = entry();
  ASSERT_EQ(image.width, e["width"].get<int>());
  ASSERT_EQ(image.height, e["height"].get<int>());
  const std::string mode = e["pil_mode"];
  const std::vector<double> expected = e["decoded_mean"];
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  std::array<double, 3> sums = {0, 0, 0};
  for (size_t i = 0; i < pixels; ++i) {
    for (int c = 0; c < 3; ++c) sums[c] += image.rgb[i * 3 + c];
  }
  // L is one band in PIL; our decode replicates it to three equal ones.
  for (int c = 0; c < (mode == "L" ? 3 : static_cast<int>(std::min<size_t>(3, expected.size()))); ++c) {
    EXPECT_NEAR(sums[c] / pixels, expected[mode == "L" ? 0 : c], 1e-5) << mode << " band " << c;
  }
  if (mode == "RGBA") {
    ASSERT_TRUE(image.has_alpha());
    double alpha = 0;
    for (uint8_t a : image.alpha) alpha += a;
    EXPECT_NEAR(alpha / pixels, expected[3], 1e-5);
  } else {
    EXPECT_FALSE(image.has_alpha());
  }
}

TEST_P(ReferenceImageTest, GeometryMatchesTorchvision) {
  const Image image = Load();
  const auto& e = entry();
  const CenterCropGeometry g = ClipCenterCropGeometry(image.width, image.height, 224);
  EXPECT_EQ(g.resized_width, e["resized_size"][0].get<int>());
  EXPECT_EQ(g.resized_height, e["resized_size"][1].get<int>());
  EXPECT_EQ(g.left, e["crop_left_top"][0].get<int>());
  EXPECT_EQ(g.top, e["crop_left_top"][1].get<int>());
}

TEST_P(ReferenceImageTest, ResizeAndCropIsBitExact) {
  const Image out = ResizeShorterSideAndCenterCrop(Load(), 224);
  const Image expected = LoadImage(ClipDir() + entry()["preprocessed_224_png"].get<std::string>());
  ASSERT_EQ(out.width, 224);
  ASSERT_EQ(out.height, 224);
  EXPECT_FALSE(out.has_alpha());
  ASSERT_EQ(out.rgb.size(), expected.rgb.size());
  size_t differing = 0;
  for (size_t i = 0; i < out.rgb.size(); ++i) differing += out.rgb[i] != expected.rgb[i];
  EXPECT_EQ(differing, 0u) << "bytes differing from PIL";
}

// The same through the full-size resize, then a plain crop: the windowed
// computation must not change a single pixel.
TEST_P(ReferenceImageTest, WindowEqualsFullResizeThenCrop) {
  const Image image = Load();
  const CenterCropGeometry g = ClipCenterCropGeometry(image.width, image.height, 224);
  const Image full = ResizeBicubicPil(image, g.resized_width, g.resized_height);
  const Image window = ResizeShorterSideAndCenterCrop(image, 224);
  for (int y = 0; y < 224; ++y) {
    for (int x = 0; x < 224; ++x) {
      const uint8_t* a = full.pixel(g.left + x, g.top + y);
      const uint8_t* b = window.pixel(x, y);
      ASSERT_TRUE(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]) << x << "," << y;
    }
  }
}

TEST_P(ReferenceImageTest, TensorMatchesReference) {
  const Image crop = ResizeShorterSideAndCenterCrop(Load(), 224);
  std::vector<float> t(3 * 224 * 224);
  NormalizeToChw(crop, kClipMean, kClipStd, t.data());
  const auto& e = entry();
  const size_t plane = 224 * 224;
  double total = 0;
  for (int c = 0; c < 3; ++c) {
    double sum = 0, sq = 0;
    for (size_t i = 0; i < plane; ++i) sum += t[c * plane + i];
    const double mean = sum / plane;
    for (size_t i = 0; i < plane; ++i) sq += (t[c * plane + i] - mean) * (t[c * plane + i] - mean);
    EXPECT_NEAR(mean, e["preprocessed_mean"][c].get<double>(), 1e-4) << "channel " << c;
    EXPECT_NEAR(std::sqrt(sq / plane), e["preprocessed_std"][c].get<double>(), 1e-4) << "channel " << c;
    total += sum;
  }
  const double expected_sum = e["preprocessed_sum"];
  EXPECT_NEAR(total, expected_sum, 1e-5 * std::abs(expected_sum));
  for (const auto& s : e["preprocessed_samples"]) {
    const int c = s[0], y = s[1], x = s[2];
    EXPECT_NEAR(t[c * plane + y * 224 + x], s[3].get<double>(), 1e-4) << c << "," << y << "," << x;
  }
}

INSTANTIATE_TEST_SUITE_P(SharedImages, ReferenceImageTest, ::testing::Range(0, 7), [](const auto& info) {
  std::string file = Reference()["images"][info.param]["file"];
  std::string name = file.substr(file.find('/') + 1);
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
});

// Hashes of PIL 9.4 results for Synthetic(); made with /usr/bin/python3 (PIL
// 9.4.0), for each case:
//   im = synth(w, h, alpha).resize((ow, oh), Image.BICUBIC)
//   rgb = im.convert('RGB').tobytes(); alpha = np.array(im)[..., 3].tobytes()
// with synth() building the same pixels as Synthetic() via numpy, and fnv()
// the FNV-1a above (an empty alpha hashes to the FNV offset basis).
struct PilCase {
  int w, h;
  bool alpha;
  int out_w, out_h;
  uint64_t rgb_hash, rgb_sum, alpha_hash;
};
const PilCase kPilCases[] = {
    {100, 80, false, 298, 224, 0xfdbe36ba9c800f6dULL, 25085928, 0xcbf29ce484222325ULL},  // upscaling
    {100, 80, false, 37, 201, 0x7aacbf56eca8db5dULL, 2794678, 0xcbf29ce484222325ULL},    // down x, up y
    {640, 480, false, 298, 224, 0xc032887992ddfd5eULL, 25511953, 0xcbf29ce484222325ULL},
    {17, 3, false, 5, 40, 0x570d3b24e882527fULL, 45640, 0xcbf29ce484222325ULL},
    {300, 200, true, 336, 224, 0xb8b70d415963a265ULL, 28229336, 0xd30900789d026635ULL},  // RGBa round trip
    {50, 60, true, 224, 224, 0xe743661056ee7238ULL, 18314973, 0x193977ac5246b7f9ULL},
    {300, 200, true, 300, 150, 0xe09a3c941bdb5b4aULL, 17125229, 0x8860dfcf25e6be93ULL},  // one axis unchanged
    {1, 1, false, 3, 2, 0x77e875b1c7b6a32dULL, 0, 0xcbf29ce484222325ULL},
};

TEST(ResizeBicubicPilTest, MatchesPilOnSyntheticImages) {
  for (const PilCase& c : kPilCases) {
    const Image out = ResizeBicubicPil(Synthetic(c.w, c.h, c.alpha), c.out_w, c.out_h);
    const std::string name = std::to_string(c.w) + "x" + std::to_string(c.h) + " -> " + std::to_string(c.out_w) +
                             "x" + std::to_string(c.out_h);
    ASSERT_EQ(out.width, c.out_w) << name;
    ASSERT_EQ(out.height, c.out_h) << name;
    EXPECT_EQ(Sum(out.rgb), c.rgb_sum) << name;
    EXPECT_EQ(Fnv1a(out.rgb), c.rgb_hash) << name;
    EXPECT_EQ(Fnv1a(out.alpha), c.alpha_hash) << name;
  }
}

// CLIP's Resize + CenterCrop + convert("RGB") for Synthetic(), made with the
// same script: torchvision's size rule and crop offsets written out
// (new_long = int(224 * long / short); left = int(round((W - 224) / 2.0))),
// `if (nw, nh) != (w, h): im = im.resize((nw, nh), Image.BICUBIC)`, then
// im.crop(...).convert('RGB').tobytes().
struct ClipCase {
  int w, h;
  bool alpha;
  CenterCropGeometry geometry;
  uint64_t rgb_hash, rgb_sum;
};
const ClipCase kClipCases[] = {
    {100, 80, false, {280, 224, 28, 0}, 0x98b9e7aa5cb50bd2ULL, 18862617},
    {61, 90, true, {224, 330, 0, 53}, 0x1e2a21c1c34fc7b1ULL, 18692046},
    // Already 224 on the short side: no resize, so no RGBa round trip
    // either; top = round(38.5) = 38.
    {224, 301, true, {224, 301, 0, 38}, 0x8bf57dbcb29591a5ULL, 19204352},
    {500, 224, false, {500, 224, 138, 0}, 0x2ccd150329487b65ULL, 19174656},
};

TEST(ResizeShorterSideAndCenterCropTest, MatchesPilOnSyntheticImages) {
  for (const ClipCase& c : kClipCases) {
    const std::string name = std::to_string(c.w) + "x" + std::to_string(c.h);
    const CenterCropGeometry g = ClipCenterCropGeometry(c.w, c.h, 224);
    EXPECT_EQ(g.resized_width, c.geometry.resized_width) << name;
    EXPECT_EQ(g.resized_height, c.geometry.resized_height) << name;
    EXPECT_EQ(g.left, c.geometry.left) << name;
    EXPECT_EQ(g.top, c.geometry.top) << name;
    const Image out = ResizeShorterSideAndCenterCrop(Synthetic(c.w, c.h, c.alpha), 224);
    EXPECT_EQ(Sum(out.rgb), c.rgb_sum) << name;
    EXPECT_EQ(Fnv1a(out.rgb), c.rgb_hash) << name;
  }
}

TEST(ClipCenterCropGeometryTest, RoundsHalfToEven) {
  // (297 - 224) / 2 = 36.5 -> 36; (299 - 224) / 2 = 37.5 -> 38.
  EXPECT_EQ(ClipCenterCropGeometry(240, 319, 224).top, 36);
  EXPECT_EQ(ClipCenterCropGeometry(350, 262, 224).left, 38);
  const CenterCropGeometry square = ClipCenterCropGeometry(500, 500, 224);
  EXPECT_EQ(square.resized_width, 224);
  EXPECT_EQ(square.resized_height, 224);
  EXPECT_EQ(square.left, 0);
}

TEST(ResizeBicubicPilTest, SameSizeIsACopy) {
  const Image in = Synthetic(31, 17, true);
  const Image out = ResizeBicubicPil(in, 31, 17);
  EXPECT_EQ(out.rgb, in.rgb);
  EXPECT_EQ(out.alpha, in.alpha);
}

TEST(ResizeStretchTest, EqualsSquareResizeWithoutAlpha) {
  const Image in = Synthetic(300, 200, true);
  const Image stretched = ResizeStretch(in, 224);
  const Image full = ResizeBicubicPil(in, 224, 224);
  EXPECT_EQ(stretched.width, 224);
  EXPECT_EQ(stretched.height, 224);
  EXPECT_EQ(stretched.rgb, full.rgb);
  EXPECT_FALSE(stretched.has_alpha());
}

// An opaque alpha plane changes nothing: PIL's RGBa round trip is exact at
// alpha 255, which is why LoadImage may drop such a plane.
TEST(ResizeBicubicPilTest, OpaqueAlphaEqualsNoAlpha) {
  Image opaque = Synthetic(123, 77, false);
  Image with_alpha = opaque;
  with_alpha.alpha.assign(123 * 77, 255);
  for (auto [w, h] : {std::pair{224, 224}, std::pair{50, 300}, std::pair{123, 20}}) {
    EXPECT_EQ(ResizeBicubicPil(with_alpha, w, h).rgb, ResizeBicubicPil(opaque, w, h).rgb) << w << "x" << h;
  }
}

TEST(NormalizeToChwTest, IsTorchvisionFloat32Arithmetic) {
  Image im{256, 1, std::vector<uint8_t>(256 * 3)};
  for (int v = 0; v < 256; ++v) im.rgb[v * 3] = im.rgb[v * 3 + 1] = im.rgb[v * 3 + 2] = static_cast<uint8_t>(v);
  std::vector<float> out(3 * 256);
  NormalizeToChw(im, kClipMean, kClipStd, out.data());
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      const float x = static_cast<float>(v) / 255.0f;
      ASSERT_EQ(out[c * 256 + v], (x - kClipMean[c]) / kClipStd[c]) << c << " " << v;
    }
  }
}

TEST(ResizeTest, BadInputIsInvalidArgument) {
  const Image good = Synthetic(8, 8, false);
  Image wrong_alpha = good;
  wrong_alpha.alpha.resize(7);
  float out[3 * 64];
  for (const Image& bad : {Image{}, Image{0, 5, {}}, Image{4, 4, std::vector<uint8_t>(5)}, wrong_alpha}) {
    EXPECT_EQ(CodeOf([&] { ResizeBicubicPil(bad, 4, 4); }), ErrorCode::kInvalidArgument);
    EXPECT_EQ(CodeOf([&] { ResizeShorterSideAndCenterCrop(bad, 224); }), ErrorCode::kInvalidArgument);
    EXPECT_EQ(CodeOf([&] { ResizeStretch(bad, 224); }), ErrorCode::kInvalidArgument);
    EXPECT_EQ(CodeOf([&] { NormalizeToChw(bad, kClipMean, kClipStd, out); }), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(CodeOf([&] { ResizeBicubicPil(good, 0, 4); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { ResizeBicubicPil(good, 4, -1); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { ResizeShorterSideAndCenterCrop(good, 0); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { ResizeStretch(good, -3); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { NormalizeToChw(good, kClipMean, kClipStd, nullptr); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { NormalizeToChw(good, kClipMean, {1, 0, 1}, out); }), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace fo::internal
