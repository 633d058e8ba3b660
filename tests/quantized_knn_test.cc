// QuantizedKnn against independent references: a brute-force top-k in double
// precision (recall), ExactKnn (bit-identical distances once the true rows
// are among the candidates), an exhaustive float16 table built from the
// format's definition, and the scalar kernels against the AVX2 ones.
#include "similarity/quantized_knn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "fo/error.h"
#include "knn_reference.h"

namespace fo::internal {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr Metric kMetrics[] = {Metric::kCosine, Metric::kDotProduct, Metric::kEuclidean};

// Restores the run-time kernel choice however a test ends.
class ScalarKernels {
 public:
  ScalarKernels() { ForceScalarKernelsForTesting(true); }
  ~ScalarKernels() { ForceScalarKernelsForTesting(false); }
};

// ---------------------------------------------------------------------------
// Data.

struct Matrix {
  std::vector<float> x;
  size_t n = 0, d = 0;
  const float* row(size_t i) const { return x.data() + i * d; }
};

Matrix Gaussian(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Matrix m{std::vector<float>(n * d), n, d};
  for (float& v : m.x) v = normal(rng);
  return m;
}

// Rows around `centres` random centres (spread 0.3 against 1 between centres)
// and off the origin, so the three metrics rank differently and many rows
// are near-ties.
Matrix Clustered(size_t n, size_t d, size_t centres, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Matrix c = Gaussian(centres, d, seed + 1);
  Matrix m{std::vector<float>(n * d), n, d};
  for (size_t i = 0; i < n; ++i) {
    const float* centre = c.row(rng() % centres);
    for (size_t j = 0; j < d; ++j) m.x[i * d + j] = 0.5f + centre[j] + 0.3f * normal(rng);
  }
  return m;
}

// Half of the queries near data rows, half drawn like fresh rows.
Matrix Queries(const Matrix& base, size_t nq, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Matrix q{std::vector<float>(nq * base.d), nq, base.d};
  for (size_t i = 0; i < nq; ++i) {
    const float* near = base.row(rng() % base.n);
    const float* other = base.row(rng() % base.n);
    for (size_t j = 0; j < base.d; ++j) {
      q.x[i * base.d + j] = i % 2 == 0 ? near[j] + 0.1f * normal(rng) : other[j] + normal(rng);
    }
  }
  return q;
}

// ---------------------------------------------------------------------------
// References.

std::vector<int64_t> RefTopK(const Matrix& base, const float* q, size_t k, Metric metric, bool reverse,
                             const uint8_t* allowed) {
  std::vector<std::pair<double, int64_t>> all;
  for (size_t i = 0; i < base.n; ++i) {
    if (allowed != nullptr && !allowed[i]) continue;
    const double dist = RefDistance(q, base.row(i), base.d, metric);
    all.push_back({reverse ? -dist : dist, static_cast<int64_t>(i)});
  }
  const size_t m = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + m, all.end());
  std::vector<int64_t> top(m);
  for (size_t i = 0; i < m; ++i) top[i] = all[i].second;
  return top;
}

struct Answer {
  std::vector<int64_t> index;
  std::vector<float> dist;
};

Answer Exact(const Matrix& base, const float* q, size_t k, Metric metric, bool reverse, const uint8_t* allowed) {
  Answer r{std::vector<int64_t>(k), std::vector<float>(k)};
  ExactKnn(base.x.data(), nullptr, base.n, base.d, q, 1, k, metric, reverse, allowed, r.index.data(), r.dist.data());
  return r;
}

// ---------------------------------------------------------------------------
// What is searched.

struct Encoded {
  VectorStorage storage;
  ScalarQuantizer quantizer;
  std::vector<uint8_t> codes;
  CodeMatrix view(const Matrix& base) const { return {storage, codes.data(), base.n, base.d, &quantizer, {}}; }
};

Encoded Encode(const Matrix& base, VectorStorage storage, Metric metric) {
  Encoded e{storage, ScalarQuantizer::Train(base.x.data(), base.n, base.d, metric), {}};
  e.codes.resize(base.n * CodeBytesPerRow(storage, base.d));
  EncodeRows(storage, &e.quantizer, metric, base.x.data(), base.n, base.d, e.codes.data());
  return e;
}

