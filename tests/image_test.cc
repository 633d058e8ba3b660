// Tests for fo/image.h: decoding, encoding, sizes and FiftyOne's patch crop.
#include "fo/image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "fo/error.h"
#include "test_support.h"

namespace fo {
namespace {

using testing::CodeOf;
using testing::TempDir;

// Pixel (x, y) holds R = x, G = y, B = 7, so a crop shows where it came from.
Image CoordinateImage(int width, int height) {
  Image image{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.rgb.data() + (static_cast<size_t>(y) * width + x) * 3;
      p[0] = static_cast<uint8_t>(x), p[1] = static_cast<uint8_t>(y), p[2] = 7;
    }
  }
  return image;
}

std::string MessageOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

double MeanAbsDiff(const Image& a, const Image& b) {
  double sum = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int{a.rgb[i]} - int{b.rgb[i]});
  return sum / a.rgb.size();
}

TEST(ImageTest, PngRoundTripIsExact) {
  TempDir dir;
  Image image = CoordinateImage(50, 30);
  SaveImage(image, dir.File("a.png"));
  Image back = LoadImage(dir.File("a.png"));
  EXPECT_EQ(back.width, 50);
  EXPECT_EQ(back.height, 30);
  EXPECT_EQ(back.rgb, image.rgb);
}

TEST(ImageTest, JpegRoundTripIsClose) {
  TempDir dir;
  Image image = CoordinateImage(64, 48);
  SaveImage(image, dir.File("a.jpg"));
  Image back = LoadImage(dir.File("a.jpg"));
  ASSERT_EQ(back.width, 64);
  ASSERT_EQ(back.height, 48);
  EXPECT_LT(MeanAbsDiff(image, back), 3.0);
}

// A BMP written by hand stores B, G, R: checks the channel order against a
// file our own encoder did not make.
TEST(ImageTest, LoadsChannelsAsRgb) {
  TempDir dir;
  std::string bmp = "BM";
  auto le32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  bmp += le32(54 + 8) + le32(0) + le32(54);                     // file header
  bmp += le32(40) + le32(2) + le32(1) + std::string("\x01\x00\x18\x00", 4) + le32(0) + le32(8) +
         le32(2835) + le32(2835) + le32(0) + le32(0);          // info header: 2x1, 24 bit
  bmp += std::string("\x00\x00\xff\x10\x20\x30\x00\x00", 8);   // red, then B=0x10 G=0x20 R=0x30, pad
  testing::WriteFile(dir.File("two.bmp"), bmp);
  Image image = LoadImage(dir.File("two.bmp"));
  ASSERT_EQ(image.width, 2);
  ASSERT_EQ(image.height, 1);
  EXPECT_EQ(image.rgb, (std::vector<uint8_t>{255, 0, 0, 0x30, 0x20, 0x10}));
  EXPECT_EQ(ReadImageSize(dir.File("two.bmp")), std::make_pair(2, 1));
}

TEST(ImageTest, LoadsSharedImagesOfEveryMode) {
  const std::string images = testing::SharedDir() + "/clip/images/";
  Image gray = LoadImage(images + "gray_240x319.png");
  EXPECT_EQ(gray.width, 240);
  EXPECT_EQ(gray.height, 319);
  ASSERT_EQ(gray.rgb.size(), 240u * 319 * 3);
  const uint8_t* p = gray.pixel(100, 100);
  EXPECT_TRUE(p[0] == p[1] && p[1] == p[2]);
  Image alpha = LoadImage(images + "alpha_300x200.png");
  EXPECT_EQ(alpha.rgb.size(), 300u * 200 * 3);
  for (const char* name : {"photo_q90.jpg", "shapes_240x320.png", "gray_240x319.png", "alpha_300x200.png"}) {
    Image image = LoadImage(images + name);
    EXPECT_EQ(ReadImageSize(images + name), std::make_pair(image.width, image.height)) << name;
  }
  EXPECT_EQ(ReadImageSize(images + "photo_q90.jpg"), std::make_pair(350, 262));
}

