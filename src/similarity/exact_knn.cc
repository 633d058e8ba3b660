// Exact k-NN: scores from a SIMD dot loop (few queries, memory-bound) or from
// blocked cblas_sgemm (many queries, compute-bound), turned into distances one
// block at a time and reduced to the k best per query by per-worker bounded
// heaps that are merged at the end.
//
// Why two paths: for one query the cost is reading the n x d matrix once, and
// OpenBLAS's sgemv reaches only about half the machine's read bandwidth here
// (measured: 14 GB/s against 30 GB/s for a plain streaming sum), while a
// 4-accumulator AVX2 dot loop on two threads runs at the read speed. For a
// batch, sgemm reuses each base row across the queries, so the work is
// arithmetic and BLAS wins.
//
// Behaviour the header does not spell out:
// - a NaN distance ranks last and is reported as +inf (-inf with reverse);
// - euclidean rows are ranked by |q|^2 + |x|^2 - 2<q,x>, then the winners'
//   distances are recomputed directly as |q - x| and re-sorted, because the
//   expansion loses small distances to cancellation;
// - threads: min(OpenBLAS's thread count, hardware threads) std::threads;
//   while a batch of kGemmMinQueries or more runs, OpenBLAS is set to one
//   thread process-wide and restored afterwards. Concurrent calls are safe.
#include "similarity/exact_knn.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fo/error.h"
#include "similarity/knn_select.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FO_EXACT_KNN_X86 1
#endif

namespace fo::internal {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Below this many queries the dot-loop path (each base chunk read from memory
// once, then from L2 for the other queries) beats sgemm, whose packing of
// every base block costs more than its register blocking saves; measured on
// Zen 4 with 200k x 512: dot loop 34 ms vs sgemm 37 ms at 8 queries, 47 vs
// 40 ms at 12.
constexpr size_t kGemmMinQueries = 10;
// Bytes of base rows per work item of the dot-loop path: small enough to stay
// in L2 while the other queries of the call re-read it.
constexpr size_t kChunkBytes = 128 * 1024;
// Base rows per sgemm call and at most this many queries per call: the score
// block (128 x 512 floats, 256 KiB) stays in L2 for the selection. Measured
// with 1M x 512 and 100 queries: 512 to 2048 rows within 3% (512 best);
// splitting the 100 queries into blocks of 64 + 36 cost 20%, hence blocks
// of equal size.
constexpr size_t kGemmRows = 512;
constexpr size_t kGemmQueries = 128;
// Multiply-adds a worker must have before another thread is worth starting.
constexpr double kMinWorkPerWorker = 1 << 21;

// ---------------------------------------------------------------------------
// Dot products of one query against consecutive rows.

// out[i] = <x_i, q> for rows with allowed[i] != 0 (all rows if allowed is
// null); other entries are left untouched.
using DotRowsFn = void (*)(const float* x, size_t rows, size_t d, const float* q, const uint8_t* allowed, float* out);

float DotPortable(const float* a, const float* b, size_t d) {
  // Four independent sums so the loop is not bound by the add latency.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t j = 0;
  for (; j + 4 <= d; j += 4) {
    s0 += a[j] * b[j];
    s1 += a[j + 1] * b[j + 1];
    s2 += a[j + 2] * b[j + 2];
    s3 += a[j + 3] * b[j + 3];
  }
  for (; j < d; ++j) s0 += a[j] * b[j];
  return (s0 + s1) + (s2 + s3);
}

void DotRowsPortable(const float* x, size_t rows, size_t d, const float* q, const uint8_t* allowed, float* out) {
  for (size_t i = 0; i < rows; ++i) {
    if (allowed == nullptr || allowed[i]) out[i] = DotPortable(x + i * d, q, d);
  }
}

#ifdef FO_EXACT_KNN_X86
// The library is built for x86-64-v2 (no AVX), so the AVX2 kernels are
// compiled per function and picked at run time.
__attribute__((target("avx2,fma"))) inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// One row at a time with four accumulators: measured faster than
// interleaving four rows (which splits the stream into four and ran at half
// the bandwidth).
__attribute__((target("avx2,fma"))) inline float DotAvx2(const float* a, const float* b, size_t d) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t j = 0;
  for (; j + 32 <= d; j += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(b + j + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(b + j + 24), a3);
  }
  for (; j + 8 <= d; j += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), a0);
  float s = HorizontalSum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; j < d; ++j) s += a[j] * b[j];
  return s;
}