Answer Quantized(const Matrix& base, const Encoded& e, const float* q, size_t k, Metric metric, bool reverse,
               const uint8_t* allowed, size_t n_candidates = 0) {
  Answer r{std::vector<int64_t>(k), std::vector<float>(k)};
  QuantizedKnn(e.view(base), [&](int64_t i) { return base.row(static_cast<size_t>(i)); }, q, k, metric, reverse,
               allowed, r.index.data(), r.dist.data(), n_candidates);
  return r;
}

std::string Label(VectorStorage s, Metric m, bool reverse) {
  return std::string(StorageName(s)) + " " + MetricName(m) + (reverse ? " reverse" : "");
}

// ---------------------------------------------------------------------------
// Names.

TEST(VectorStorageTest, NamesRoundTrip) {
  for (VectorStorage s : {VectorStorage::kFloat32, VectorStorage::kFloat16, VectorStorage::kInt8}) {
    EXPECT_EQ(ParseVectorStorage(StorageName(s)), s);
  }
  EXPECT_EQ(CodeBytesPerRow(VectorStorage::kFloat32, 512), 2048u);
  EXPECT_EQ(CodeBytesPerRow(VectorStorage::kFloat16, 512), 1024u);
  EXPECT_EQ(CodeBytesPerRow(VectorStorage::kInt8, 512), 512u);
}

TEST(VectorStorageTest, BadNameIsOneLine) {
  for (const std::string bad : {"int4", "", "Float16", "fp16"}) {
    try {
      ParseVectorStorage(bad);
      ADD_FAILURE() << "no error for '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_EQ(std::string(e.what()), "unsupported storage '" + bad + "'; use float32, float16 or int8");
    }
  }
}

// ---------------------------------------------------------------------------
// float16 against its definition: value = (-1)^s 2^(e-15) (1 + m/1024),
// subnormals 2^-14 (m/1024); round to nearest, ties to the even code.

double HalfValue(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (e == 0x1f) return m == 0 ? sign * HUGE_VAL : std::nan("");
  if (e == 0) return sign * std::ldexp(m / 1024.0, -14);
  return sign * std::ldexp(1.0 + m / 1024.0, e - 15);
}

uint16_t RefHalf(float f) {
  if (std::isnan(f)) return 0x7e00;  // any NaN: compared by class below
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7c00;  // halfway past 65504 and beyond: inf
  // Non-negative finite codes 0..0x7bff increase with their value.
  uint16_t lo = 0, hi = 0x7bff;
  while (lo < hi) {  // first code whose value >= a
    const uint16_t mid = static_cast<uint16_t>((lo + hi) / 2);
    if (HalfValue(mid) >= a) {
      hi = mid;
    } else {
      lo = static_cast<uint16_t>(mid + 1);
    }
  }
  uint16_t best = lo;
  if (lo > 0) {
    const double below = a - HalfValue(lo - 1), above = HalfValue(lo) - a;
    if (below < above || (below == above && (lo - 1) % 2 == 0)) best = static_cast<uint16_t>(lo - 1);
  }
  return sign | best;
}

std::vector<float> Float16Probes() {
  std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.99f, 65520.0f, 1e30f, -kInf, kInf,
                          std::ldexp(1.0f, -24), std::ldexp(1.0f, -25), std::ldexp(1.5f, -25), std::ldexp(1.0f, -14),
                          1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11), 1e-10f,
                          std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::signaling_NaN(), std::numeric_limits<float>::denorm_min()};
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    // Any bit pattern with an exponent near half's range: normals,
    // subnormals, ties and overflow all get hit.
    uint32_t bits = static_cast<uint32_t>(rng());
    const uint32_t exponent = 127 - 28 + rng() % 46;
    bits = (bits & 0x807fffffu) | (exponent << 23);
    if (i % 4 == 0) bits &= ~0x0fffu;  // exact halves and exact ties
    v.push_back(std::bit_cast<float>(bits));
  }
  return v;
}

void ExpectFloat16MatchesDefinition() {
  const std::vector<float> probes = Float16Probes();
  std::vector<uint16_t> half(probes.size());
  EncodeFloat16(probes.data(), probes.size(), half.data());
  size_t bad = 0;
  for (size_t i = 0; i < probes.size(); ++i) {
    const uint16_t want = RefHalf(probes[i]);
    const bool ok = std::isnan(probes[i]) ? std::isnan(HalfValue(half[i])) : half[i] == want;
    if (!ok && ++bad <= 5) {
      ADD_FAILURE() << "float16(" << probes[i] << " = 0x" << std::hex << std::bit_cast<uint32_t>(probes[i])
                    << ") = 0x" << half[i] << ", want 0x" << want;
    }
  }
  EXPECT_EQ(bad, 0u);
}