TEST(ImageTest, MissingFileIsInvalidArgument) {
  TempDir dir;
  std::string path = dir.File("nope.jpg");
  EXPECT_EQ(CodeOf([&] { LoadImage(path); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { ReadImageSize(path); }), ErrorCode::kInvalidArgument);
  std::string message = MessageOf([&] { LoadImage(path); });
  EXPECT_EQ(message.rfind("cannot decode image " + path + ": ", 0), 0u) << message;
}

TEST(ImageTest, CorruptFileIsInvalidArgument) {
  TempDir dir;
  std::string path = dir.File("garbage.jpg");
  testing::WriteFile(path, "this is not a JPEG, just some bytes \x01\x02\x03");
  EXPECT_EQ(CodeOf([&] { LoadImage(path); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeOf([&] { ReadImageSize(path); }), ErrorCode::kInvalidArgument);
  EXPECT_NE(MessageOf([&] { ReadImageSize(path); }).find(path), std::string::npos);
  // A JPEG signature alone is not enough either.
  testing::WriteFile(path, std::string("\xff\xd8\xff\xe0\x00\x02garbage", 13));
  EXPECT_EQ(CodeOf([&] { ReadImageSize(path); }), ErrorCode::kInvalidArgument);
}

TEST(ImageTest, ReadImageSizeMatchesDecodedSize) {
  TempDir dir;
  Image image = CoordinateImage(37, 21);
  for (const char* name : {"a.png", "a.jpg", "a.bmp", "a.webp"}) {
    SaveImage(image, dir.File(name));
    EXPECT_EQ(ReadImageSize(dir.File(name)), std::make_pair(37, 21)) << name;
  }
}

// OpenCV turns a JPEG by its EXIF orientation; the header read must agree.
TEST(ImageTest, ReadImageSizeFollowsExifOrientation) {
  TempDir dir;
  SaveImage(CoordinateImage(40, 20), dir.File("plain.jpg"));
  std::string jpeg = testing::ReadFile(dir.File("plain.jpg"));
  std::string tiff = std::string("MM\x00\x2a\x00\x00\x00\x08", 8) + std::string("\x00\x01", 2) +
                     std::string("\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00", 12) +
                     std::string("\x00\x00\x00\x00", 4);  // orientation 6: rotate 90 degrees
  std::string payload = std::string("Exif\x00\x00", 6) + tiff;
  std::string app1 = std::string("\xff\xe1", 2) + char((payload.size() + 2) >> 8) + char(payload.size() + 2) + payload;
  testing::WriteFile(dir.File("rotated.jpg"), jpeg.substr(0, 2) + app1 + jpeg.substr(2));
  Image rotated = LoadImage(dir.File("rotated.jpg"));
  EXPECT_EQ(std::make_pair(rotated.width, rotated.height), std::make_pair(20, 40));
  EXPECT_EQ(ReadImageSize(dir.File("rotated.jpg")), std::make_pair(20, 40));
}

// A PNG file written by hand (so no encoder of ours is involved): raw
// samples (big-endian when 16-bit) of one colour type, optionally with an
// eXIf chunk holding an EXIF orientation. The zlib stream uses stored blocks.
uint32_t Crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string BigEndian32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string PngChunk(const std::string& type, const std::string& data) {
  return BigEndian32(static_cast<uint32_t>(data.size())) + type + data + BigEndian32(Crc32(type + data));
}

std::string TiffWithOrientation(int orientation) {
  return std::string("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00", 19) +
         char(orientation) + std::string(6, '\0');
}

std::string PngFile(int width, int height, int color_type, int bit_depth, const std::vector<uint16_t>& samples,
                    int orientation = 0) {
  const int channels = color_type == 0 ? 1 : color_type == 2 ? 3 : color_type == 4 ? 2 : 4;
  std::string raw;
  for (int y = 0; y < height; ++y) {
    raw += '\0';  // filter: none
    for (int i = 0; i < width * channels; ++i) {
      uint16_t v = samples[static_cast<size_t>(y) * width * channels + i];
      if (bit_depth == 16) raw += char(v >> 8);
      raw += char(v);
    }
  }
  std::string zlib = "\x78\x01";
  for (size_t pos = 0; pos < raw.size() || pos == 0; pos += 65535) {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    zlib += char(pos + n >= raw.size() ? 1 : 0);
    zlib += {char(n), char(n >> 8), char(~n), char(~n >> 8)};
    zlib += raw.substr(pos, n);
  }
  uint32_t a = 1, b = 0;
  for (unsigned char c : raw) a = (a + c) % 65521, b = (b + a) % 65521;
  zlib += BigEndian32((b << 16) | a);
  std::string ihdr = BigEndian32(width) + BigEndian32(height) + char(bit_depth) + char(color_type) + std::string(3, '\0');
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + PngChunk("IHDR", ihdr);
  if (orientation) png += PngChunk("eXIf", TiffWithOrientation(orientation));
  return png + PngChunk("IDAT", zlib) + PngChunk("IEND", "");
}

// Samples of a w x h RGBA image: R = x, G = y, B = 7, A = 10 * x + y.
std::vector<uint16_t> CoordinateRgba(int width, int height) {
  std::vector<uint16_t> s;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) s.insert(s.end(), {uint16_t(x), uint16_t(y), 7, uint16_t(10 * x + y)});
  }
  return s;
}

TEST(ImageTest, KeepsAlphaOfPngAndDropsItWhenOpaque) {
  TempDir dir;
  testing::WriteFile(dir.File("rgba.png"), PngFile(5, 3, 6, 8, CoordinateRgba(5, 3)));
  Image image = LoadImage(dir.File("rgba.png"));
  ASSERT_EQ(image.alpha.size(), 15u);
  EXPECT_EQ(image.alpha[1 * 5 + 4], 41);
  EXPECT_EQ(image.pixel(4, 1)[0], 4);
  EXPECT_EQ(image.pixel(4, 1)[1], 1);
  EXPECT_EQ(image.pixel(4, 1)[2], 7);
  std::vector<uint16_t> opaque = CoordinateRgba(5, 3);
  for (size_t i = 3; i < opaque.size(); i += 4) opaque[i] = 255;
  testing::WriteFile(dir.File("opaque.png"), PngFile(5, 3, 6, 8, opaque));
  Image flat = LoadImage(dir.File("opaque.png"));
  EXPECT_FALSE(flat.has_alpha());
  EXPECT_EQ(flat.rgb, image.rgb);
  SaveImage(image, dir.File("saved.png"));  // alpha is not written
  EXPECT_FALSE(LoadImage(dir.File("saved.png")).has_alpha());
  EXPECT_EQ(LoadImage(dir.File("saved.png")).rgb, image.rgb);
}

TEST(ImageTest, GrayAlphaAndSixteenBitPngs) {
  TempDir dir;
  // Gray + alpha: the gray is replicated, the alpha kept.
  testing::WriteFile(dir.File("la.png"), PngFile(2, 1, 4, 8, {50, 128, 200, 0}));
  Image la = LoadImage(dir.File("la.png"));
  EXPECT_EQ(la.rgb, (std::vector<uint8_t>{50, 50, 50, 200, 200, 200}));
  EXPECT_EQ(la.alpha, (std::vector<uint8_t>{128, 0}));
  // 16-bit: the high byte, as IMREAD_COLOR gives (0x12ff -> 0x12, not 0x13).
  testing::WriteFile(dir.File("rgba16.png"), PngFile(1, 1, 6, 16, {0x12ff, 0xff00, 0x0080, 0x8000}));
  Image rgba16 = LoadImage(dir.File("rgba16.png"));
  EXPECT_EQ(rgba16.rgb, (std::vector<uint8_t>{0x12, 0xff, 0x00}));
  EXPECT_EQ(rgba16.alpha, (std::vector<uint8_t>{0x80}));
  testing::WriteFile(dir.File("gray16.png"), PngFile(2, 1, 0, 16, {0xabcd, 0x0100}));
  EXPECT_EQ(LoadImage(dir.File("gray16.png")).rgb, (std::vector<uint8_t>{0xab, 0xab, 0xab, 1, 1, 1}));
}

// OpenCV's imread turns PNGs by their eXIf orientation too; LoadImage must do
// the same with the alpha plane, and ReadImageSize must agree. Orientation o
// maps a source pixel to the displayed image as the EXIF spec says.
TEST(ImageTest, PngExifOrientationTurnsColourAndAlpha) {
  TempDir dir;
  const int w = 5, h = 3;
  for (int o = 1; o <= 8; ++o) {
    const std::string path = dir.File(std::to_string(o) + "_oriented.png");
    testing::WriteFile(path, PngFile(w, h, 6, 8, CoordinateRgba(w, h), o));
    Image image = LoadImage(path);
    const bool transposed = o >= 5;
    ASSERT_EQ(image.width, transposed ? h : w) << o;
    ASSERT_EQ(image.height, transposed ? w : h) << o;
    EXPECT_EQ(ReadImageSize(path), std::make_pair(image.width, image.height)) << o;
    ASSERT_EQ(image.alpha.size(), static_cast<size_t>(w * h)) << o;
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        // (sx, sy): the source pixel shown at (x, y).
        int sx = x, sy = y;
        switch (o) {
          case 2: sx = w - 1 - x; break;
          case 3: sx = w - 1 - x, sy = h - 1 - y; break;
          case 4: sy = h - 1 - y; break;
          case 5: sx = y, sy = x; break;
          case 6: sx = y, sy = h - 1 - x; break;
          case 7: sx = w - 1 - y, sy = h - 1 - x; break;
          case 8: sx = w - 1 - y, sy = x; break;
        }
        ASSERT_EQ(image.pixel(x, y)[0], sx) << o << " at " << x << "," << y;
        ASSERT_EQ(image.pixel(x, y)[1], sy) << o << " at " << x << "," << y;
        ASSERT_EQ(image.alpha[static_cast<size_t>(y) * image.width + x], 10 * sx + sy) << o;
      }
    }
  }
}