// Brings a row into the cache ahead of its use.
inline void PrefetchRow(const float* row, size_t d) {
  const char* p = reinterpret_cast<const char*>(row);
  for (size_t b = 0; b < d * sizeof(float); b += 64) _mm_prefetch(p + b, _MM_HINT_T0);
}

__attribute__((target("avx2,fma"))) void DotRowsAvx2(const float* x, size_t rows, size_t d, const float* q,
                                                     const uint8_t* allowed, float* out) {
  if (allowed == nullptr) {
    for (size_t i = 0; i < rows; ++i) out[i] = DotAvx2(x + i * d, q, d);
    return;
  }
  // A view's rows are scattered (every tenth row, say): the hardware
  // prefetcher does not follow a stream that skips pages, so each row would
  // wait on memory. Fetching the next allowed row while this one is summed
  // made a 10% view's scan about 3x faster (docs/performance.md).
  auto next_allowed = [&](size_t from) {
    while (from < rows && !allowed[from]) ++from;
    return from;
  };
  constexpr int kRowsAhead = 4;  // a row's sum takes less time than one memory round trip
  size_t ahead = next_allowed(0);
  for (int r = 0; r < kRowsAhead && ahead < rows; ++r, ahead = next_allowed(ahead + 1)) PrefetchRow(x + ahead * d, d);
  for (size_t i = next_allowed(0); i < rows; i = next_allowed(i + 1)) {
    if (kRowsAhead > 0 && ahead < rows) {
      PrefetchRow(x + ahead * d, d);
      ahead = next_allowed(ahead + 1);
    }
    out[i] = DotAvx2(x + i * d, q, d);
  }
}
#endif  // FO_EXACT_KNN_X86

DotRowsFn PickDotRows() {
#ifdef FO_EXACT_KNN_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return DotRowsAvx2;
#endif
  return DotRowsPortable;
}

DotRowsFn DotRows() {
  static const DotRowsFn fn = PickDotRows();
  return fn;
}

// ---------------------------------------------------------------------------
// Scores to selection keys.
//
// Selection always keeps the smallest keys, ties to the lower index: the key
// is the distance, or its negation for `reverse` (negation is exact, so ties
// survive it). NaN becomes +inf so that it ranks last and keeps the heap's
// ordering strict.

struct KeyParams {
  Metric metric;
  bool reverse;
  float query_norm;
  const float* base_norms;  // of the block's first row; null for dot product
};

// In place over `rows` scores of one query.
void ScoresToKeys(const KeyParams& p, float* __restrict v, size_t rows) {
  const float sign = p.reverse ? -1.0f : 1.0f;
  switch (p.metric) {
    case Metric::kDotProduct:
      for (size_t i = 0; i < rows; ++i) v[i] = -sign * v[i];
      break;
    case Metric::kCosine:
      for (size_t i = 0; i < rows; ++i) {
        // A zero vector makes the dot product exactly 0, so flooring the
        // denominator at FLT_MIN yields 0 / FLT_MIN = 0 and distance 1
        // without a branch, which GCC would not vectorise. (Only norms whose
        // product underflows below FLT_MIN, about 1e-38, are distorted.)
        float denom = std::max(p.query_norm * p.base_norms[i], std::numeric_limits<float>::min());
        v[i] = sign * (1.0f - v[i] / denom);
      }
      break;
    case Metric::kEuclidean: {
      float q2 = p.query_norm * p.query_norm;
      for (size_t i = 0; i < rows; ++i) {
        float x = p.base_norms[i];
        // std::max(s, 0) keeps a NaN (std::max(0, s) would turn it into 0).
        float s = std::max(q2 + x * x - 2.0f * v[i], 0.0f);
        v[i] = sign * s;  // squared: same order; the root is taken for the winners only
      }
      break;
    }
  }
  for (size_t i = 0; i < rows; ++i) v[i] = v[i] == v[i] ? v[i] : kInf;
}

// ---------------------------------------------------------------------------
// Threads.

