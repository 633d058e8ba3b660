// Reduced-precision k-NN for the sklearn backend's `storage` option: the rows
// are kept as float16 or int8 codes (2 or 1 bytes a value instead of 4), one
// query scans the codes to pick a candidate set by approximate distance, and
// the candidates are re-ranked with exact float32 distances read from the
// float32 rows (typically a memory-mapped file, of which only candidate rows
// are touched). The result equals ExactKnn's when every true top-k row is
// among the candidates; CandidateCount() chooses that set's size.
//
// Approximate distance: the exact distance (exact_knn.h's definitions) from
// the query to the *decoded* row. Codes are written by EncodeRows, which for
// cosine encodes unit-normalised rows; CandidateSearch then normalises the
// query and takes 1 - <q, decoded row>.
//
// Thread-safety: every function may be called concurrently; a ScalarQuantizer
// is immutable once built. CandidateSearch and EncodeRows use every hardware
// thread (std::threads, for row blocks large enough to be worth one).
#ifndef FO_SIMILARITY_QUANTIZED_KNN_H_
#define FO_SIMILARITY_QUANTIZED_KNN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "similarity/exact_knn.h"

namespace fo::internal {

enum class VectorStorage { kFloat32, kFloat16, kInt8 };

// "float32", "float16" or "int8". Throws fo::Error (kInvalidArgument) for any
// other name: "unsupported storage 'x'; use float32, float16 or int8".
VectorStorage ParseVectorStorage(const std::string& name);
const char* StorageName(VectorStorage storage);

// Bytes of one encoded row of d values: 4d, 2d or d.
size_t CodeBytesPerRow(VectorStorage storage, size_t d);

// IEEE binary16, rounded to nearest even (overflow to inf, NaN kept NaN);
// the same bits with or without F16C.
void EncodeFloat16(const float* x, size_t count, uint16_t* out);
void DecodeFloat16(const uint16_t* h, size_t count, float* out);

// out_i = x_i / |x_i| (|x_i| as RowNorms computes it); zero rows stay zero.
// x == out is allowed.
void NormalizeRows(const float* x, size_t n, size_t d, float* out);

// Per-dimension affine int8 code: value = offset[j] + scale[j] * code, with
// offset and scale the minimum and (maximum - minimum) / 255 of dimension j
// over a sample of rows. Encoding rounds to the nearest code and clamps values
// outside the trained range (and NaN, to code 0).
class ScalarQuantizer {
 public:
  // Rows read by Train at most: enough to pin each dimension's range, and a
  // bound on the rows a build touches (Train keeps O(d) state, not rows).
  static constexpr size_t kDefaultMaxSample = 100000;

  // Returns a pointer to row i's d values, valid until the next call.
  using RowFn = std::function<const float*(size_t row)>;

  // Fits on min(n, max_sample) rows evenly spaced over [0, n). For cosine the
  // sampled rows are unit-normalised first, as EncodeRows does for the codes.
  // Non-finite values are ignored; a dimension with none finite gets
  // offset 0, scale 0 (every value encodes to 0).
  static ScalarQuantizer Train(size_t n, size_t d, Metric metric, const RowFn& row,
                               size_t max_sample = kDefaultMaxSample);
  // The same over a row-major n x d matrix (may be memory-mapped: only the
  // sampled rows are read).
  static ScalarQuantizer Train(const float* x, size_t n, size_t d, Metric metric,
                               size_t max_sample = kDefaultMaxSample);

  // The flat form, for a file header: 2 * dim() floats, the offsets then the
  // scales. FromFlat throws fo::Error (kCorruption) unless count is even and
  // nonzero and every value is finite with scales >= 0.
  std::vector<float> ToFlat() const;
  static ScalarQuantizer FromFlat(const float* flat, size_t count);

  size_t dim() const { return offset_.size(); }
  const std::vector<float>& offsets() const { return offset_; }
  const std::vector<float>& scales() const { return scale_; }