TEST(ImageTest, CropPatchCropsAlpha) {
  Image image = CoordinateImage(200, 100);
  image.alpha.resize(200 * 100);
  for (int y = 0; y < 100; ++y) {
    for (int x = 0; x < 200; ++x) image.alpha[y * 200 + x] = static_cast<uint8_t>(x + y);
  }
  Image patch = CropPatch(image, {0.1049, 0.2049, 0.3, 0.4});  // [20, 80) x [20, 60)
  ASSERT_EQ(patch.alpha.size(), static_cast<size_t>(patch.width) * patch.height);
  EXPECT_EQ(patch.alpha.front(), 40);
  EXPECT_EQ(patch.alpha.back(), 79 + 59);
  EXPECT_EQ(patch.alpha[1 * patch.width + 2], 22 + 21);
  Image opaque = CropPatch(CoordinateImage(200, 100), {0, 0, 1, 1});
  EXPECT_FALSE(opaque.has_alpha());
}

TEST(ImageTest, SaveFailuresAreIOErrors) {
  TempDir dir;
  Image image = CoordinateImage(4, 4);
  EXPECT_EQ(CodeOf([&] { SaveImage(image, dir.File("missing/dir/a.png")); }), ErrorCode::kIOError);
  EXPECT_EQ(CodeOf([&] { SaveImage(image, dir.File("a.unknown")); }), ErrorCode::kIOError);
  EXPECT_EQ(CodeOf([&] { SaveImage(Image{}, dir.File("empty.png")); }), ErrorCode::kInvalidArgument);
}