// Makes OpenBLAS run single-threaded while our own workers each call sgemm,
// so that 2 workers x 2 BLAS threads do not fight over 2 cores (measured: our
// 2 workers with 1 BLAS thread each reach about 165 GFLOPS, one sgemm call
// threaded by OpenBLAS about 130). The setting is process-wide, so nested or
// concurrent searches share one count and the last one out restores it;
// other BLAS users in the process run single-threaded meanwhile.
class ScopedSingleThreadedBlas {
 public:
  ScopedSingleThreadedBlas() {
    std::lock_guard<std::mutex> lock(mu_);
    if (depth_++ == 0) {
      saved_ = openblas_get_num_threads();
      openblas_set_num_threads(1);
    }
  }
  ~ScopedSingleThreadedBlas() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--depth_ == 0) openblas_set_num_threads(saved_);
  }
  ScopedSingleThreadedBlas(const ScopedSingleThreadedBlas&) = delete;
  ScopedSingleThreadedBlas& operator=(const ScopedSingleThreadedBlas&) = delete;

  // OpenBLAS's thread count as configured, not the 1 that a concurrent
  // search may have set for the moment.
  static int ConfiguredThreads() {
    std::lock_guard<std::mutex> lock(mu_);
    return depth_ > 0 ? saved_ : openblas_get_num_threads();
  }

 private:
  static inline std::mutex mu_;
  static inline int depth_ = 0;
  static inline int saved_ = 1;
};

// OpenBLAS's thread count bounds ours, so OPENBLAS_NUM_THREADS=1 (or
// openblas_set_num_threads) limits the whole search.
int WorkerCount(double multiply_adds) {
  // Decided before asking anything: hardware_concurrency() reads /sys on
  // every call (microseconds), as much as a small call's whole work (one
  // row's norm in a re-rank, a single query's norm).
  if (multiply_adds < 2 * kMinWorkPerWorker) return 1;
  int workers = std::max(1, ScopedSingleThreadedBlas::ConfiguredThreads());
  unsigned hw = std::thread::hardware_concurrency();
  if (hw > 0) workers = std::min(workers, static_cast<int>(hw));
  int useful = static_cast<int>(std::max(1.0, multiply_adds / kMinWorkPerWorker));
  return std::min(workers, useful);
}

// ---------------------------------------------------------------------------
// The search.

struct Problem {
  const RowSource* base;
  const float* base_norms;  // null for dot product
  size_t n, d;
  const float* queries;
  const float* query_norms;
  size_t nq, k;
  Metric metric;
  bool reverse;
  const uint8_t* allowed;
};

// tops[w][q]: worker w's best hits for query q.
using WorkerTops = std::vector<std::vector<TopK>>;

KeyParams KeysFor(const Problem& p, size_t query, size_t first_row) {
  return {p.metric, p.reverse, p.query_norms[query], p.base_norms == nullptr ? nullptr : p.base_norms + first_row};
}

// Few queries: each worker takes chunks of rows and scores every query
// against a chunk while it is in cache.
void ScanWithDotLoop(const Problem& p, int workers, WorkerTops& tops) {
  const size_t chunk = std::max<size_t>(16, kChunkBytes / (std::max<size_t>(p.d, 1) * sizeof(float)));
  const size_t chunks = (p.n + chunk - 1) / chunk;
  const DotRowsFn dot_rows = DotRows();
  std::atomic<size_t> next{0};
  RunWorkers(workers, [&](int w) {
    std::vector<float> scores(chunk, 0.0f);
    std::vector<uint8_t> buffer;
    for (size_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1)) {
      const size_t first = c * chunk, rows = std::min(chunk, p.n - first);
      const uint8_t* mask = p.allowed == nullptr ? nullptr : p.allowed + first;
      if (mask != nullptr && std::all_of(mask, mask + rows, [](uint8_t a) { return a == 0; })) continue;
      const float* base = reinterpret_cast<const float*>(p.base->Rows(first, rows, buffer));
      for (size_t q = 0; q < p.nq; ++q) {
        dot_rows(base, rows, p.d, p.queries + q * p.d, mask, scores.data());
        ScoresToKeys(KeysFor(p, q, first), scores.data(), rows);
        tops[w][q].OfferBlock(scores.data(), rows, static_cast<int64_t>(first), mask);
      }
    }
  });
}

