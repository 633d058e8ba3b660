// Exact k-nearest-neighbour search over a dense float32 matrix: the engine of
// the sklearn backend. Scores come from BLAS (sgemv for one query, blocked
// sgemm for a batch), turned into distances and reduced to the k best per
// query with a bounded selection, in parallel over base-row blocks.
#ifndef FO_SIMILARITY_EXACT_KNN_H_
#define FO_SIMILARITY_EXACT_KNN_H_

#include <cstddef>
#include <cstdint>

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
