// Reduced-precision scan + exact re-rank (see quantized_knn.h).
//
// The scan. Every storage is read as "value_j = scale_j * code_j + offset_j"
// (scale 1, offset 0 for float16/float32), so one query reduces to two
// per-dimension vectors and one kernel shape per kind of distance:
//   dot kinds:  <q, x> = bias + sum_j w_j code_j,   w = q * scale, bias = <q, offset>
//   euclidean:  |x - q|^2 = sum_j (scale_j code_j + (offset_j - q_j))^2
// The euclidean form is computed directly rather than as |q|^2 + |x|^2 -
// 2<q,x>: it needs no stored norms and, for the near rows that matter, its
// rounding error shrinks with the distance instead of growing with |q|.
//
// Speed: the AVX2 int8 loop is 4 x (widen-load, convert, fused multiply-add
// with a load) per 32 codes, about 3 cycles, so two cores could consume codes
// faster than memory delivers them. Measured at 1M x 512 on the shared 2-CPU
// EPYC (load average 5-7 from other builds, so every figure is inflated):
// int8 scan + re-rank 52-84 ms per query against 132-258 ms for float32
// ExactKnn, i.e. 0.5-0.85 s for the 5 GB of codes at 10M rows.
//
// Scalar and AVX2 kernels agree bit for bit: the scalar one keeps the same 32
// lane accumulators, updates them with std::fma in the same order, and both
// reduce the lanes with the same scalar function. That lets the tests demand
// identical candidate lists, and the fallback give the same answers.
//
// Candidate count, measured with bench/quantized_search_bench (1M x 512,
// k = 10, 100 queries each on uniform and clustered data, all three metrics):
// the worst approximate rank of any true top-10 row was 19 for int8 and 11 for
// float16, and all 600 int8 answers equalled ExactKnn's. max(4k, k + 100) =
// 110 candidates leaves a 5x margin for data with denser near-ties (real
// embeddings, more rows); the re-rank of 110 rows costs about 0.2 ms.
#include "similarity/quantized_knn.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "fo/error.h"
#include "similarity/knn_select.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FO_QUANTIZED_X86 1
// The library is built for x86-64-v2, so these kernels are compiled per
// function and chosen at run time.
#define FO_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

namespace fo::internal {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// Bytes of codes per work item of the scan: small enough that two workers
// finish together, large enough that the shared counter is not contended.
constexpr size_t kScanBlockBytes = 64 * 1024;
// Rows per work item of EncodeRows (and the size of its per-thread buffers).
constexpr size_t kEncodeBlockRows = 256;
// Values a worker must have before another thread is worth starting (a
// thread costs tens of microseconds; the scan reads about 10 values a ns).
constexpr double kMinValuesPerWorker = 1 << 19;

std::atomic<bool> g_force_scalar{false};

bool CpuHasAvx2() {
#ifdef FO_QUANTIZED_X86
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }();
  return has;
#else
  return false;
#endif
}

bool UseAvx2() { return CpuHasAvx2() && !g_force_scalar.load(std::memory_order_relaxed); }

int WorkerCount(double values) {
  // Cached: hardware_concurrency() reads /sys on every call.
  static const int hw = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return std::min(hw, static_cast<int>(std::max(1.0, values / kMinValuesPerWorker)));
}

// Runs fn(worker, first, count) over [0, n) in blocks of `block` on
// `workers` threads. Blocks are taken in increasing order from a shared
// counter, so each worker sees its rows in increasing order (as TopK
// requires) and a core slowed by other load does not hold the others back.
template <typename Fn>
void ForEachBlock(size_t n, size_t block, int workers, Fn&& fn) {
  const size_t blocks = (n + block - 1) / block;
  std::atomic<size_t> next{0};
  RunWorkers(workers, [&](int w) {
    for (size_t b = next.fetch_add(1); b < blocks; b = next.fetch_add(1)) {
      const size_t first = b * block;
      fn(w, first, std::min(block, n - first));
    }
  });
}

// ---------------------------------------------------------------------------
// float16.

