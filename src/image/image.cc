// Image decoding, encoding and patch cropping. This is the only place that
// turns OpenCV's failures (empty Mats, cv::Exception) into fo::Error.
#include "fo/image.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <utility>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>  // flags only: calls go through the plugin (codecs.h)
#include <opencv2/imgproc.hpp>

#include "fo/error.h"
#include "image/codecs.h"

namespace fo {
using internal::GetImageCodecs;
namespace {

namespace fs = std::filesystem;

Error DecodeError(const std::string& path, const std::string& reason) {
  return InvalidArgument("cannot decode image " + path + ": " + reason);
}

uint32_t ReadBigEndian(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// The orientation tag (1..8) of a TIFF-structured EXIF block, or 1 if there
// is none. OpenCV turns JPEGs and PNGs by this tag when decoding, so
// ReadImageSize and LoadImage must too, or a sample's metadata would disagree
// with the pixels its crops come from.
int TiffOrientation(const uint8_t* tiff, size_t size) {
  if (size < 8) return 1;
  bool little = tiff[0] == 'I';
  auto read = [&](size_t off, int bytes) -> uint32_t {
    if (off + bytes > size) return 0;
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint32_t{tiff[off + (little ? i : bytes - 1 - i)]} << (8 * i);
    return v;
  };
  size_t ifd = read(4, 4);
  uint32_t entries = read(ifd, 2);
  for (uint32_t i = 0; i < entries; ++i) {
    size_t entry = ifd + 2 + 12 * i;
    if (read(entry, 2) == 0x0112) {
      uint32_t orientation = read(entry + 8, 2);
      return orientation >= 1 && orientation <= 8 ? static_cast<int>(orientation) : 1;
    }
  }
  return 1;
}

// The orientation in a JPEG APP1 payload ("Exif\0\0" + TIFF), or 1.
int ExifOrientation(const uint8_t* p, size_t n) {
  if (n < 14 || std::memcmp(p, "Exif\0\0", 6) != 0) return 1;
  return TiffOrientation(p + 6, n - 6);
}

bool IsPng(const uint8_t* b, size_t n) { return n >= 8 && std::memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0; }

// The orientation in a PNG's eXIf chunk (plain TIFF), 1 if there is none
// before the image data (libpng, hence OpenCV, only looks there), nullopt if
// the chunks run past the n bytes we have before IDAT.
std::optional<int> PngOrientation(const uint8_t* b, size_t n) {
  size_t pos = 8;
  while (pos + 8 <= n) {
    size_t len = ReadBigEndian(b + pos, 4);
    const uint8_t* type = b + pos + 4;
    if (std::memcmp(type, "IDAT", 4) == 0 || std::memcmp(type, "IEND", 4) == 0) return 1;
    if (pos + 12 + len > n) return std::nullopt;
    if (std::memcmp(type, "eXIf", 4) == 0) return TiffOrientation(b + pos + 8, len);
    pos += 12 + len;
  }
  return std::nullopt;
}

// Width and height from a PNG or JPEG header without decoding the pixels;
// nullopt for any other format or a header we do not understand, in which
// case the caller decodes the whole file.
std::optional<std::pair<int, int>> SizeFromHeader(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  // Headers and EXIF sit near the start of a file; 256 KiB is plenty.
  std::vector<uint8_t> buf(256 * 1024);
  in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
  buf.resize(static_cast<size_t>(in.gcount()));
  const size_t n = buf.size();
  const uint8_t* b = buf.data();
  if (n >= 24 && IsPng(b, n) && std::memcmp(b + 12, "IHDR", 4) == 0) {
    int w = static_cast<int>(ReadBigEndian(b + 16, 4)), h = static_cast<int>(ReadBigEndian(b + 20, 4));
    std::optional<int> orientation = PngOrientation(b, n);
    if (w <= 0 || h <= 0 || !orientation) return std::nullopt;
    if (*orientation >= 5) std::swap(w, h);  // orientations 5..8 transpose
    return std::make_pair(w, h);
  }
  if (n < 4 || b[0] != 0xFF || b[1] != 0xD8) return std::nullopt;
  int orientation = 1;
  size_t pos = 2;
  while (pos + 4 <= n) {
    if (b[pos] != 0xFF) return std::nullopt;
    uint8_t marker = b[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no payload
      pos += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // no frame header before the scan
    size_t len = ReadBigEndian(b + pos + 2, 2);
    if (len < 2 || pos + 2 + len > n) return std::nullopt;
    const uint8_t* payload = b + pos + 4;
    bool is_sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_sof) {
      if (len < 7) return std::nullopt;
      int h = static_cast<int>(ReadBigEndian(payload + 1, 2)), w = static_cast<int>(ReadBigEndian(payload + 3, 2));
      if (w <= 0 || h <= 0) return std::nullopt;
      if (orientation >= 5) std::swap(w, h);  // orientations 5..8 transpose
      return std::make_pair(w, h);
    }
    if (marker == 0xE1) orientation = ExifOrientation(payload, len - 2);
    pos += 2 + len;
  }
  return std::nullopt;
}

// FiftyOne's eta `_make_square` on one axis: grows [start, stop) by dz
// (shrinks it if dz < 0), split half before and half after, shifted back
// inside [0, zmax). int() truncates toward zero, as Python's int() does.
std::pair<int, int> PadAxis(int start, int stop, int dz, int zmax) {
  int dz1 = static_cast<int>(0.5 * dz);
  int dz2 = dz - dz1;
  int shift = std::max(0, dz1 - start) - std::max(0, stop + dz2 - zmax);
  return {start - dz1 + shift, stop + dz2 + shift};
}

// Makes the x and y pixel ranges square: the smaller side grows to the
// larger; if it cannot fit in the image, the larger side shrinks instead.
void MakeSquare(int& x1, int& x2, int& y1, int& y2, int width, int height) {
  int ws = x2 - x1, hs = y2 - y1;
  if (hs < ws) {
    MakeSquare(y1, y2, x1, x2, height, width);
    return;
  }
  int dx = hs - ws;
  int dy = std::min(0, width - dx - ws);
  std::tie(x1, x2) = PadAxis(x1, x2, dx + dy, width);
  std::tie(y1, y2) = PadAxis(y1, y2, dy, height);
}

void CheckImage(const Image& image, const char* what) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
    throw InvalidArgument(std::string(what) + ": image is empty or its buffer does not match " +
                          std::to_string(image.width) + "x" + std::to_string(image.height) + "x3");
  }
  if (image.has_alpha() && image.alpha.size() != static_cast<size_t>(image.width) * image.height) {
    throw InvalidArgument(std::string(what) + ": the alpha plane does not match " + std::to_string(image.width) +
                          "x" + std::to_string(image.height));
  }
}

// The whole file, for imdecode and our own header parsing: one read.
std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw DecodeError(path, fs::exists(path, ec) ? "not a regular file" : "no such file");
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(static_cast<size_t>(fs::file_size(path, ec)));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (ec || !in || in.gcount() != static_cast<std::streamsize>(bytes.size())) throw DecodeError(path, "cannot read the file");
  return bytes;
}

