// The slow reference the k-NN kernel tests compare against: exact_knn.h's
// distance definitions evaluated in double precision, one pair at a time.
#ifndef FO_TESTS_KNN_REFERENCE_H_
#define FO_TESTS_KNN_REFERENCE_H_

#include <cmath>
#include <cstddef>

#include "similarity/exact_knn.h"

namespace fo::internal {

inline double RefDistance(const float* q, const float* x, size_t d, Metric metric) {
  double dot = 0, qq = 0, xx = 0, l2 = 0;
  for (size_t j = 0; j < d; ++j) {
    dot += static_cast<double>(q[j]) * x[j];
    qq += static_cast<double>(q[j]) * q[j];
    xx += static_cast<double>(x[j]) * x[j];
    double diff = static_cast<double>(q[j]) - x[j];
    l2 += diff * diff;
  }
  switch (metric) {
    case Metric::kCosine:
      return (qq == 0 || xx == 0) ? 1.0 : 1.0 - dot / (std::sqrt(qq) * std::sqrt(xx));
    case Metric::kDotProduct:
      return -dot;
    case Metric::kEuclidean:
      return std::sqrt(l2);
  }
  return 0;
}

}  // namespace fo::internal

#endif  // FO_TESTS_KNN_REFERENCE_H_
