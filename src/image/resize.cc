// A port of Pillow 9.4's bicubic resampling (src/libImaging/Resample.c) and
// its RGBA <-> RGBa conversions (Convert.c), written for the exact same
// integer results. The arithmetic that decides the output bytes (filter
// windows, double-precision weights, their 22-bit fixed-point rounding, the
// half-up offset, the clip) follows Pillow step by step; the loops around it
// are our own and only compute the output window asked for.
#include "image/resize.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#ifdef __SSE4_1__
#include <immintrin.h>
#endif

#include "fo/error.h"

namespace fo::internal {
namespace {

// Pillow's PRECISION_BITS: 8 bits of result and 2 of headroom for the
// negative lobes and sums above 1, inside a 32-bit int.
constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr int32_t kRoundHalf = 1 << (kPrecisionBits - 1);

void CheckImage(const Image& in, const char* what) {
  const size_t pixels = static_cast<size_t>(std::max(in.width, 0)) * std::max(in.height, 0);
  if (in.width <= 0 || in.height <= 0 || in.rgb.size() != pixels * 3) {
    throw InvalidArgument(std::string(what) + ": image is empty or its buffer does not match " +
                          std::to_string(in.width) + "x" + std::to_string(in.height) + "x3");
  }
  if (in.has_alpha() && in.alpha.size() != pixels) {
    throw InvalidArgument(std::string(what) + ": the alpha plane does not match " + std::to_string(in.width) + "x" +
                          std::to_string(in.height));
  }
}

void CheckSize(int width, int height, const char* what) {
  if (width <= 0 || height <= 0) {
    throw InvalidArgument(std::string(what) + ": invalid output size " + std::to_string(width) + "x" +
                          std::to_string(height));
  }
}

// The cubic convolution kernel with a = -0.5, written in Pillow's operation
// order: a different but algebraically equal form can round differently,
// and one unit in the last place can flip a fixed-point weight.
double BicubicKernel(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// The filter of one axis (in_size -> out_size) for outputs [begin, end):
// output i reads inputs first[i - begin] .. + count[i - begin] with weights
// weights[(i - begin) * taps ...]. Pillow's precompute_coeffs followed by
// normalize_coeffs_8bpc, computed only for the outputs we need. The double
// arithmetic must not be fused into FMAs: -std=c++20 (not gnu++20) keeps
// GCC's -ffp-contract=off, and x86-64-v2 has no FMA anyway.
struct AxisFilter {
  int taps = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;
};

AxisFilter MakeAxisFilter(int in_size, int out_size, int begin, int end) {
  constexpr double kSupport = 2.0;  // bicubic
  // Pillow's box coordinates are floats, so the input size passes through one.
  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filterscale = std::max(scale, 1.0);  // widened only when downscaling
  const double support = kSupport * filterscale;
  AxisFilter f;
  f.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  const int n = end - begin;
  f.first.resize(n);
  f.count.resize(n);
  f.weights.assign(static_cast<size_t>(n) * f.taps, 0);
  std::vector<double> k(f.taps);
  for (int i = 0; i < n; ++i) {
    const double center = (begin + i + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // Pillow rounds the window bounds by adding 0.5 and truncating.
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = BicubicKernel((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    int32_t* w = f.weights.data() + static_cast<size_t>(i) * f.taps;
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? k[x] / ww : k[x];
      // Rounded half away from zero, as normalize_coeffs_8bpc does.
      w[x] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    f.first[i] = xmin;
    f.count[i] = xmax;
  }
  return f;
}

// Pillow's clip8: the accumulator's integer part, clamped to a byte.
inline uint8_t Clip8(int32_t acc) {
  const int32_t v = acc >> kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Rows of interleaved 8-bit pixels with `channels` bytes each.
struct Plane {
  const uint8_t* data = nullptr;
  size_t stride = 0;  // bytes from one row to the next
  int width = 0;
  int height = 0;
  int channels = 0;
};

// One output pixel of the horizontal pass: sum over taps of
// p[t * C + c] * w[t], plus Pillow's rounding offset, clipped.
template <int C>
inline void HorizontalPixel(const uint8_t* p, const int32_t* w, int count, uint8_t* out) {
  int32_t acc[C];
  for (int c = 0; c < C; ++c) acc[c] = kRoundHalf;
  for (int t = 0; t < count; ++t) {
    for (int c = 0; c < C; ++c) acc[c] += p[t * C + c] * w[t];
  }
  for (int c = 0; c < C; ++c) out[c] = Clip8(acc[c]);
}

#ifdef __SSE4_1__
// The same for 3 channels with the pixel's bytes in one 4-lane vector: one
// multiply and one add per tap instead of three. Reads one byte past each
// pixel (its lane is never stored), so the caller keeps it inside the buffer.
inline void HorizontalPixelRgbSse(const uint8_t* p, const int32_t* w, int count, uint8_t* out) {
  __m128i acc = _mm_set1_epi32(kRoundHalf);
  for (int t = 0; t < count; ++t) {
    int32_t bytes;
    std::memcpy(&bytes, p + t * 3, 4);
    const __m128i px = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(bytes));
    acc = _mm_add_epi32(acc, _mm_mullo_epi32(px, _mm_set1_epi32(w[t])));
  }
  // Clip8 on all lanes: shift, then saturate to 0..255 on the way down.
  const __m128i v = _mm_srai_epi32(acc, kPrecisionBits);
  const int32_t packed = _mm_cvtsi128_si32(_mm_packus_epi16(_mm_packs_epi32(v, v), _mm_setzero_si128()));
  std::memcpy(out, &packed, 3);
}
#endif

// Horizontal pass over `rows` rows of `src` (which ends at `src_end`): out
// row r, pixel i = the filtered pixels first[i] .. first[i] + count[i] - 1 of
// src row r. Channels are a template parameter so the tap loop has a fixed
// shape.
template <int C>
void HorizontalPass(const uint8_t* src, size_t src_stride, const uint8_t* src_end, int rows, const AxisFilter& f,
                    uint8_t* dst, size_t dst_stride) {
  const int n = static_cast<int>(f.first.size());
  for (int r = 0; r < rows; ++r) {
    const uint8_t* row = src + r * src_stride;
    uint8_t* out = dst + r * dst_stride;
    for (int i = 0; i < n; ++i) {
      const uint8_t* p = row + static_cast<size_t>(f.first[i]) * C;
      const int32_t* w = f.weights.data() + static_cast<size_t>(i) * f.taps;
      const int count = f.count[i];
#ifdef __SSE4_1__
      if (C == 3 && p + count * 3 + 1 <= src_end) {
        HorizontalPixelRgbSse(p, w, count, out + i * C);
        continue;
      }
#endif
      HorizontalPixel<C>(p, w, count, out + i * C);
    }
  }
}

// Vertical pass: out row i = sum over taps of src rows (first - row0 + t)
// times w[t], a whole row at a time so the inner loop streams and vectorises.
void VerticalPass(const uint8_t* src, size_t src_stride, int row0, int row_bytes, const AxisFilter& f, uint8_t* dst,
                  size_t dst_stride) {
  std::vector<int32_t> acc(row_bytes);
  const int n = static_cast<int>(f.first.size());
  for (int i = 0; i < n; ++i) {
    std::fill(acc.begin(), acc.end(), kRoundHalf);
    const int32_t* w = f.weights.data() + static_cast<size_t>(i) * f.taps;
    for (int t = 0; t < f.count[i]; ++t) {
      const uint8_t* s = src + static_cast<size_t>(f.first[i] - row0 + t) * src_stride;
      const int32_t wt = w[t];
      int32_t* a = acc.data();
      for (int x = 0; x < row_bytes; ++x) a[x] += s[x] * wt;
    }
    uint8_t* out = dst + static_cast<size_t>(i) * dst_stride;
    for (int x = 0; x < row_bytes; ++x) out[x] = Clip8(acc[x]);
  }
}

void RunHorizontal(const Plane& in, int row0, int rows, const AxisFilter& f, uint8_t* dst, size_t dst_stride) {
  const uint8_t* src = in.data + static_cast<size_t>(row0) * in.stride;
  const uint8_t* end = in.data + static_cast<size_t>(in.height) * in.stride;
  switch (in.channels) {
    case 1: return HorizontalPass<1>(src, in.stride, end, rows, f, dst, dst_stride);
    case 3: return HorizontalPass<3>(src, in.stride, end, rows, f, dst, dst_stride);
    default: throw Internal("resize: unsupported channel count " + std::to_string(in.channels));
  }
}

// The window [x0, x0 + w) x [y0, y0 + h) of PIL's resize of `in` to
// out_width x out_height, as w * h * channels bytes. Like Pillow, an axis
// whose size does not change gets no pass at all (not an identity filter).
std::vector<uint8_t> ResizeWindow(const Plane& in, int out_width, int out_height, int x0, int y0, int w, int h) {
  const int c = in.channels;
  const bool horizontal = out_width != in.width;
  const bool vertical = out_height != in.height;
  AxisFilter fy;
  int row0 = y0, row1 = y0 + h;  // source rows the vertical pass reads
  if (vertical) {
    fy = MakeAxisFilter(in.height, out_height, y0, y0 + h);
    row0 = *std::min_element(fy.first.begin(), fy.first.end());
    row1 = 0;
    for (int i = 0; i < h; ++i) row1 = std::max(row1, fy.first[i] + fy.count[i]);
  }
  // The horizontally resampled rows row0..row1, or the input itself.
  std::vector<uint8_t> temp;
  const uint8_t* mid = in.data + static_cast<size_t>(row0) * in.stride + static_cast<size_t>(x0) * c;
  size_t mid_stride = in.stride;
  if (horizontal) {
    AxisFilter fx = MakeAxisFilter(in.width, out_width, x0, x0 + w);
    mid_stride = static_cast<size_t>(w) * c;
    temp.resize(mid_stride * (row1 - row0));
    RunHorizontal(in, row0, row1 - row0, fx, temp.data(), mid_stride);
    mid = temp.data();
  }
  std::vector<uint8_t> out(static_cast<size_t>(w) * h * c);
  const size_t out_stride = static_cast<size_t>(w) * c;
  if (vertical) {
    VerticalPass(mid, mid_stride, row0, w * c, fy, out.data(), out_stride);
  } else {
    for (int y = 0; y < h; ++y) std::memcpy(out.data() + y * out_stride, mid + y * mid_stride, out_stride);
  }
  return out;
}

// Pillow's RGBA -> RGBa (rgbA2rgba): c * a / 255 rounded, via MULDIV255.
std::vector<uint8_t> Premultiply(const Image& in) {
  std::vector<uint8_t> out(in.rgb.size());
  const size_t pixels = in.alpha.size();
  for (size_t i = 0; i < pixels; ++i) {
    const uint32_t a = in.alpha[i];
    for (int c = 0; c < 3; ++c) {
      const uint32_t t = in.rgb[i * 3 + c] * a + 128;
      out[i * 3 + c] = static_cast<uint8_t>(((t >> 8) + t) >> 8);
    }
  }
  return out;
}

// Pillow 9.4's RGBa -> RGBA (rgba2rgbA): colour kept where alpha is 0 or
// 255, else 255 * c / a truncated and clipped.
void Unpremultiply(std::vector<uint8_t>& rgb, const std::vector<uint8_t>& alpha) {
  for (size_t i = 0; i < alpha.size(); ++i) {
    const uint32_t a = alpha[i];
    if (a == 0 || a == 255) continue;
    for (int c = 0; c < 3; ++c) rgb[i * 3 + c] = static_cast<uint8_t>(std::min<uint32_t>(255, 255 * rgb[i * 3 + c] / a));
  }
}

Plane PlaneOf(const uint8_t* data, int width, int height, int channels) {
  return Plane{data, static_cast<size_t>(width) * channels, width, height, channels};
}

// The window of PIL's resize of `in` (colour and, with keep_alpha, the alpha
// plane). An image with alpha goes through RGBa like PIL's RGBA, except that
// a resize to the same size is a plain copy, as in PIL.
Image ResizeImageWindow(const Image& in, int out_width, int out_height, int x0, int y0, int w, int h,
                        bool keep_alpha) {
  Image out;
  out.width = w;
  out.height = h;
  if (!in.has_alpha() || (out_width == in.width && out_height == in.height)) {
    out.rgb = ResizeWindow(PlaneOf(in.rgb.data(), in.width, in.height, 3), out_width, out_height, x0, y0, w, h);
    if (keep_alpha && in.has_alpha()) {
      out.alpha = ResizeWindow(PlaneOf(in.alpha.data(), in.width, in.height, 1), out_width, out_height, x0, y0, w, h);
    }
    return out;
  }
  // Pillow resamples every band of RGBa alike and independently, so colour
  // and alpha can go through separately.
  const std::vector<uint8_t> premultiplied = Premultiply(in);
  out.rgb = ResizeWindow(PlaneOf(premultiplied.data(), in.width, in.height, 3), out_width, out_height, x0, y0, w, h);
  std::vector<uint8_t> alpha =
      ResizeWindow(PlaneOf(in.alpha.data(), in.width, in.height, 1), out_width, out_height, x0, y0, w, h);
  Unpremultiply(out.rgb, alpha);
  if (keep_alpha) out.alpha = std::move(alpha);
  return out;
}

}  // namespace

Image ResizeBicubicPil(const Image& in, int width, int height) {
  CheckImage(in, "ResizeBicubicPil");
  CheckSize(width, height, "ResizeBicubicPil");
  return ResizeImageWindow(in, width, height, 0, 0, width, height, /*keep_alpha=*/true);
}

CenterCropGeometry ClipCenterCropGeometry(int width, int height, int size) {
  if (width <= 0 || height <= 0 || size <= 0) {
    throw InvalidArgument("ClipCenterCropGeometry: invalid sizes " + std::to_string(width) + "x" +
                          std::to_string(height) + " -> " + std::to_string(size));
  }
  // torchvision: new_long = int(size * long / short), a float division.
  const int shorter = std::min(width, height), longer = std::max(width, height);
  const double scaled = static_cast<double>(static_cast<int64_t>(size) * longer) / shorter;
  if (scaled >= 2147483647.0) throw InvalidArgument("ClipCenterCropGeometry: image too elongated to resize");
  const int new_long = static_cast<int>(scaled);
  CenterCropGeometry g;
  g.resized_width = width <= height ? size : new_long;
  g.resized_height = width <= height ? new_long : size;
  // int(round((H - size) / 2.0)): the halves are exact, and nearbyint
  // rounds them to even like Python's round().
  g.left = static_cast<int>(std::nearbyint((g.resized_width - size) / 2.0));
  g.top = static_cast<int>(std::nearbyint((g.resized_height - size) / 2.0));
  return g;
}

Image ResizeShorterSideAndCenterCrop(const Image& in, int size) {
  CheckImage(in, "ResizeShorterSideAndCenterCrop");
  CheckSize(size, size, "ResizeShorterSideAndCenterCrop");
  const CenterCropGeometry g = ClipCenterCropGeometry(in.width, in.height, size);
  return ResizeImageWindow(in, g.resized_width, g.resized_height, g.left, g.top, size, size, /*keep_alpha=*/false);
}

Image ResizeStretch(const Image& in, int size) {
  CheckImage(in, "ResizeStretch");
  CheckSize(size, size, "ResizeStretch");
  return ResizeImageWindow(in, size, size, 0, 0, size, size, /*keep_alpha=*/false);
}

void NormalizeToChw(const Image& in, const std::array<float, 3>& mean, const std::array<float, 3>& std, float* out) {
  CheckImage(in, "NormalizeToChw");
  if (out == nullptr) throw InvalidArgument("NormalizeToChw: null output");
  if (std[0] == 0.0f || std[1] == 0.0f || std[2] == 0.0f) throw InvalidArgument("NormalizeToChw: std must not be 0");
  const size_t pixels = static_cast<size_t>(in.width) * in.height;
  for (int c = 0; c < 3; ++c) {
    // Per-byte table: ToTensor's float32 v / 255 (a true division, not a
    // multiplication by 1/255, which differs in the last bit for some v),
    // then Normalize's (x - mean) / std, also in float32.
    float table[256];
    for (int v = 0; v < 256; ++v) table[v] = (static_cast<float>(v) / 255.0f - mean[c]) / std[c];
    float* plane = out + c * pixels;
    const uint8_t* src = in.rgb.data() + c;
    for (size_t i = 0; i < pixels; ++i) plane[i] = table[src[i * 3]];
  }
}

}  // namespace fo::internal