// PNG and WebP may carry alpha; they are decoded unchanged, and we convert
// them to what IMREAD_COLOR would give plus the alpha plane. Other formats
// keep the IMREAD_COLOR path, which also handles CMYK JPEGs.
bool KeepsAlpha(const std::vector<uint8_t>& b) {
  bool webp = b.size() >= 12 && std::memcmp(b.data(), "RIFF", 4) == 0 && std::memcmp(b.data() + 8, "WEBP", 4) == 0;
  return webp || IsPng(b.data(), b.size());
}

// OpenCV's own EXIF transform (imgcodecs ExifTransform), so that an oriented
// PNG decodes exactly as IMREAD_COLOR would have turned it.
void ApplyOrientation(int orientation, cv::Mat& m) {
  if (orientation >= 5) cv::transpose(m, m);
  switch (orientation) {
    case 2: case 6: cv::flip(m, m, 1); break;
    case 3: case 7: cv::flip(m, m, -1); break;
    case 4: case 8: cv::flip(m, m, 0); break;
    default: break;
  }
}

// 16-bit samples keep their high byte: libpng's strip_16, which is what
// IMREAD_COLOR gives for the same file.
cv::Mat To8Bit(const cv::Mat& m) {
  if (m.depth() == CV_8U) return m;
  cv::Mat out(m.rows, m.cols, CV_MAKETYPE(CV_8U, m.channels()));
  const int n = m.cols * m.channels();
  for (int y = 0; y < m.rows; ++y) {
    const uint16_t* src = m.ptr<uint16_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>(src[i] >> 8);
  }
  return out;
}