// Round to nearest even by integer arithmetic on the float's bits (after
// F. Giesen's float_to_half_fast3_rtne), NaN payloads kept as F16C keeps them.
uint16_t FloatToHalf(float value) {
  uint32_t f = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((f >> 16) & 0x8000u);
  f &= 0x7fffffffu;
  uint32_t h;
  if (f >= (127u + 16u) << 23) {  // |value| >= 2^16, inf or NaN
    h = f > 0x7f800000u ? 0x7e00u | ((f >> 13) & 0x3ffu) : 0x7c00u;
  } else if (f < 113u << 23) {  // below the smallest normal half: subnormal or zero
    // Adding 0.5 aligns the 10 mantissa bits at the bottom of the float; the
    // FPU's own round-to-nearest-even does the rounding.
    const uint32_t magic = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    h = std::bit_cast<uint32_t>(std::bit_cast<float>(f) + std::bit_cast<float>(magic)) - magic;
  } else {
    const uint32_t mantissa_odd = (f >> 13) & 1u;
    f += ((15u - 127u) << 23) + 0xfffu + mantissa_odd;  // rebias, round; a carry may reach inf
    h = f >> 13;
  }
  return static_cast<uint16_t>(h | sign);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  uint32_t f;
  if (exponent == 0x1f) {
    f = 0x7f800000u | (mantissa << 13) | (mantissa != 0 ? 0x400000u : 0u);  // NaN comes out quiet, as with F16C
  } else if (exponent == 0) {
    f = std::bit_cast<uint32_t>(static_cast<float>(mantissa) * 0x1p-24f);  // subnormal or zero: exact
  } else {
    f = ((exponent + 112u) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(f | sign);
}

void EncodeFloat16Portable(const float* x, size_t count, uint16_t* out) {
  for (size_t i = 0; i < count; ++i) out[i] = FloatToHalf(x[i]);
}

#ifdef FO_QUANTIZED_X86
FO_AVX2 void EncodeFloat16F16c(const float* x, size_t count, uint16_t* out) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  EncodeFloat16Portable(x + i, count - i, out + i);
}
#endif

// ---------------------------------------------------------------------------
// Scan kernels.
//
// ScoreRows writes out[i] = the kind's sum (see the top of the file) for rows
// with allowed[i] != 0 (all rows if allowed is null), leaving others as they
// were. a = w (dot kinds) or scale (euclidean); b = offset - q (euclidean
// only; unused otherwise).
using ScoreRowsFn = void (*)(const uint8_t* codes, size_t rows, size_t d, const float* a, const float* b,
                             const uint8_t* allowed, float* out);

// The lane reduction both kernels end with, in the order of
// exact_knn.cc's HorizontalSum.
inline float Reduce8(const float lanes[8]) {
  const float t0 = lanes[0] + lanes[4], t1 = lanes[1] + lanes[5], t2 = lanes[2] + lanes[6], t3 = lanes[3] + lanes[7];
  return (t0 + t2) + (t1 + t3);
}

template <VectorStorage S>
inline float LoadValue(const uint8_t* row, size_t j) {
  if constexpr (S == VectorStorage::kInt8) {
    return static_cast<float>(row[j]);
  } else if constexpr (S == VectorStorage::kFloat16) {
    uint16_t h;
    std::memcpy(&h, row + 2 * j, sizeof(h));
    return HalfToFloat(h);
  } else {
    float v;
    std::memcpy(&v, row + 4 * j, sizeof(v));
    return v;
  }
}

template <bool kL2>
inline float Accumulate(float acc, float x, const float* a, const float* b, size_t j) {
  if constexpr (kL2) {
    const float diff = std::fma(x, a[j], b[j]);
    return std::fma(diff, diff, acc);
  } else {
    return std::fma(x, a[j], acc);
  }
}

// The AVX2 kernel's arithmetic, one lane at a time: accumulator r, lane l
// takes values j + 8r + l of each 32; the 8-value tail goes to accumulator 0;
// the last d % 8 values are added after the reduction.
template <VectorStorage S, bool kL2>
float RowSumScalar(const uint8_t* row, size_t d, const float* a, const float* b) {
  float acc[4][8] = {};
  size_t j = 0;
  for (; j + 32 <= d; j += 32) {
    for (size_t r = 0; r < 4; ++r) {
      for (size_t l = 0; l < 8; ++l) {
        const size_t i = j + 8 * r + l;
        acc[r][l] = Accumulate<kL2>(acc[r][l], LoadValue<S>(row, i), a, b, i);
      }
    }
  }
  for (; j + 8 <= d; j += 8) {
    for (size_t l = 0; l < 8; ++l) acc[0][l] = Accumulate<kL2>(acc[0][l], LoadValue<S>(row, j + l), a, b, j + l);
  }
  float lanes[8];
  for (size_t l = 0; l < 8; ++l) lanes[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
  float s = Reduce8(lanes);
  for (; j < d; ++j) s = Accumulate<kL2>(s, LoadValue<S>(row, j), a, b, j);
  return s;
}

template <VectorStorage S, bool kL2>
void ScoreRowsScalar(const uint8_t* codes, size_t rows, size_t d, const float* a, const float* b,
                     const uint8_t* allowed, float* out) {
  const size_t row_bytes = CodeBytesPerRow(S, d);
  for (size_t i = 0; i < rows; ++i) {
    if (allowed == nullptr || allowed[i]) out[i] = RowSumScalar<S, kL2>(codes + i * row_bytes, d, a, b);
  }
}

#ifdef FO_QUANTIZED_X86
template <VectorStorage S>
FO_AVX2 inline __m256 Load8(const uint8_t* row, size_t j) {
  if constexpr (S == VectorStorage::kInt8) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + j))));
  } else if constexpr (S == VectorStorage::kFloat16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * j)));
  } else {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row + 4 * j));
  }
}