// Many queries: work items are (query block, row block) pairs in query-block
// order, so each worker still sees each query's rows in increasing order.
void ScanWithGemm(const Problem& p, int workers, WorkerTops& tops) {
  const size_t row_blocks = (p.n + kGemmRows - 1) / kGemmRows;
  const size_t query_blocks = (p.nq + kGemmQueries - 1) / kGemmQueries;
  const size_t query_block = (p.nq + query_blocks - 1) / query_blocks;  // 129 -> 65 + 64, not 128 + 1
  const size_t items = row_blocks * query_blocks;
  std::atomic<size_t> next{0};
  auto scan = [&](int w) {
    std::vector<float> scores(query_block * kGemmRows);
    std::vector<uint8_t> buffer;
    for (size_t item = next.fetch_add(1); item < items; item = next.fetch_add(1)) {
      const size_t q0 = (item / row_blocks) * query_block, nq = std::min(query_block, p.nq - q0);
      const size_t first = (item % row_blocks) * kGemmRows, rows = std::min(kGemmRows, p.n - first);
      const uint8_t* mask = p.allowed == nullptr ? nullptr : p.allowed + first;
      if (mask != nullptr && std::all_of(mask, mask + rows, [](uint8_t a) { return a == 0; })) continue;
      const float* base = reinterpret_cast<const float*>(p.base->Rows(first, rows, buffer));
      // scores (nq x rows) = queries[q0..] * base[first..]^T
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(nq), static_cast<int>(rows),
                  static_cast<int>(p.d), 1.0f, p.queries + q0 * p.d, static_cast<int>(p.d), base,
                  static_cast<int>(p.d), 0.0f, scores.data(), static_cast<int>(rows));
      for (size_t q = 0; q < nq; ++q) {
        float* row_scores = scores.data() + q * rows;
        ScoresToKeys(KeysFor(p, q0 + q, first), row_scores, rows);
        tops[w][q0 + q].OfferBlock(row_scores, rows, static_cast<int64_t>(first), mask);
      }
    }
  };
  if (workers > 1) {
    ScopedSingleThreadedBlas single;
    RunWorkers(workers, scan);
  } else {
    scan(0);  // a single worker lets OpenBLAS use its own threads
  }
}

double SquaredL2(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t j = 0; j < d; ++j) {
    double diff = static_cast<double>(a[j]) - b[j];
    s += diff * diff;
  }
  return s;
}

// The euclidean key of one row, computed directly (see Finish).
float EuclideanKey(const float* query, const float* row, size_t d, bool reverse) {
  const float dist = static_cast<float>(std::sqrt(SquaredL2(query, row, d)));
  return dist == dist ? (reverse ? -dist : dist) : kInf;
}

// Merges the workers' hits for each query and writes the k best.
void Finish(const Problem& p, int workers, WorkerTops& tops, int64_t* out_index, float* out_dist) {
  std::atomic<size_t> next{0};
  // No more threads than queries: a single query is merged on the caller.
  const int mergers = static_cast<int>(std::min<size_t>(static_cast<size_t>(workers), p.nq));
  RunWorkers(mergers, [&](int) {
    std::vector<Hit> all;
    std::vector<uint8_t> buffer;
    for (size_t q = next.fetch_add(1); q < p.nq; q = next.fetch_add(1)) {
      all.clear();
      for (int w = 0; w < workers; ++w) {
        std::vector<Hit>& hits = tops[w][q].hits();
        all.insert(all.end(), hits.begin(), hits.end());
        std::vector<Hit>().swap(hits);
      }
      const size_t m = std::min(p.k, all.size());
      std::partial_sort(all.begin(), all.begin() + m, all.end(), Before);
      if (p.metric == Metric::kEuclidean) {
        // |q|^2 + |x|^2 - 2<q,x> loses the small distances to cancellation
        // (a row equal to the query comes out near 1e-3 |q| instead of 0), so
        // the winners' distances are recomputed directly and re-sorted.
        for (size_t j = 0; j < m; ++j) {
          const auto* row = reinterpret_cast<const float*>(p.base->Rows(static_cast<size_t>(all[j].index), 1, buffer));
          all[j].key = EuclideanKey(p.queries + q * p.d, row, p.d, p.reverse);
        }
        std::sort(all.begin(), all.begin() + m, Before);
      }
      int64_t* index = out_index + q * p.k;
      float* dist = out_dist + q * p.k;
      for (size_t j = 0; j < m; ++j) {
        index[j] = all[j].index;
        dist[j] = p.reverse ? -all[j].key : all[j].key;
      }
      for (size_t j = m; j < p.k; ++j) {
        index[j] = -1;
        dist[j] = p.reverse ? -kInf : kInf;
      }
    }
  });
}

}  // namespace