TEST(ImageTest, IsImageFile) {
  for (const char* yes : {"a.jpg", "b.JPG", "c.jpeg", "d.Png", "/x/y/e.bmp", "f.webp"}) EXPECT_TRUE(IsImageFile(yes)) << yes;
  for (const char* no : {"a.txt", "jpg", "a.jpg.gz", "a.gif", "a.tiff", "dir.jpg/file", ""}) EXPECT_FALSE(IsImageFile(no)) << no;
}

struct CropCase {
  const char* name;
  std::array<double, 4> box;
  bool force_square;
  std::optional<double> alpha;
  int x1, y1, x2, y2;  // expected pixel rectangle [x1, x2) x [y1, y2)
};

// Expected rectangles worked out by hand from FiftyOne's rules, for a
// 200x100 image; coordinates sit mid-pixel so truncation is unambiguous.
const CropCase kCropCases[] = {
    // int(20.98) = 20, not 21: truncation, not rounding.
    {"plain", {0.1049, 0.2049, 0.3, 0.4}, false, std::nullopt, 20, 20, 80, 60},
    {"whole_image", {0, 0, 1, 1}, false, std::nullopt, 0, 0, 200, 100},
    // pads 0.125 each side: [0.125, 0.875]^2 -> x 25..175, y 12.5..87.5.
    {"alpha_grows", {0.25, 0.25, 0.5, 0.5}, false, 0.5, 25, 12, 175, 87},
    // pads 0.10125: the top-left clamps to 0.
    {"alpha_clamps", {0.05, 0.1, 0.2025, 0.2025}, false, 1.0, 0, 0, 70, 40},
    // shrinks by 0.1 each side: [0.3025, 0.5025]^2.
    {"alpha_shrinks", {0.2025, 0.2025, 0.4, 0.4}, false, -0.5, 60, 30, 100, 50},
    // corners outside the image clamp to it.
    {"box_clamps", {-0.2, 0.5025, 0.5025, 0.9}, false, std::nullopt, 0, 50, 60, 100},
    // 21x50: the width grows by int(29 / 2) = 14 before and 15 after.
    {"square_grows", {0.4025, 0.2025, 0.105, 0.5}, true, std::nullopt, 66, 20, 116, 70},
    // 10x50 at the left edge: grown and shifted right to stay inside.
    {"square_shifts", {0.0025, 0.2025, 0.05, 0.5}, true, std::nullopt, 0, 20, 50, 70},
    // 180x10: height can only reach 100, so the width shrinks to 100.
    {"square_shrinks", {0.0025, 0.4025, 0.9, 0.1}, true, std::nullopt, 40, 0, 140, 100},
    // alpha first: [0.2525, 0.7525] x [0.3775, 0.6275] -> 100x25 at (50, 37);
    // then the height grows by 37 above and 38 below: 100x100.
    {"alpha_then_square", {0.3025, 0.4025, 0.4, 0.2}, true, 0.25, 50, 0, 150, 100},
    // degenerate boxes give one pixel, never an empty image.
    {"point", {0.5025, 0.5025, 0, 0}, false, std::nullopt, 100, 50, 101, 51},
    {"point_at_far_edge", {1, 1, 0, 0}, false, std::nullopt, 199, 99, 200, 100},
    {"outside", {-0.5, -0.5, 0.2, 0.2}, false, std::nullopt, 0, 0, 1, 1},
    {"alpha_below_minus_one", {0.2025, 0.2025, 0.4, 0.4}, false, -3.0, 80, 40, 81, 41},
};

