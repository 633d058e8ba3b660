// Exact k-nearest-neighbour search over a dense float32 matrix: the engine of
// the sklearn backend. Scores come from BLAS (sgemv for one query, blocked
// sgemm for a batch), turned into distances and reduced to the k best per
// query with a bounded selection, in parallel over base-row blocks.
#ifndef FO_SIMILARITY_EXACT_KNN_H_
#define FO_SIMILARITY_EXACT_KNN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace fo::internal {

enum class Metric { kCosine, kDotProduct, kEuclidean };

// "cosine", "dotproduct" or "euclidean": FiftyOne's names.
const char* MetricName(Metric m);

// Distances, smaller = closer:
//   cosine     1 - <q,x> / (|q| |x|)   (a zero vector is at distance 1)
//   dotproduct -<q,x>
//   euclidean  |q - x|
//
// base:        n x d row-major.
// base_norms:  n values |x_i| (L2 norm); required for cosine and euclidean.
// queries:     nq x d row-major.
// allowed:     n bytes, nonzero = eligible; nullptr = all rows eligible.
// reverse:     select the k farthest instead, farthest first.
// out_index:   nq x k row indices, nearest first; -1 pads when fewer than
//              k rows are eligible.
// out_dist:    nq x k distances matching out_index (padding: +inf, or -inf
//              with reverse).
// Ties are broken by the lower row index. Uses all OpenMP/BLAS threads.
void ExactKnn(const float* base, const float* base_norms, size_t n, size_t d,
              const float* queries, size_t nq, size_t k, Metric metric, bool reverse,
              const uint8_t* allowed, int64_t* out_index, float* out_dist);

// Where a scan finds its rows: in place (memory, or a file mapping that is
// already resident), or copied block by block into the scanning thread's own
// buffer. Copying is for a file mapping this process has not touched yet: the
// first access to each of its pages is a fault, which on virtual machines with
// shadow paging costs 0.4-0.8 s per GB even when the file is in the page
// cache, while pread() copies the same bytes at about 10 GB/s. A scan that
// goes over every row once (the first query of a process) is 2-4x faster
// through pread; later queries are faster in place (no copy).
struct RowSource {
  const uint8_t* data = nullptr;  // rows in place, or null to use `read`
  // Copies rows [first, first + count) to `out` (count * row_bytes bytes).
  std::function<void(size_t first, size_t count, void* out)> read;
  size_t row_bytes = 0;

  static RowSource InPlace(const void* rows, size_t row_bytes) {
    return {static_cast<const uint8_t*>(rows), {}, row_bytes};
  }
  // Rows [first, first + count): a pointer into `data`, or into `buffer`
  // after a read (valid until the next call with the same buffer).
  const uint8_t* Rows(size_t first, size_t count, std::vector<uint8_t>& buffer) const;
};

// ExactKnn over rows that `base` supplies (float32, d per row); results
// identical to the pointer form's, bit for bit. REQUIRES base_norms for
// cosine and euclidean (throws kInvalidArgument without).
void ExactKnn(const RowSource& base, const float* base_norms, size_t n, size_t d, const float* queries, size_t nq,
              size_t k, Metric metric, bool reverse, const uint8_t* allowed, int64_t* out_index, float* out_dist);

// ExactKnn's selection key for one row: the distance (negated with
// `reverse`), NaN as +inf so that it ranks last; ExactKnn keeps the smallest
// keys and reports reverse ? -key : key. Computed with the kernel and rounding
// of ExactKnn's path for fewer than 10 queries, so that a re-rank of chosen
// rows elsewhere reproduces its distances bit for bit.
// query_norm, row_norm: as RowNorms computes them; unused for dotproduct.
float ExactKey(const float* query, float query_norm, const float* row, float row_norm, size_t d, Metric metric,
               bool reverse);

// |x_i| for each row.
void RowNorms(const float* x, size_t n, size_t d, float* out);

// A short description of the BLAS library loaded at run time, e.g.
// "OpenBLAS 0.3.21 (pthread, 2 threads, Haswell)".
const char* BlasDescription();

}  // namespace fo::internal

#endif  // FO_SIMILARITY_EXACT_KNN_H_