// An Image from 8-bit BGR (or gray) pixels and an optional 8-bit alpha Mat;
// an alpha plane that is opaque everywhere is dropped, because an opaque
// image resizes exactly like one without alpha.
Image FromBgr(const cv::Mat& bgr, const cv::Mat& alpha) {
  Image image;
  image.width = bgr.cols;
  image.height = bgr.rows;
  image.rgb.resize(static_cast<size_t>(bgr.cols) * bgr.rows * 3);
  cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, image.rgb.data());
  cv::cvtColor(bgr, rgb, bgr.channels() == 1 ? cv::COLOR_GRAY2RGB : cv::COLOR_BGR2RGB);
  if (!alpha.empty() && cv::countNonZero(alpha != 255) > 0) {
    image.alpha.resize(static_cast<size_t>(bgr.cols) * bgr.rows);
    alpha.copyTo(cv::Mat(bgr.rows, bgr.cols, CV_8UC1, image.alpha.data()));
  }
  return image;
}

Image DecodeWithAlpha(const std::vector<uint8_t>& bytes, const std::string& path) {
  cv::Mat m = GetImageCodecs().Decode(bytes, cv::IMREAD_UNCHANGED);
  if (m.empty()) throw DecodeError(path, "unsupported format or corrupt data");
  if ((m.depth() != CV_8U && m.depth() != CV_16U) || m.channels() > 4) {
    throw DecodeError(path, "unsupported sample type " + std::to_string(m.depth()) + " x " + std::to_string(m.channels()));
  }
  m = To8Bit(m);
  if (IsPng(bytes.data(), bytes.size())) ApplyOrientation(PngOrientation(bytes.data(), bytes.size()).value_or(1), m);
  if (m.channels() == 1 || m.channels() == 3) return FromBgr(m, cv::Mat());
  // Gray + alpha (OpenCV gives BGRA for those PNGs, but be safe) or BGRA.
  std::vector<cv::Mat> planes;
  cv::split(m, planes);
  cv::Mat alpha = planes.back();
  planes.pop_back();
  cv::Mat color;
  cv::merge(planes, color);
  return FromBgr(color, alpha);
}

// IMREAD_COLOR (or one of its reduced forms): EXIF orientation applied,
// CMYK and gray converted, alpha dropped.
Image DecodeColor(const std::vector<uint8_t>& bytes, const std::string& path, int flags) {
  cv::Mat bgr = GetImageCodecs().Decode(bytes, flags);
  if (bgr.empty()) throw DecodeError(path, "unsupported format or corrupt data");
  return FromBgr(bgr, cv::Mat());
}

}  // namespace