// Keeps test names and failure messages readable (no byte dump).
void PrintTo(const CropCase& c, std::ostream* os) { *os << c.name; }

class CropPatchTest : public ::testing::TestWithParam<CropCase> {};

TEST_P(CropPatchTest, MatchesFiftyOne) {
  const CropCase& c = GetParam();
  Image image = CoordinateImage(200, 100);
  Image patch = CropPatch(image, c.box, c.force_square, c.alpha);
  ASSERT_EQ(patch.width, c.x2 - c.x1);
  ASSERT_EQ(patch.height, c.y2 - c.y1);
  ASSERT_EQ(patch.rgb.size(), static_cast<size_t>(patch.width) * patch.height * 3);
  EXPECT_EQ(patch.pixel(0, 0)[0], c.x1);
  EXPECT_EQ(patch.pixel(0, 0)[1], c.y1);
  EXPECT_EQ(patch.pixel(patch.width - 1, patch.height - 1)[0], c.x2 - 1);
  EXPECT_EQ(patch.pixel(patch.width - 1, patch.height - 1)[1], c.y2 - 1);
}

INSTANTIATE_TEST_SUITE_P(Cases, CropPatchTest, ::testing::ValuesIn(kCropCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ImageTest, CropPatchRejectsMalformedImage) {
  Image bad{10, 10, std::vector<uint8_t>(5)};
  EXPECT_EQ(CodeOf([&] { CropPatch(bad, {0, 0, 1, 1}); }), ErrorCode::kInvalidArgument);
  Image bad_alpha = CoordinateImage(10, 10);
  bad_alpha.alpha.resize(99);
  EXPECT_EQ(CodeOf([&] { CropPatch(bad_alpha, {0, 0, 1, 1}); }), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace fo