void RowNorms(const float* x, size_t n, size_t d, float* out) {
  const DotRowsFn dot_rows = DotRows();
  const int workers = WorkerCount(static_cast<double>(n) * d);
  const size_t chunk = std::max<size_t>(16, kChunkBytes / (std::max<size_t>(d, 1) * sizeof(float)));
  const size_t chunks = (n + chunk - 1) / chunk;
  std::atomic<size_t> next{0};
  RunWorkers(workers, [&](int) {
    for (size_t c = next.fetch_add(1); c < chunks; c = next.fetch_add(1)) {
      const size_t first = c * chunk, rows = std::min(chunk, n - first);
      for (size_t i = first; i < first + rows; ++i) {
        dot_rows(x + i * d, 1, d, x + i * d, nullptr, out + i);
        out[i] = std::sqrt(out[i]);
      }
    }
  });
}

const uint8_t* RowSource::Rows(size_t first, size_t count, std::vector<uint8_t>& buffer) const {
  if (data != nullptr) return data + first * row_bytes;
  if (buffer.size() < count * row_bytes) buffer.resize(count * row_bytes);
  read(first, count, buffer.data());
  return buffer.data();
}

void ExactKnn(const float* base, const float* base_norms, size_t n, size_t d, const float* queries, size_t nq, size_t k,
              Metric metric, bool reverse, const uint8_t* allowed, int64_t* out_index, float* out_dist) {
  if (nq == 0 || k == 0) return;
  // Norms are required by the contract for cosine and euclidean; computing
  // them here keeps a caller's omission from crashing.
  std::vector<float> own_norms;
  if (metric != Metric::kDotProduct && base_norms == nullptr) {
    own_norms.resize(n);
    RowNorms(base, n, d, own_norms.data());
    base_norms = own_norms.data();
  }
  ExactKnn(RowSource::InPlace(base, d * sizeof(float)), base_norms, n, d, queries, nq, k, metric, reverse, allowed,
           out_index, out_dist);
}

void ExactKnn(const RowSource& base, const float* base_norms, size_t n, size_t d, const float* queries, size_t nq,
              size_t k, Metric metric, bool reverse, const uint8_t* allowed, int64_t* out_index, float* out_dist) {
  if (nq == 0 || k == 0) return;
  if (metric != Metric::kDotProduct && base_norms == nullptr && n > 0)
    throw InvalidArgument(std::string("ExactKnn: the ") + MetricName(metric) + " metric needs the rows' norms");
  std::vector<float> query_norms(nq);
  RowNorms(queries, nq, d, query_norms.data());

  Problem p{&base,   metric == Metric::kDotProduct ? nullptr : base_norms,
            n,       d,
            queries, query_norms.data(),
            nq,      k,
            metric,  reverse,
            allowed};
  const int workers = WorkerCount(static_cast<double>(n) * d * nq);
  WorkerTops tops(workers, std::vector<TopK>(nq, TopK(std::min(k, n))));
  if (n > 0) {
    if (nq < kGemmMinQueries) {
      ScanWithDotLoop(p, workers, tops);
    } else {
      ScanWithGemm(p, workers, tops);
    }
  }
  Finish(p, workers, tops, out_index, out_dist);
}

float ExactKey(const float* query, float query_norm, const float* row, float row_norm, size_t d, Metric metric,
               bool reverse) {
  if (metric == Metric::kEuclidean) return EuclideanKey(query, row, d, reverse);
  // The dot-loop path's steps for one row: same kernel, same key formula.
  float key = 0.0f;
  DotRows()(row, 1, d, query, nullptr, &key);
  ScoresToKeys({metric, reverse, query_norm, metric == Metric::kDotProduct ? nullptr : &row_norm}, &key, 1);
  return key;
}

const char* BlasDescription() {
  // Rebuilt on every call because the thread count can change at run time;
  // thread_local keeps the returned pointer valid until this thread calls
  // again.
  thread_local std::string description;
  const int parallel = openblas_get_parallel();
  const char* mode = parallel == 0 ? "sequential" : parallel == 1 ? "pthreads" : parallel == 2 ? "OpenMP" : "?";
  const int threads = ScopedSingleThreadedBlas::ConfiguredThreads();
  description = std::string(openblas_get_config()) + " (" + mode + ", " + std::to_string(threads) +
                (threads == 1 ? " thread" : " threads") + ", core " + openblas_get_corename() + ")";
  return description.c_str();
}

const char* MetricName(Metric m) {
  switch (m) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kDotProduct:
      return "dotproduct";
    case Metric::kEuclidean:
      return "euclidean";
  }
  return "?";
}

}  // namespace fo::internal
