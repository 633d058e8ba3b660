// fo::Matrix: a dense row-major float32 matrix, the unit in which embeddings
// move between models, the store and similarity backends (n rows x d columns,
// row i at data() + i * cols()). Owns its buffer; copyable and movable.
#ifndef FO_MATRIX_H_
#define FO_MATRIX_H_

#include <cstddef>
#include <span>
#include <vector>

namespace fo {

class Matrix {
 public:
  Matrix() = default;
  Matrix(size_t rows, size_t cols) : rows_(rows), cols_(cols), data_(rows * cols, 0.0f) {}
  // REQUIRES: data.size() == rows * cols.
  Matrix(size_t rows, size_t cols, std::vector<float> data);

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  bool empty() const { return rows_ == 0; }
  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }
  std::span<float> row(size_t i) { return {data_.data() + i * cols_, cols_}; }
  std::span<const float> row(size_t i) const { return {data_.data() + i * cols_, cols_}; }
  const std::vector<float>& values() const { return data_; }

  // Appends one row. REQUIRES: the matrix is empty or r.size() == cols().
  void AppendRow(std::span<const float> r);

  // Throws kInvalidArgument naming `what` if any value is NaN or infinite.
  void CheckFinite(const char* what) const;

 private:
  size_t rows_ = 0;
  size_t cols_ = 0;
  std::vector<float> data_;
};

// A read-only row-major view of floats owned elsewhere (a Matrix, a numpy
// array), so that large inputs reach SimilarityIndex::AddToIndex without a
// copy. The owner must outlive the view.
class MatrixView {
 public:
  MatrixView(const float* data, size_t rows, size_t cols) : data_(data), rows_(rows), cols_(cols) {}
  MatrixView(const Matrix& m) : MatrixView(m.data(), m.rows(), m.cols()) {}  // NOLINT: implicit on purpose

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  const float* data() const { return data_; }
  std::span<const float> row(size_t i) const { return {data_ + i * cols_, cols_}; }

  // Throws kInvalidArgument naming `what` and the first bad cell if any
  // value is NaN or infinite.
  void CheckFinite(const char* what) const;

 private:
  const float* data_;
  size_t rows_;
  size_t cols_;
};

}  // namespace fo

#endif  // FO_MATRIX_H_