TEST(Float16Test, EncodeMatchesDefinition) {
  SCOPED_TRACE(ScanKernelName());
  ExpectFloat16MatchesDefinition();
}

TEST(Float16Test, PortableEncodeMatchesDefinition) {
  ScalarKernels scalar;
  ExpectFloat16MatchesDefinition();
}

TEST(Float16Test, EncodersAgreeBitForBit) {
  const std::vector<float> probes = Float16Probes();
  std::vector<uint16_t> fast(probes.size()), portable(probes.size());
  EncodeFloat16(probes.data(), probes.size(), fast.data());
  {
    ScalarKernels scalar;
    EncodeFloat16(probes.data(), probes.size(), portable.data());
  }
  EXPECT_EQ(fast, portable);  // NaN payloads included
}

TEST(Float16Test, DecodesEveryCode) {
  std::vector<uint16_t> all(65536);
  std::iota(all.begin(), all.end(), 0);
  std::vector<float> out(all.size());
  DecodeFloat16(all.data(), all.size(), out.data());
  for (size_t h = 0; h < all.size(); ++h) {
    const double want = HalfValue(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(out[h])) << h;
    } else {
      ASSERT_EQ(static_cast<double>(out[h]), want) << "code " << h;
      ASSERT_EQ(std::signbit(out[h]), (h & 0x8000) != 0) << "code " << h;
    }
  }
}

// ---------------------------------------------------------------------------
// The int8 quantizer.

TEST(ScalarQuantizerTest, FitsTheSampleRangeAndClamps) {
  // Dimension j of row i is i * (j + 1), rows 0..99: min 0, max 99 (j + 1).
  const size_t n = 100, d = 3;
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) x[i * d + j] = static_cast<float>(i * (j + 1));
  }
  const ScalarQuantizer q = ScalarQuantizer::Train(x.data(), n, d, Metric::kEuclidean);
  for (size_t j = 0; j < d; ++j) {
    EXPECT_EQ(q.offsets()[j], 0.0f);
    EXPECT_FLOAT_EQ(q.scales()[j], 99.0f * (j + 1) / 255.0f);
  }
  // Within range: decoded within half a step; outside: clamped to the ends.
  std::vector<uint8_t> codes(n * d);
  std::vector<float> back(n * d);
  q.Encode(x.data(), n, codes.data());
  q.Decode(codes.data(), n, back.data());
  for (size_t i = 0; i < n * d; ++i) EXPECT_LE(std::fabs(back[i] - x[i]), q.scales()[i % d] * 0.5001f) << i;
  const float outside[3] = {-5.0f, 1e6f, std::nanf("")};
  uint8_t c[3];
  q.Encode(outside, 1, c);
  EXPECT_EQ(c[0], 0);
  EXPECT_EQ(c[1], 255);
  EXPECT_EQ(c[2], 0);
}

TEST(ScalarQuantizerTest, TrainsOnABoundedEvenlySpacedSample) {
  const size_t n = 1000000, d = 4;
  std::vector<size_t> asked;
  std::vector<float> row(d);
  const ScalarQuantizer q = ScalarQuantizer::Train(n, d, Metric::kDotProduct,
                                                   [&](size_t i) {
                                                     asked.push_back(i);
                                                     std::fill(row.begin(), row.end(), static_cast<float>(i));
                                                     return row.data();
                                                   },
                                                   1000);
  ASSERT_EQ(asked.size(), 1000u);
  EXPECT_EQ(asked.front(), 0u);
  EXPECT_EQ(asked[1], 1000u);
  EXPECT_EQ(asked.back(), 999000u);
  EXPECT_EQ(q.offsets()[0], 0.0f);
  EXPECT_FLOAT_EQ(q.scales()[0], 999000.0f / 255.0f);
}

TEST(ScalarQuantizerTest, CosineTrainsOnUnitRows) {
  const Matrix m = Clustered(500, 8, 5, 3);
  const ScalarQuantizer q = ScalarQuantizer::Train(m.x.data(), m.n, m.d, Metric::kCosine);
  for (size_t j = 0; j < m.d; ++j) {
    EXPECT_GE(q.offsets()[j], -1.0f);
    EXPECT_LE(q.offsets()[j] + 255 * q.scales()[j], 1.0001f);
  }
}

