// ExactKnn against a slow reference: distances in double precision, a stable
// sort by distance (so ties keep the lower index), the mask applied, -1/inf
// padding. Sizes are chosen to cross the kernel's internal boundaries: the
// dot-loop path (fewer than 10 queries) and the sgemm path (10 or more, in
// blocks of up to 128 queries x 512 rows), several threads, row counts that are
// not multiples of the chunk and block sizes.
#include "similarity/exact_knn.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fo/error.h"
#include "knn_reference.h"

// From OpenBLAS (linked through fo_lib); declared here rather than including
// cblas.h, whose directory only fo_lib has on its include path.
extern "C" int openblas_get_num_threads(void);
extern "C" void openblas_set_num_threads(int);

namespace fo::internal {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> RandomMatrix(size_t rows, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> m(rows * d);
  for (float& v : m) v = normal(rng);
  return m;
}

std::vector<uint8_t> RandomMask(size_t n, double p_allowed, uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution allowed(p_allowed);
  std::vector<uint8_t> mask(n);
  for (auto& a : mask) a = allowed(rng) ? 1 : 0;
  return mask;
}

struct Case {
  std::vector<float> base;
  size_t n = 0, d = 0;
  std::vector<float> queries;
  size_t nq = 0, k = 0;
  Metric metric = Metric::kCosine;
  bool reverse = false;
  std::vector<uint8_t> mask;  // empty = all rows
  bool null_norms = false;    // pass base_norms = nullptr
};

struct Result {
  std::vector<int64_t> index;
  std::vector<float> dist;
};

Result Search(const Case& c) {
  std::vector<float> norms(c.n);
  RowNorms(c.base.data(), c.n, c.d, norms.data());
  Result r{std::vector<int64_t>(c.nq * c.k, 12345), std::vector<float>(c.nq * c.k, 12345.0f)};
  ExactKnn(c.base.data(), c.null_norms ? nullptr : norms.data(), c.n, c.d, c.queries.data(), c.nq, c.k, c.metric,
           c.reverse, c.mask.empty() ? nullptr : c.mask.data(), r.index.data(), r.dist.data());
  return r;
}

// All eligible rows of query q by (distance, index), nearest first (farthest
// first with reverse), so ties keep the lower index.
std::vector<std::pair<double, int64_t>> RefRanking(const Case& c, size_t q) {
  std::vector<std::pair<double, int64_t>> all;
  for (size_t i = 0; i < c.n; ++i) {
    if (!c.mask.empty() && !c.mask[i]) continue;
    all.push_back(
        {RefDistance(c.queries.data() + q * c.d, c.base.data() + i * c.d, c.d, c.metric), static_cast<int64_t>(i)});
  }
  std::stable_sort(all.begin(), all.end(),
                   [&](const auto& a, const auto& b) { return c.reverse ? a.first > b.first : a.first < b.first; });
  return all;
}

double Tolerance(double ref, double rel) { return rel * std::max(1.0, std::abs(ref)); }

// Indices must equal the reference's except where the two rows' reference
// distances tie within 1e-5; distances must match within 1e-4 relative.
// `strict` demands equal indices everywhere (for exact ties).
void ExpectMatchesReference(const Case& c, bool strict = false) {
  Result got = Search(c);
  for (size_t q = 0; q < c.nq; ++q) {
    SCOPED_TRACE("query " + std::to_string(q));
    auto ref = RefRanking(c, q);
    std::set<int64_t> seen;
    for (size_t j = 0; j < c.k; ++j) {
      SCOPED_TRACE("rank " + std::to_string(j));
      const int64_t idx = got.index[q * c.k + j];
      const float dist = got.dist[q * c.k + j];
      if (j >= ref.size()) {
        EXPECT_EQ(idx, -1);
        EXPECT_EQ(dist, c.reverse ? -kInf : kInf);
        continue;
      }
      const double ref_dist = ref[j].first;
      ASSERT_GE(idx, 0);
      ASSERT_LT(idx, static_cast<int64_t>(c.n));
      EXPECT_TRUE(seen.insert(idx).second) << "row " << idx << " returned twice";
      if (!c.mask.empty()) {
        EXPECT_TRUE(c.mask[idx]) << "row " << idx << " is masked out";
      }
      EXPECT_NEAR(dist, ref_dist, Tolerance(ref_dist, 1e-4));
      if (strict) {
        EXPECT_EQ(idx, ref[j].second);
      } else if (idx != ref[j].second) {
        double idx_ref_dist = RefDistance(c.queries.data() + q * c.d, c.base.data() + idx * c.d, c.d, c.metric);
        EXPECT_NEAR(idx_ref_dist, ref_dist, Tolerance(ref_dist, 1e-5))
            << "row " << idx << " instead of " << ref[j].second << " without a tie";
      }
    }
  }
}

Case MakeCase(size_t n, size_t d, size_t nq, size_t k, Metric metric, bool reverse, uint32_t seed = 1) {
  Case c;
  c.n = n;
  c.d = d;
  c.nq = nq;
  c.k = k;
  c.metric = metric;
  c.reverse = reverse;
  c.base = RandomMatrix(n, d, seed);
  c.queries = RandomMatrix(nq, d, seed + 1000);
  return c;
}

class ExactKnnMetricTest : public ::testing::TestWithParam<Metric> {};

TEST_P(ExactKnnMetricTest, RandomDataAllShapes) {
  // nq 1-3 take the dot-loop path, 13 and 130 the sgemm path (130 spans two
  // query blocks); n = 1 and 3001 are not multiples of any block size.
  for (size_t nq : {1, 2, 3, 13, 130}) {
    for (size_t n : {1, 3001}) {
      for (size_t k : {1, 10, 5000}) {
        for (bool reverse : {false, true}) {
          SCOPED_TRACE("nq=" + std::to_string(nq) + " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                       " reverse=" + std::to_string(reverse));
          ExpectMatchesReference(MakeCase(n, 40, nq, k, GetParam(), reverse, static_cast<uint32_t>(nq * 7 + n)));
        }
      }
    }
  }
}

TEST_P(ExactKnnMetricTest, LargeEnoughForSeveralThreads) {
  // One query over 70001 x 64 and 12 queries over 10241 x 64 are above the
  // per-thread work threshold, so the merge of per-worker heaps is exercised;
  // row counts sit one past multiples of the 512-row blocks.
  for (bool reverse : {false, true}) {
    SCOPED_TRACE("reverse=" + std::to_string(reverse));
    ExpectMatchesReference(MakeCase(70001, 64, 1, 10, GetParam(), reverse, 11));
    ExpectMatchesReference(MakeCase(10241, 64, 12, 10, GetParam(), reverse, 12));
  }
}

TEST_P(ExactKnnMetricTest, BlockBoundaries) {
  // Odd dimensions exercise the SIMD tails; n straddles the 512-row blocks.
  for (size_t d : {1, 7, 33, 512}) {
    for (size_t n : {1023, 1024, 1025, 2049}) {
      for (size_t nq : {1, 3, 12}) {
        SCOPED_TRACE("d=" + std::to_string(d) + " n=" + std::to_string(n) + " nq=" + std::to_string(nq));
        ExpectMatchesReference(MakeCase(n, d, nq, 10, GetParam(), false, static_cast<uint32_t>(d + n + nq)));
      }
    }
  }
}

TEST_P(ExactKnnMetricTest, Mask) {
  for (size_t nq : {1, 3, 12}) {
    for (bool reverse : {false, true}) {
      SCOPED_TRACE("nq=" + std::to_string(nq) + " reverse=" + std::to_string(reverse));
      Case c = MakeCase(5000, 24, nq, 10, GetParam(), reverse, 21);
      c.mask = RandomMask(c.n, 0.3, 22);
      ExpectMatchesReference(c);

      // Fewer eligible rows than k: the rest is padding.
      c.mask.assign(c.n, 0);
      c.mask[17] = c.mask[4095] = c.mask[4999] = 1;
      ExpectMatchesReference(c);

      // Nothing eligible.
      c.mask.assign(c.n, 0);
      ExpectMatchesReference(c);

      // Whole 512-row blocks masked out (skipped unscored), the rest allowed.
      c.mask.assign(c.n, 1);
      std::fill(c.mask.begin(), c.mask.begin() + 3000, 0);
      ExpectMatchesReference(c);
    }
  }
}

// Rows copied through RowSource::read (a cold file read with pread) give the
// in-place answer bit for bit, on every scan path: the dot loop (nq < 10),
// sgemm (nq >= 10), masks that skip whole chunks, euclidean's direct
// recomputation of the winners, and reverse.
TEST_P(ExactKnnMetricTest, RowsCopiedThroughAReaderGiveTheInPlaceAnswer) {
  for (size_t nq : {1, 3, 12}) {
    for (bool reverse : {false, true}) {
      for (bool masked : {false, true}) {
        SCOPED_TRACE("nq=" + std::to_string(nq) + " reverse=" + std::to_string(reverse) + " masked=" + std::to_string(masked));
        Case c = MakeCase(3000, 33, nq, 10, GetParam(), reverse, 61);
        if (masked) {
          c.mask = RandomMask(c.n, 0.2, 62);
          std::fill(c.mask.begin() + 500, c.mask.begin() + 2100, 0);
        }
        const Result in_place = Search(c);
        std::vector<float> norms(c.n);
        RowNorms(c.base.data(), c.n, c.d, norms.data());
        size_t rows_read = 0;
        std::mutex mu;
        RowSource source;
        source.row_bytes = c.d * sizeof(float);
        source.read = [&](size_t first, size_t count, void* out) {
          ASSERT_LE(first + count, c.n);
          std::memcpy(out, c.base.data() + first * c.d, count * source.row_bytes);
          std::lock_guard lock(mu);
          rows_read += count;
        };
        Result copied{std::vector<int64_t>(c.nq * c.k, 12345), std::vector<float>(c.nq * c.k, 12345.0f)};
        ExactKnn(source, norms.data(), c.n, c.d, c.queries.data(), c.nq, c.k, c.metric, c.reverse,
                 c.mask.empty() ? nullptr : c.mask.data(), copied.index.data(), copied.dist.data());
        EXPECT_EQ(copied.index, in_place.index);
        EXPECT_EQ(copied.dist, in_place.dist);
        EXPECT_GT(rows_read, 0u);
        if (masked) {
          EXPECT_LT(rows_read, c.n) << "chunks with no eligible row are not read";
        }
      }
    }
  }
}

TEST(ExactKnnTest, ARowSourceWithoutNormsIsRefusedForCosine) {
  std::vector<float> base(8, 1.0f), q(2, 1.0f);
  RowSource source = RowSource::InPlace(base.data(), 2 * sizeof(float));
  int64_t idx = 0;
  float dist = 0;
  EXPECT_THROW(ExactKnn(source, nullptr, 4, 2, q.data(), 1, 1, Metric::kCosine, false, nullptr, &idx, &dist), Error);
  ExactKnn(source, nullptr, 4, 2, q.data(), 1, 1, Metric::kDotProduct, false, nullptr, &idx, &dist);
  EXPECT_EQ(idx, 0);
  EXPECT_FLOAT_EQ(dist, -2.0f);
}

TEST_P(ExactKnnMetricTest, ZeroVectors) {
  for (size_t nq : {1, 3, 12}) {
    SCOPED_TRACE("nq=" + std::to_string(nq));
    Case c = MakeCase(300, 16, nq, 20, GetParam(), false, 31);
    for (size_t i : {0, 5, 6, 150, 299}) std::fill_n(c.base.begin() + i * c.d, c.d, 0.0f);
    std::fill_n(c.queries.begin(), c.d, 0.0f);  // query 0 is zero
    ExpectMatchesReference(c);
    c.reverse = true;
    ExpectMatchesReference(c);
  }
}

TEST_P(ExactKnnMetricTest, EquidistantRowsKeepLowerIndex) {
  // Every row is a signed permutation of (1, 2, ..., d), so a zero query is
  // at exactly the same distance from all of them under every metric (1 for
  // cosine, 0 for dot product, |x| for euclidean): the first k rows win.
  const size_t n = 3000, d = 32;
  std::mt19937 rng(41);
  std::vector<float> base;
  std::vector<float> row(d);
  std::iota(row.begin(), row.end(), 1.0f);
  for (size_t i = 0; i < n; ++i) {
    std::shuffle(row.begin(), row.end(), rng);
    for (float v : row) base.push_back(rng() % 2 ? v : -v);
  }
  // |x|^2 = 1^2 + ... + d^2 = d (d + 1) (2d + 1) / 6.
  float expected = static_cast<float>(std::sqrt(d * (d + 1) * (2 * d + 1) / 6.0));
  if (GetParam() == Metric::kCosine) expected = 1.0f;
  if (GetParam() == Metric::kDotProduct) expected = 0.0f;
  for (size_t nq : {1, 3, 12}) {
    for (bool reverse : {false, true}) {
      SCOPED_TRACE("nq=" + std::to_string(nq) + " reverse=" + std::to_string(reverse));
      Case c;
      c.n = n;
      c.d = d;
      c.nq = nq;
      c.k = 10;
      c.metric = GetParam();
      c.reverse = reverse;
      c.base = base;
      c.queries.assign(nq * d, 0.0f);
      Result got = Search(c);
      for (size_t q = 0; q < nq; ++q) {
        for (size_t j = 0; j < c.k; ++j) {
          EXPECT_EQ(got.index[q * c.k + j], static_cast<int64_t>(j));
          EXPECT_FLOAT_EQ(got.dist[q * c.k + j], expected);
        }
      }
    }
  }
}

TEST_P(ExactKnnMetricTest, DuplicateRowsTieByLowerIndex) {
  // Rows drawn from 40 distinct integer vectors: duplicates get bit-identical
  // distances (small integers make every dot product exact), so wherever a
  // row is returned, each lower-index copy of it must be returned before it.
  // (Distinct vectors at the same true distance may still round apart; the
  // reference comparison allows those to swap.)
  std::mt19937 rng(51);
  std::uniform_int_distribution<int> value(-3, 3);
  std::uniform_int_distribution<size_t> pick(0, 39);
  const size_t d = 16, distinct = 40, n = 2500;
  std::vector<float> rows(distinct * d);
  for (float& v : rows) v = static_cast<float>(value(rng));
  for (size_t nq : {1, 3, 12}) {
    for (bool reverse : {false, true}) {
      SCOPED_TRACE("nq=" + std::to_string(nq) + " reverse=" + std::to_string(reverse));
      Case c;
      c.n = n;
      c.d = d;
      c.nq = nq;
      c.k = 25;
      c.metric = GetParam();
      c.reverse = reverse;
      std::vector<size_t> source(n);
      for (size_t i = 0; i < n; ++i) {
        source[i] = pick(rng);
        c.base.insert(c.base.end(), rows.begin() + source[i] * d, rows.begin() + (source[i] + 1) * d);
      }
      for (size_t q = 0; q < nq; ++q) {
        for (size_t j = 0; j < d; ++j) c.queries.push_back(static_cast<float>(value(rng)));
      }
      ExpectMatchesReference(c);
      Result got = Search(c);
      for (size_t q = 0; q < nq; ++q) {
        std::vector<int64_t> result(got.index.begin() + q * c.k, got.index.begin() + (q + 1) * c.k);
        for (size_t j = 0; j < c.k; ++j) {
          const int64_t row = result[j];
          for (int64_t lower = 0; lower < row; ++lower) {
            if (source[lower] != source[row]) continue;
            auto at = std::find(result.begin(), result.end(), lower);
            EXPECT_TRUE(at != result.end() && at < result.begin() + j)
                << "query " << q << ": row " << row << " at rank " << j << " but its copy " << lower
                << " is not ahead of it";
          }
        }
      }
    }
  }
}

TEST_P(ExactKnnMetricTest, NullNormsAreComputed) {
  Case c = MakeCase(2000, 20, 3, 10, GetParam(), false, 61);
  c.null_norms = true;
  ExpectMatchesReference(c);
}

TEST_P(ExactKnnMetricTest, NanRowsRankLast) {
  for (size_t nq : {1, 12}) {
    for (bool reverse : {false, true}) {
      for (size_t k : {10, 50}) {
        SCOPED_TRACE("nq=" + std::to_string(nq) + " reverse=" + std::to_string(reverse) + " k=" + std::to_string(k));
        Case c = MakeCase(50, 8, nq, k, GetParam(), reverse, 96);
        c.base[3 * c.d + 5] = std::numeric_limits<float>::quiet_NaN();
        Result got = Search(c);
        for (size_t q = 0; q < nq; ++q) {
          const size_t last = k - 1;
          for (size_t j = 0; j < last; ++j) {
            EXPECT_NE(got.index[q * k + j], 3);
            EXPECT_TRUE(std::isfinite(got.dist[q * k + j]));
          }
          if (k == c.n) {  // every row returned: the NaN one last
            EXPECT_EQ(got.index[q * k + last], 3);
            EXPECT_EQ(got.dist[q * k + last], reverse ? -kInf : kInf);
          } else {
            EXPECT_NE(got.index[q * k + last], 3);
          }
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllMetrics, ExactKnnMetricTest,
                         ::testing::Values(Metric::kCosine, Metric::kDotProduct, Metric::kEuclidean),
                         [](const ::testing::TestParamInfo<Metric>& info) {
                           return std::string(MetricName(info.param));
                         });

TEST(ExactKnnTest, EuclideanQueryEqualToRowIsAtZero) {
  // The |q|^2 + |x|^2 - 2<q,x> expansion alone would leave ~1e-3 here.
  for (size_t nq : {1, 3, 12}) {
    Case c = MakeCase(4000, 128, nq, 3, Metric::kEuclidean, false, 71);
    for (size_t q = 0; q < nq; ++q) {
      std::copy_n(c.base.begin() + (100 + q) * c.d, c.d, c.queries.begin() + q * c.d);
    }
    Result got = Search(c);
    for (size_t q = 0; q < nq; ++q) {
      EXPECT_EQ(got.index[q * c.k], static_cast<int64_t>(100 + q));
      EXPECT_EQ(got.dist[q * c.k], 0.0f);
    }
  }
}

TEST(ExactKnnTest, KLargerThanNPads) {
  Case c = MakeCase(7, 5, 2, 10, Metric::kCosine, false, 81);
  Result got = Search(c);
  for (size_t q = 0; q < 2; ++q) {
    std::set<int64_t> rows(got.index.begin() + q * 10, got.index.begin() + q * 10 + 7);
    EXPECT_EQ(rows.size(), 7u);
    for (size_t j = 7; j < 10; ++j) {
      EXPECT_EQ(got.index[q * 10 + j], -1);
      EXPECT_EQ(got.dist[q * 10 + j], kInf);
    }
  }
  c.reverse = true;
  got = Search(c);
  EXPECT_EQ(got.index[9], -1);
  EXPECT_EQ(got.dist[9], -kInf);
  ExpectMatchesReference(c);
}

TEST(ExactKnnTest, EmptyBaseIsAllPadding) {
  Case c = MakeCase(0, 8, 2, 3, Metric::kEuclidean, false, 91);
  Result got = Search(c);
  for (size_t j = 0; j < 6; ++j) {
    EXPECT_EQ(got.index[j], -1);
    EXPECT_EQ(got.dist[j], kInf);
  }
}

TEST(ExactKnnTest, ZeroKOrNoQueriesWritesNothing) {
  Case c = MakeCase(50, 8, 0, 5, Metric::kCosine, false, 92);
  Result got = Search(c);  // nq = 0: output buffers are empty
  EXPECT_TRUE(got.index.empty());
  c.nq = 2;
  c.queries = RandomMatrix(2, 8, 93);
  c.k = 0;
  got = Search(c);
  EXPECT_TRUE(got.index.empty());
}

TEST(ExactKnnTest, ConcurrentCallsAgreeAndRestoreBlasThreads) {
  // Batched searches switch OpenBLAS to one thread while their own workers
  // run; overlapping calls must neither corrupt each other nor leave the
  // process single-threaded.
  // Set explicitly: an earlier test that failed to restore the count would
  // otherwise make the final check compare 1 with 1.
  openblas_set_num_threads(2);
  Case c = MakeCase(20000, 64, 16, 10, Metric::kCosine, false, 95);
  const Result expected = Search(c);
  EXPECT_EQ(openblas_get_num_threads(), 2);
  std::vector<Result> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&c, &r] {
      for (int i = 0; i < 5; ++i) r = Search(c);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    EXPECT_EQ(r.index, expected.index);
    EXPECT_EQ(r.dist, expected.dist);
  }
  EXPECT_EQ(openblas_get_num_threads(), 2);
}

TEST(RowNormsTest, MatchesDouble) {
  for (size_t d : {1, 3, 8, 31, 64, 513}) {
    const size_t n = 20000 / d + 3;
    std::vector<float> x = RandomMatrix(n, d, static_cast<uint32_t>(d));
    std::vector<float> norms(n);
    RowNorms(x.data(), n, d, norms.data());
    for (size_t i = 0; i < n; ++i) {
      double s = 0;
      for (size_t j = 0; j < d; ++j) s += static_cast<double>(x[i * d + j]) * x[i * d + j];
      EXPECT_NEAR(norms[i], std::sqrt(s), 1e-5 * std::sqrt(s)) << "d=" << d << " row " << i;
    }
  }
}

TEST(BlasDescriptionTest, NamesOpenBlas) {
  std::string description = BlasDescription();
  EXPECT_NE(description.find("OpenBLAS"), std::string::npos) << description;
  EXPECT_NE(description.find("thread"), std::string::npos) << description;
}

}  // namespace
}  // namespace fo::internal