template <bool kL2>
FO_AVX2 inline __m256 Accumulate8(__m256 acc, __m256 x, const float* a, const float* b, size_t j) {
  if constexpr (kL2) {
    const __m256 diff = _mm256_fmadd_ps(x, _mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j));
    return _mm256_fmadd_ps(diff, diff, acc);
  } else {
    return _mm256_fmadd_ps(x, _mm256_loadu_ps(a + j), acc);
  }
}

template <VectorStorage S, bool kL2>
FO_AVX2 inline float RowSumAvx2(const uint8_t* row, size_t d, const float* a, const float* b) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t j = 0;
  for (; j + 32 <= d; j += 32) {
    a0 = Accumulate8<kL2>(a0, Load8<S>(row, j), a, b, j);
    a1 = Accumulate8<kL2>(a1, Load8<S>(row, j + 8), a, b, j + 8);
    a2 = Accumulate8<kL2>(a2, Load8<S>(row, j + 16), a, b, j + 16);
    a3 = Accumulate8<kL2>(a3, Load8<S>(row, j + 24), a, b, j + 24);
  }
  for (; j + 8 <= d; j += 8) a0 = Accumulate8<kL2>(a0, Load8<S>(row, j), a, b, j);
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float s = Reduce8(lanes);
  for (; j < d; ++j) s = Accumulate<kL2>(s, LoadValue<S>(row, j), a, b, j);
  return s;
}

template <VectorStorage S, bool kL2>
FO_AVX2 void ScoreRowsAvx2(const uint8_t* codes, size_t rows, size_t d, const float* a, const float* b,
                           const uint8_t* allowed, float* out) {
  const size_t row_bytes = CodeBytesPerRow(S, d);
  for (size_t i = 0; i < rows; ++i) {
    if (allowed == nullptr || allowed[i]) out[i] = RowSumAvx2<S, kL2>(codes + i * row_bytes, d, a, b);
  }
}
#endif  // FO_QUANTIZED_X86

template <VectorStorage S, bool kL2>
ScoreRowsFn PickFor() {
#ifdef FO_QUANTIZED_X86
  if (UseAvx2()) return ScoreRowsAvx2<S, kL2>;
#endif
  return ScoreRowsScalar<S, kL2>;
}

ScoreRowsFn PickScoreRows(VectorStorage storage, bool l2) {
  switch (storage) {
    case VectorStorage::kInt8:
      return l2 ? PickFor<VectorStorage::kInt8, true>() : PickFor<VectorStorage::kInt8, false>();
    case VectorStorage::kFloat16:
      return l2 ? PickFor<VectorStorage::kFloat16, true>() : PickFor<VectorStorage::kFloat16, false>();
    case VectorStorage::kFloat32:
      break;
  }
  return l2 ? PickFor<VectorStorage::kFloat32, true>() : PickFor<VectorStorage::kFloat32, false>();
}

// ---------------------------------------------------------------------------
// One query's terms, and sums to selection keys (knn_select.h's convention).

struct QueryTerms {
  Metric metric;
  bool reverse;
  std::vector<float> a, b;  // see ScoreRowsFn
  float bias = 0;           // dot kinds: <q, offset>
};