  // codes: n x dim() bytes; out: n x dim() floats.
  void Encode(const float* x, size_t n, uint8_t* codes) const;
  void Decode(const uint8_t* codes, size_t n, float* out) const;

 private:
  ScalarQuantizer(std::vector<float> offset, std::vector<float> scale);

  std::vector<float> offset_, scale_, inv_scale_;
};

// Writes n rows of x (n x d) as codes (n x CodeBytesPerRow(storage, d)
// bytes): float32 copied, float16 rounded, int8 through `quantizer`
// (REQUIRES: non-null with dim() == d for kInt8; ignored otherwise). For
// cosine the rows are unit-normalised first. Bounded extra memory (a block of
// rows per thread), so a large file can be encoded block by block.
void EncodeRows(VectorStorage storage, const ScalarQuantizer* quantizer, Metric metric, const float* x, size_t n,
                size_t d, uint8_t* codes);

// A borrowed view of n rows written by EncodeRows for one metric.
struct CodeMatrix {
  VectorStorage storage = VectorStorage::kFloat32;
  const uint8_t* codes = nullptr;              // n x CodeBytesPerRow(storage, d) bytes
  size_t n = 0, d = 0;
  const ScalarQuantizer* quantizer = nullptr;  // REQUIRED for kInt8
  // Instead of `codes` (null): copies rows [first, first + count) to `out`,
  // as RowSource::read (exact_knn.h) and for the same reason.
  std::function<void(size_t first, size_t count, void* out)> read;
};

// How many candidates to re-rank for a top-k: max(4k, k + 100). The fixed
// margin covers clumps of near-equal rows larger than k, the multiple covers
// large k; see quantized_knn.cc for the recall measured with it.
size_t CandidateCount(size_t k);

// The (at most) n_candidates best eligible rows by approximate distance,
// nearest first (farthest first with `reverse`), ties to the lower row; fewer
// when fewer rows are eligible. allowed: n bytes, nonzero = eligible; nullptr
// = all. `metric` must be the one the codes were written for.
// Throws fo::Error (kInvalidArgument) for kInt8 without a quantizer of
// dimension d.
std::vector<int64_t> CandidateSearch(const CodeMatrix& codes, const float* query, Metric metric, bool reverse,
                                     const uint8_t* allowed, size_t n_candidates);

// Returns a pointer to float32 row `row`'s d values (the original rows, not
// normalised), valid until the next call.
using RowFetcher = std::function<const float*(int64_t row)>;

// Exact top-k among `candidates` (distinct rows): out_index / out_dist (k
// each) as ExactKnn writes them for one query: nearest first (farthest with
// `reverse`), ties to the lower row, -1 / +inf (-inf with reverse) padding,
// NaN distances last as +inf (-inf). Each distance is bit-identical to the
// one ExactKnn reports for that row (ExactKey). Rows are fetched once each,
// in increasing row order.
void ReRank(std::span<const int64_t> candidates, size_t d, const RowFetcher& fetch, const float* query,
            Metric metric, bool reverse, size_t k, int64_t* out_index, float* out_dist);

// CandidateSearch with CandidateCount(k) candidates (or n_candidates if
// nonzero), then ReRank: the search the backend runs for one query.
void QuantizedKnn(const CodeMatrix& codes, const RowFetcher& fetch, const float* query, size_t k, Metric metric,
                  bool reverse, const uint8_t* allowed, int64_t* out_index, float* out_dist,
                  size_t n_candidates = 0);

// The scan and float16 kernels in use: "avx2" (AVX2 + FMA + F16C, chosen at
// run time when the CPU has them) or "scalar". Both give bit-identical
// codes and approximate distances.
const char* ScanKernelName();

// Tests only: true forces the scalar kernels process-wide, false restores
// the run-time choice.
void ForceScalarKernelsForTesting(bool force);

}  // namespace fo::internal

#endif  // FO_SIMILARITY_QUANTIZED_KNN_H_