Image LoadImage(const std::string& path) {
  std::vector<uint8_t> bytes = ReadFileBytes(path);
  try {
    if (KeepsAlpha(bytes)) return DecodeWithAlpha(bytes, path);
    // Everything else (JPEG above all) decodes as it always has.
    return DecodeColor(bytes, path, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw DecodeError(path, e.what());
  }
}

Image LoadImagePreview(const std::string& path, int reduction) {
  int flags = cv::IMREAD_COLOR;
  switch (reduction) {
    case 1: break;
    case 2: flags = cv::IMREAD_REDUCED_COLOR_2; break;
    case 4: flags = cv::IMREAD_REDUCED_COLOR_4; break;
    case 8: flags = cv::IMREAD_REDUCED_COLOR_8; break;
    default: throw InvalidArgument("an image preview's reduction must be 1, 2, 4 or 8, not " + std::to_string(reduction));
  }
  std::vector<uint8_t> bytes = ReadFileBytes(path);
  try {
    return DecodeColor(bytes, path, flags);
  } catch (const cv::Exception& e) {
    throw DecodeError(path, e.what());
  }
}

std::vector<uint8_t> EncodeJpeg(const Image& image, int quality) {
  CheckImage(image, "EncodeJpeg");
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.rgb.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uint8_t> jpeg;
  bool ok = false;
  try {
    ok = GetImageCodecs().Encode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality});
  } catch (const cv::Exception& e) {
    throw IOError(std::string("cannot encode a JPEG: ") + e.what());
  }
  if (!ok) throw IOError("cannot encode a JPEG");
  return jpeg;
}

std::pair<int, int> ReadImageSize(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw DecodeError(path, fs::exists(path, ec) ? "not a regular file" : "no such file");
  if (auto size = SizeFromHeader(path)) return *size;
  Image image = LoadImage(path);
  return {image.width, image.height};
}

void SaveImage(const Image& image, const std::string& path) {
  CheckImage(image, "SaveImage");
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.rgb.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  bool ok = false;
  std::string reason = "the encoder failed or the directory is not writable";
  try {
    ok = GetImageCodecs().Write(path, bgr, {});
  } catch (const cv::Exception& e) {
    reason = e.what();
  }
  if (!ok) throw IOError("cannot write image " + path + ": " + reason);
}

Image CropPatch(const Image& image, const std::array<double, 4>& box, bool force_square,
                std::optional<double> alpha) {
  CheckImage(image, "CropPatch");
  auto clamp01 = [](double v) { return std::clamp(v, 0.0, 1.0); };
  // As FiftyOne: the box becomes clamped corners, then is padded and clamped
  // again.
  double tlx = clamp01(box[0]), tly = clamp01(box[1]);
  double brx = clamp01(box[0] + box[2]), bry = clamp01(box[1] + box[3]);
  if (alpha) {
    double a = std::max(*alpha, -1.0);
    double wpad = 0.5 * a * (brx - tlx), hpad = 0.5 * a * (bry - tly);
    tlx = clamp01(tlx - wpad), tly = clamp01(tly - hpad);
    brx = clamp01(brx + wpad), bry = clamp01(bry + hpad);
  }
  const int width = image.width, height = image.height;
  int x1 = static_cast<int>(width * tlx), y1 = static_cast<int>(height * tly);
  int x2 = static_cast<int>(width * brx), y2 = static_cast<int>(height * bry);
  if (force_square) MakeSquare(x1, x2, y1, y2, width, height);
  // FiftyOne would return an empty array here, which no model can embed.
  auto at_least_one = [](int& lo, int& hi, int size) {
    lo = std::clamp(lo, 0, size - 1);
    hi = std::clamp(hi, lo + 1, size);
  };
  at_least_one(x1, x2, width);
  at_least_one(y1, y2, height);

  Image patch;
  patch.width = x2 - x1;
  patch.height = y2 - y1;
  patch.rgb.resize(static_cast<size_t>(patch.width) * patch.height * 3);
  for (int y = y1; y < y2; ++y) {
    std::memcpy(patch.rgb.data() + static_cast<size_t>(y - y1) * patch.width * 3, image.pixel(x1, y),
                static_cast<size_t>(patch.width) * 3);
  }
  if (image.has_alpha()) {
    patch.alpha.resize(static_cast<size_t>(patch.width) * patch.height);
    for (int y = y1; y < y2; ++y) {
      std::memcpy(patch.alpha.data() + static_cast<size_t>(y - y1) * patch.width,
                  image.alpha.data() + static_cast<size_t>(y) * width + x1, static_cast<size_t>(patch.width));
    }
  }
  return patch;
}

bool IsImageFile(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".webp";
}

}  // namespace fo