TEST(ScalarQuantizerTest, FlatFormRoundTrips) {
  const Matrix m = Clustered(2000, 37, 10, 4);
  const ScalarQuantizer q = ScalarQuantizer::Train(m.x.data(), m.n, m.d, Metric::kEuclidean);
  const std::vector<float> flat = q.ToFlat();
  ASSERT_EQ(flat.size(), 2 * m.d);
  const ScalarQuantizer back = ScalarQuantizer::FromFlat(flat.data(), flat.size());
  EXPECT_EQ(back.offsets(), q.offsets());
  EXPECT_EQ(back.scales(), q.scales());
  std::vector<uint8_t> a(m.x.size()), b(m.x.size());
  q.Encode(m.x.data(), m.n, a.data());
  back.Encode(m.x.data(), m.n, b.data());
  EXPECT_EQ(a, b);
}

TEST(ScalarQuantizerTest, FromFlatRejectsBadHeaders) {
  const std::vector<std::vector<float>> bad = {
      {}, {0.0f, 1.0f, 2.0f}, {0.0f, -1.0f}, {std::nanf(""), 1.0f}, {0.0f, kInf}};
  for (const auto& flat : bad) {
    try {
      ScalarQuantizer::FromFlat(flat.data(), flat.size());
      ADD_FAILURE() << "accepted " << flat.size() << " values";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    }
  }
}

TEST(ScalarQuantizerTest, Int8NeedsAMatchingQuantizer) {
  const Matrix m = Gaussian(10, 8, 1);
  std::vector<uint8_t> codes(m.n * m.d);
  CodeMatrix view{VectorStorage::kInt8, codes.data(), m.n, m.d, nullptr, {}};
  EXPECT_THROW(CandidateSearch(view, m.row(0), Metric::kCosine, false, nullptr, 5), Error);
  const ScalarQuantizer other = ScalarQuantizer::Train(m.x.data(), m.n / 2, m.d / 2, Metric::kCosine);
  EXPECT_THROW(EncodeRows(VectorStorage::kInt8, &other, Metric::kCosine, m.x.data(), m.n, m.d, codes.data()), Error);
}

// ---------------------------------------------------------------------------
// Search.

constexpr size_t kK = 10;
constexpr size_t kQueries = 20;

// For every storage, metric and direction: recall of the top-10 against the
// double-precision reference, and the share of queries whose answer is
// ExactKnn's exactly (rows and distances).
void ExpectRecall(const Matrix& base, const std::vector<VectorStorage>& storages) {
  const Matrix queries = Queries(base, kQueries, 99);
  for (Metric metric : kMetrics) {
    for (VectorStorage storage : storages) {
      const Encoded e = Encode(base, storage, metric);
      for (bool reverse : {false, true}) {
        SCOPED_TRACE(Label(storage, metric, reverse));
        size_t found = 0, identical = 0;
        for (size_t qi = 0; qi < kQueries; ++qi) {
          const float* q = queries.row(qi);
          const Answer got = Quantized(base, e, q, kK, metric, reverse, nullptr);
          const std::vector<int64_t> ref = RefTopK(base, q, kK, metric, reverse, nullptr);
          for (int64_t i : ref) found += std::count(got.index.begin(), got.index.end(), i);
          const Answer exact = Exact(base, q, kK, metric, reverse, nullptr);
          identical += got.index == exact.index && got.dist == exact.dist;
        }
        EXPECT_GE(found, kQueries * kK * 99 / 100);
        EXPECT_EQ(identical, kQueries);
      }
    }
  }
}

TEST(QuantizedKnnTest, RecallOnGaussianRows) {
  ExpectRecall(Gaussian(20000, 128, 11), {VectorStorage::kInt8, VectorStorage::kFloat16});
}

TEST(QuantizedKnnTest, RecallOnClusteredRows) {
  ExpectRecall(Clustered(20000, 128, 100, 12), {VectorStorage::kInt8, VectorStorage::kFloat16});
}

// d not a multiple of 8 or 32: the kernels' tails.
TEST(QuantizedKnnTest, RecallWithOddDimension) {
  ExpectRecall(Clustered(3000, 45, 30, 13),
               {VectorStorage::kInt8, VectorStorage::kFloat16, VectorStorage::kFloat32});
}