QueryTerms MakeQueryTerms(const CodeMatrix& codes, const float* query, Metric metric, bool reverse) {
  const size_t d = codes.d;
  QueryTerms t{metric, reverse, {}, {}, 0.0f};
  std::vector<float> q(query, query + d);
  if (metric == Metric::kCosine) NormalizeRows(q.data(), 1, d, q.data());
  std::vector<float> scale(d, 1.0f), offset(d, 0.0f);
  if (codes.storage == VectorStorage::kInt8) {
    scale = codes.quantizer->scales();
    offset = codes.quantizer->offsets();
  }
  if (metric == Metric::kEuclidean) {
    t.a = scale;
    t.b.resize(d);
    for (size_t j = 0; j < d; ++j) t.b[j] = offset[j] - q[j];
  } else {
    t.a.resize(d);
    double bias = 0;
    for (size_t j = 0; j < d; ++j) {
      t.a[j] = q[j] * scale[j];
      bias += static_cast<double>(q[j]) * offset[j];
    }
    t.bias = static_cast<float>(bias);
  }
  return t;
}

void SumsToKeys(const QueryTerms& t, float* v, size_t rows) {
  const float sign = t.reverse ? -1.0f : 1.0f;
  for (size_t i = 0; i < rows; ++i) {
    float dist = v[i];  // euclidean: squared, same order
    if (t.metric == Metric::kDotProduct) dist = -(t.bias + v[i]);
    if (t.metric == Metric::kCosine) dist = 1.0f - (t.bias + v[i]);
    v[i] = dist == dist ? sign * dist : kInf;
  }
}

void CheckCodes(const CodeMatrix& codes) {
  if (codes.storage == VectorStorage::kInt8 && (codes.quantizer == nullptr || codes.quantizer->dim() != codes.d)) {
    throw InvalidArgument("int8 codes need a quantizer of dimension " + std::to_string(codes.d));
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Names.

VectorStorage ParseVectorStorage(const std::string& name) {
  for (VectorStorage s : {VectorStorage::kFloat32, VectorStorage::kFloat16, VectorStorage::kInt8}) {
    if (name == StorageName(s)) return s;
  }
  throw InvalidArgument("unsupported storage '" + name + "'; use float32, float16 or int8");
}

const char* StorageName(VectorStorage storage) {
  switch (storage) {
    case VectorStorage::kFloat32:
      return "float32";
    case VectorStorage::kFloat16:
      return "float16";
    case VectorStorage::kInt8:
      return "int8";
  }
  return "?";
}

size_t CodeBytesPerRow(VectorStorage storage, size_t d) {
  switch (storage) {
    case VectorStorage::kFloat32:
      return 4 * d;
    case VectorStorage::kFloat16:
      return 2 * d;
    case VectorStorage::kInt8:
      return d;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Encoding.

void EncodeFloat16(const float* x, size_t count, uint16_t* out) {
#ifdef FO_QUANTIZED_X86
  if (UseAvx2()) return EncodeFloat16F16c(x, count, out);
#endif
  EncodeFloat16Portable(x, count, out);
}

void DecodeFloat16(const uint16_t* h, size_t count, float* out) {
  // Not on a hot path (the scan converts in registers), so one version.
  for (size_t i = 0; i < count; ++i) out[i] = HalfToFloat(h[i]);
}

void NormalizeRows(const float* x, size_t n, size_t d, float* out) {
  std::vector<float> norms(n);
  RowNorms(x, n, d, norms.data());
  for (size_t i = 0; i < n; ++i) {
    const float norm = norms[i];
    for (size_t j = 0; j < d; ++j) out[i * d + j] = norm > 0 ? x[i * d + j] / norm : x[i * d + j];
  }
}

ScalarQuantizer::ScalarQuantizer(std::vector<float> offset, std::vector<float> scale)
    : offset_(std::move(offset)), scale_(std::move(scale)), inv_scale_(scale_.size()) {
  for (size_t j = 0; j < scale_.size(); ++j) inv_scale_[j] = scale_[j] > 0 ? 1.0f / scale_[j] : 0.0f;
}

ScalarQuantizer ScalarQuantizer::Train(size_t n, size_t d, Metric metric, const RowFn& row, size_t max_sample) {
  std::vector<float> lo(d, kInf), hi(d, -kInf), unit(metric == Metric::kCosine ? d : 0);
  const size_t m = std::min(n, std::max<size_t>(max_sample, 1));
  for (size_t s = 0; s < m; ++s) {
    const float* x = row(s * n / m);  // evenly spaced, first row included
    if (metric == Metric::kCosine) {
      NormalizeRows(x, 1, d, unit.data());
      x = unit.data();
    }
    for (size_t j = 0; j < d; ++j) {
      if (!std::isfinite(x[j])) continue;
      lo[j] = std::min(lo[j], x[j]);
      hi[j] = std::max(hi[j], x[j]);
    }
  }
  std::vector<float> offset(d, 0.0f), scale(d, 0.0f);
  for (size_t j = 0; j < d; ++j) {
    if (lo[j] > hi[j]) continue;  // no finite value seen
    offset[j] = lo[j];
    // In double: hi - lo can exceed FLT_MAX, its 255th cannot.
    scale[j] = static_cast<float>((static_cast<double>(hi[j]) - lo[j]) / 255.0);
  }
  return ScalarQuantizer(std::move(offset), std::move(scale));
}

ScalarQuantizer ScalarQuantizer::Train(const float* x, size_t n, size_t d, Metric metric, size_t max_sample) {
  return Train(n, d, metric, [&](size_t i) { return x + i * d; }, max_sample);
}

std::vector<float> ScalarQuantizer::ToFlat() const {
  std::vector<float> flat(offset_);
  flat.insert(flat.end(), scale_.begin(), scale_.end());
  return flat;
}

ScalarQuantizer ScalarQuantizer::FromFlat(const float* flat, size_t count) {
  if (count == 0 || count % 2 != 0) {
    throw Corruption("int8 quantizer: expected 2 x dimension values, got " + std::to_string(count));
  }
  const size_t d = count / 2;
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(flat[i]) || (i >= d && flat[i] < 0)) {
      throw Corruption("int8 quantizer: bad " + std::string(i < d ? "offset" : "scale") + " " +
                       std::to_string(flat[i]) + " for dimension " + std::to_string(i % d));
    }
  }
  return ScalarQuantizer(std::vector<float>(flat, flat + d), std::vector<float>(flat + d, flat + count));
}

void ScalarQuantizer::Encode(const float* x, size_t n, uint8_t* codes) const {
  const size_t d = dim();
  // Raw pointers: stores through uint8_t* may alias anything, so reading the
  // vectors' members inside the loop would reload them on every value.
  const float* __restrict offset = offset_.data();
  const float* __restrict inv_scale = inv_scale_.data();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) {
      float t = (x[i * d + j] - offset[j]) * inv_scale[j];
      t = t > 0.0f ? t : 0.0f;  // also NaN -> 0
      t = t < 255.0f ? t : 255.0f;
      codes[i * d + j] = static_cast<uint8_t>(t + 0.5f);
    }
  }
}

