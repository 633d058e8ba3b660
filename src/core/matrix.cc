#include "fo/matrix.h"

#include <cmath>
#include <string>
#include <utility>

#include "fo/error.h"

namespace fo {

Matrix::Matrix(size_t rows, size_t cols, std::vector<float> data)
    : rows_(rows), cols_(cols), data_(std::move(data)) {
  // Checked even in release builds: a short buffer here would turn into an
  // out-of-bounds read far away, in a backend's inner loop.
  if (data_.size() != rows_ * cols_) {
    throw InvalidArgument("matrix of " + std::to_string(rows_) + " x " + std::to_string(cols_) +
                          " given " + std::to_string(data_.size()) + " values");
  }
}

void Matrix::AppendRow(std::span<const float> r) {
  if (rows_ == 0) {
    cols_ = r.size();
  } else if (r.size() != cols_) {
    throw InvalidArgument("row of " + std::to_string(r.size()) + " values appended to a matrix of " +
                          std::to_string(cols_) + " columns");
  }
  data_.insert(data_.end(), r.begin(), r.end());
  ++rows_;
}

void Matrix::CheckFinite(const char* what) const { MatrixView(*this).CheckFinite(what); }

void MatrixView::CheckFinite(const char* what) const {
  const size_t n = rows_ * cols_;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(data_[i])) {
      // cols_ > 0 here, since the buffer is not empty.
      throw InvalidArgument(std::string(what) + " contains NaN or Inf at row " + std::to_string(i / cols_) +
                            ", column " + std::to_string(i % cols_));
    }
  }
}

}  // namespace fo