// The margin is what makes the answer exact: re-ranking only k candidates
// misses rows on these data (so the recall tests above can fail).
TEST(QuantizedKnnTest, ApproximateOrderAloneIsNotExact) {
  const Matrix base = Clustered(20000, 128, 100, 12);
  const Matrix queries = Queries(base, kQueries, 99);
  const Encoded e = Encode(base, VectorStorage::kInt8, Metric::kEuclidean);
  size_t identical = 0;
  for (size_t qi = 0; qi < kQueries; ++qi) {
    const Answer got = Quantized(base, e, queries.row(qi), kK, Metric::kEuclidean, false, nullptr, kK);
    identical += got.index == Exact(base, queries.row(qi), kK, Metric::kEuclidean, false, nullptr).index;
  }
  EXPECT_LT(identical, kQueries);
}

TEST(QuantizedKnnTest, AllowedMask) {
  const Matrix base = Clustered(20000, 64, 50, 21);
  const Matrix queries = Queries(base, 10, 22);
  std::mt19937 rng(23);
  std::vector<uint8_t> allowed(base.n);
  for (auto& a : allowed) a = rng() % 10 < 3;
  for (Metric metric : kMetrics) {
    const Encoded e = Encode(base, VectorStorage::kInt8, metric);
    for (bool reverse : {false, true}) {
      SCOPED_TRACE(Label(e.storage, metric, reverse));
      for (size_t qi = 0; qi < queries.n; ++qi) {
        const Answer got = Quantized(base, e, queries.row(qi), kK, metric, reverse, allowed.data());
        for (int64_t i : got.index) ASSERT_TRUE(i >= 0 && allowed[i]) << i;
        const Answer exact = Exact(base, queries.row(qi), kK, metric, reverse, allowed.data());
        EXPECT_EQ(got.index, exact.index);
        EXPECT_EQ(got.dist, exact.dist);
      }
    }
  }
  // Nothing eligible: padding only.
  const std::vector<uint8_t> none(base.n, 0);
  const Encoded e = Encode(base, VectorStorage::kInt8, Metric::kCosine);
  const Answer got = Quantized(base, e, queries.row(0), 3, Metric::kCosine, true, none.data());
  EXPECT_EQ(got.index, std::vector<int64_t>(3, -1));
  EXPECT_EQ(got.dist, std::vector<float>(3, -kInf));
}

// With every row a candidate the answer must be ExactKnn's bit for bit,
// whatever the codes: padding when k > n, a NaN row last, a zero row (cosine
// distance 1), ties to the lower row.
TEST(QuantizedKnnTest, AllRowsCandidatesEqualsExactKnn) {
  Matrix base = Clustered(50, 24, 4, 31);
  std::fill(base.x.begin() + 3 * base.d, base.x.begin() + 4 * base.d, 0.0f);          // zero row
  base.x[7 * base.d + 5] = std::nanf("");                                              // NaN row
  std::copy(base.row(9), base.row(9) + base.d, base.x.begin() + 20 * base.d);          // a duplicate
  const Matrix queries = Queries(base, 6, 32);
  for (VectorStorage storage : {VectorStorage::kInt8, VectorStorage::kFloat16, VectorStorage::kFloat32}) {
    for (Metric metric : kMetrics) {
      const Encoded e = Encode(base, storage, metric);
      for (bool reverse : {false, true}) {
        SCOPED_TRACE(Label(storage, metric, reverse));
        for (size_t qi = 0; qi < queries.n; ++qi) {
          for (size_t k : {size_t{5}, size_t{50}, size_t{64}}) {
            const Answer got = Quantized(base, e, queries.row(qi), k, metric, reverse, nullptr, 1000);
            const Answer exact = Exact(base, queries.row(qi), k, metric, reverse, nullptr);
            ASSERT_EQ(got.index, exact.index) << "k " << k;
            ASSERT_EQ(got.dist, exact.dist) << "k " << k;
          }
        }
      }
    }
  }
}