void ScalarQuantizer::Decode(const uint8_t* codes, size_t n, float* out) const {
  const size_t d = dim();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) out[i * d + j] = offset_[j] + scale_[j] * static_cast<float>(codes[i * d + j]);
  }
}

void EncodeRows(VectorStorage storage, const ScalarQuantizer* quantizer, Metric metric, const float* x, size_t n,
                size_t d, uint8_t* codes) {
  CheckCodes({storage, codes, n, d, quantizer, {}});
  const size_t row_bytes = CodeBytesPerRow(storage, d);
  const int workers = WorkerCount(static_cast<double>(n) * d);
  // Buffers per worker, allocated once: a fresh vector per block (hundreds of
  // KiB, so a fresh mmap) cost more in page faults than the encoding itself.
  const size_t values = kEncodeBlockRows * d;
  std::vector<std::vector<float>> unit(workers, std::vector<float>(metric == Metric::kCosine ? values : 0));
  std::vector<std::vector<uint16_t>> half(workers,
                                          std::vector<uint16_t>(storage == VectorStorage::kFloat16 ? values : 0));
  ForEachBlock(n, kEncodeBlockRows, workers, [&](int w, size_t first, size_t rows) {
    const float* src = x + first * d;
    if (metric == Metric::kCosine) {
      NormalizeRows(src, rows, d, unit[w].data());
      src = unit[w].data();
    }
    uint8_t* dst = codes + first * row_bytes;
    switch (storage) {
      case VectorStorage::kFloat32:
        std::memcpy(dst, src, rows * row_bytes);
        break;
      case VectorStorage::kFloat16:
        // Through a buffer: `codes` (a file mapping past a header) need not
        // be 2-byte aligned.
        EncodeFloat16(src, rows * d, half[w].data());
        std::memcpy(dst, half[w].data(), rows * row_bytes);
        break;
      case VectorStorage::kInt8:
        quantizer->Encode(src, rows, dst);
        break;
    }
  });
}