// Codes copied through CodeMatrix::read (a cold file read with pread) give
// the same candidates, in the same order, as codes read in place.
TEST(QuantizedKnnTest, CodesCopiedThroughAReaderGiveTheSameCandidates) {
  const Matrix base = Clustered(20000, 40, 30, 71);
  const Matrix queries = Queries(base, 3, 72);
  std::vector<uint8_t> allowed(base.n, 1);
  std::fill(allowed.begin() + 3000, allowed.begin() + 15000, 0);
  for (VectorStorage storage : {VectorStorage::kInt8, VectorStorage::kFloat16}) {
    for (Metric metric : kMetrics) {
      const Encoded e = Encode(base, storage, metric);
      const size_t row_bytes = CodeBytesPerRow(storage, base.d);
      CodeMatrix copied = e.view(base);
      std::atomic<size_t> rows_read{0};
      copied.read = [&](size_t first, size_t count, void* out) {
        std::memcpy(out, e.codes.data() + first * row_bytes, count * row_bytes);
        rows_read += count;
      };
      copied.codes = nullptr;
      for (bool reverse : {false, true}) {
        for (const uint8_t* mask : {static_cast<const uint8_t*>(nullptr), static_cast<const uint8_t*>(allowed.data())}) {
          SCOPED_TRACE(Label(storage, metric, reverse) + (mask ? " masked" : ""));
          for (size_t qi = 0; qi < queries.n; ++qi) {
            rows_read = 0;
            const auto want = CandidateSearch(e.view(base), queries.row(qi), metric, reverse, mask, 150);
            const auto got = CandidateSearch(copied, queries.row(qi), metric, reverse, mask, 150);
            EXPECT_EQ(got, want);
            EXPECT_GT(rows_read.load(), 0u);
            if (mask) {
              EXPECT_LT(rows_read.load(), base.n);
            }
          }
        }
      }
    }
  }
}

TEST(QuantizedKnnTest, CandidatesAreOrderedAndCapped) {
  const Matrix base = Gaussian(1000, 32, 41);
  const Encoded e = Encode(base, VectorStorage::kFloat32, Metric::kDotProduct);
  EXPECT_TRUE(CandidateSearch(e.view(base), base.row(0), Metric::kDotProduct, false, nullptr, 0).empty());
  const std::vector<int64_t> all = CandidateSearch(e.view(base), base.row(0), Metric::kDotProduct, false, nullptr,
                                                   5000);
  ASSERT_EQ(all.size(), base.n);
  // float32 codes: the approximate order is the double-precision order up to
  // float rounding, so compare the first 20 by reference distance.
  const std::vector<int64_t> ref = RefTopK(base, base.row(0), 20, Metric::kDotProduct, false, nullptr);
  EXPECT_EQ(std::vector<int64_t>(all.begin(), all.begin() + 20), ref);
  EXPECT_EQ(CandidateCount(10), 110u);
  EXPECT_EQ(CandidateCount(100), 400u);
}

// Same codes and the same candidate lists, in the same order, from both
// kernels, for every storage and metric, with dimensions that exercise the
// 32-, 8- and 1-value loops.
TEST(QuantizedKnnTest, ScalarAndAvx2KernelsAgree) {
  ForceScalarKernelsForTesting(false);
  if (std::string(ScanKernelName()) != "avx2") GTEST_SKIP() << "no AVX2 on this CPU: one kernel only";
  for (size_t d : {size_t{128}, size_t{77}, size_t{13}, size_t{5}}) {
    const Matrix base = Clustered(3000, d, 20, static_cast<uint32_t>(d));
    const Matrix queries = Queries(base, 4, 51);
    for (VectorStorage storage : {VectorStorage::kInt8, VectorStorage::kFloat16, VectorStorage::kFloat32}) {
      for (Metric metric : kMetrics) {
        SCOPED_TRACE(Label(storage, metric, false) + " d " + std::to_string(d));
        const Encoded fast = Encode(base, storage, metric);
        Encoded slow = fast;
        {
          ScalarKernels scalar;
          EncodeRows(storage, &slow.quantizer, metric, base.x.data(), base.n, base.d, slow.codes.data());
        }
        ASSERT_EQ(fast.codes, slow.codes);
        for (size_t qi = 0; qi < queries.n; ++qi) {
          for (bool reverse : {false, true}) {
            const auto a = CandidateSearch(fast.view(base), queries.row(qi), metric, reverse, nullptr, 300);
            ScalarKernels scalar;
            const auto b = CandidateSearch(slow.view(base), queries.row(qi), metric, reverse, nullptr, 300);
            ASSERT_EQ(a, b) << "query " << qi << (reverse ? " reverse" : "");
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace fo::internal