// ---------------------------------------------------------------------------
// Search.

size_t CandidateCount(size_t k) { return std::max(4 * k, k + 100); }

std::vector<int64_t> CandidateSearch(const CodeMatrix& codes, const float* query, Metric metric, bool reverse,
                                     const uint8_t* allowed, size_t n_candidates) {
  CheckCodes(codes);
  const size_t n = codes.n, d = codes.d;
  if (n == 0 || n_candidates == 0) return {};
  const QueryTerms t = MakeQueryTerms(codes, query, metric, reverse);
  const ScoreRowsFn score = PickScoreRows(codes.storage, metric == Metric::kEuclidean);
  const size_t row_bytes = CodeBytesPerRow(codes.storage, d);
  const size_t block = std::max<size_t>(16, kScanBlockBytes / std::max<size_t>(row_bytes, 1));
  const int workers = WorkerCount(static_cast<double>(n) * d);
  std::vector<TopK> tops(workers, TopK(std::min(n_candidates, n)));
  std::vector<std::vector<float>> keys(workers, std::vector<float>(block, 0.0f));
  std::vector<std::vector<uint8_t>> buffers(workers);
  const RowSource source{codes.codes, codes.read, row_bytes};
  ForEachBlock(n, block, workers, [&](int w, size_t first, size_t rows) {
    const uint8_t* mask = allowed == nullptr ? nullptr : allowed + first;
    if (mask != nullptr && std::all_of(mask, mask + rows, [](uint8_t a) { return a == 0; })) return;
    float* block_keys = keys[w].data();
    score(source.Rows(first, rows, buffers[w]), rows, d, t.a.data(), t.b.data(), mask, block_keys);
    SumsToKeys(t, block_keys, rows);
    tops[w].OfferBlock(block_keys, rows, static_cast<int64_t>(first), mask);
  });

  std::vector<Hit> all;
  for (TopK& top : tops) all.insert(all.end(), top.hits().begin(), top.hits().end());
  const size_t m = std::min(n_candidates, all.size());
  std::partial_sort(all.begin(), all.begin() + m, all.end(), Before);
  std::vector<int64_t> rows(m);
  for (size_t i = 0; i < m; ++i) rows[i] = all[i].index;
  return rows;
}

void ReRank(std::span<const int64_t> candidates, size_t d, const RowFetcher& fetch, const float* query,
            Metric metric, bool reverse, size_t k, int64_t* out_index, float* out_dist) {
  if (k == 0) return;
  float query_norm = 0.0f;
  RowNorms(query, 1, d, &query_norm);
  std::vector<int64_t> rows(candidates.begin(), candidates.end());
  std::sort(rows.begin(), rows.end());  // sequential reads of the float32 file
  std::vector<Hit> hits;
  hits.reserve(rows.size());
  for (int64_t r : rows) {
    const float* x = fetch(r);
    // Cosine's row norm as RowNorms computes it for ExactKnn's base_norms.
    float row_norm = 0.0f;
    if (metric == Metric::kCosine) RowNorms(x, 1, d, &row_norm);
    hits.push_back({ExactKey(query, query_norm, x, row_norm, d, metric, reverse), r});
  }
  const size_t m = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + m, hits.end(), Before);
  for (size_t j = 0; j < k; ++j) {
    out_index[j] = j < m ? hits[j].index : -1;
    const float key = j < m ? hits[j].key : kInf;
    out_dist[j] = reverse ? -key : key;
  }
}

void QuantizedKnn(const CodeMatrix& codes, const RowFetcher& fetch, const float* query, size_t k, Metric metric,
                  bool reverse, const uint8_t* allowed, int64_t* out_index, float* out_dist, size_t n_candidates) {
  const size_t count = n_candidates > 0 ? n_candidates : CandidateCount(k);
  const std::vector<int64_t> candidates = CandidateSearch(codes, query, metric, reverse, allowed, count);
  ReRank(candidates, codes.d, fetch, query, metric, reverse, k, out_index, out_dist);
}

const char* ScanKernelName() { return UseAvx2() ? "avx2" : "scalar"; }

void ForceScalarKernelsForTesting(bool force) { g_force_scalar.store(force, std::memory_order_relaxed); }

}  // namespace fo::internal
