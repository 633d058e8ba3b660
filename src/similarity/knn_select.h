// What the k-NN scan kernels (exact_knn.cc, quantized_knn.cc) share: a
// bounded best-k selection fed one block of keys at a time, and a way to run
// one function on several threads. Internal; not part of the fo API.
//
// Selection keeps the smallest keys, ties to the lower row index. Callers
// turn distances into keys (negated for "farthest first", NaN as +inf so that
// it ranks last and keeps the ordering strict).
#ifndef FO_SIMILARITY_KNN_SELECT_H_
#define FO_SIMILARITY_KNN_SELECT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FO_KNN_SELECT_X86 1
#endif

namespace fo::internal {

struct Hit {
  float key;
  int64_t index;
};

inline bool Before(const Hit& a, const Hit& b) { return a.key < b.key || (a.key == b.key && a.index < b.index); }

// The `cap` best hits offered so far, as a heap with the worst on top.
// REQUIRES: hits are offered in increasing index order, so a key equal to the
// current worst never displaces it (the worst has the lower index).
// Not thread-safe: one per worker, merged at the end.
class TopK {
 public:
  explicit TopK(size_t cap) : cap_(cap) {}

  // Keys of rows first..first+rows-1; rows with allowed[i] == 0 are skipped.
  void OfferBlock(const float* keys, size_t rows, int64_t first, const uint8_t* allowed) {
    size_t i = 0;
    for (; i < rows && heap_.size() < cap_; ++i) {
      if (allowed != nullptr && !allowed[i]) continue;
      heap_.push_back({keys[i], first + static_cast<int64_t>(i)});
      std::push_heap(heap_.begin(), heap_.end(), Before);
    }
    if (heap_.size() < cap_) return;
    float worst = heap_.front().key;
#ifdef FO_KNN_SELECT_X86
    // Eight keys per test (SSE2 is part of x86-64): once the heap is warm
    // almost no key beats the worst, so this loop mostly just streams.
    for (; i + 8 <= rows; i += 8) {
      const __m128 w = _mm_set1_ps(worst);
      unsigned bits = static_cast<unsigned>(_mm_movemask_ps(_mm_cmplt_ps(_mm_loadu_ps(keys + i), w))) |
                      static_cast<unsigned>(_mm_movemask_ps(_mm_cmplt_ps(_mm_loadu_ps(keys + i + 4), w))) << 4;
      for (; bits != 0; bits &= bits - 1) {
        const size_t r = i + static_cast<size_t>(__builtin_ctz(bits));
        // Re-test: `worst` may have dropped since the mask was taken.
        if (keys[r] < worst && (allowed == nullptr || allowed[r])) {
          ReplaceTop({keys[r], first + static_cast<int64_t>(r)});
          worst = heap_.front().key;
        }
      }
    }
#endif
    for (; i < rows; ++i) {
      // The key test comes first: it is almost always false.
      if (keys[i] < worst && (allowed == nullptr || allowed[i])) {
        ReplaceTop({keys[i], first + static_cast<int64_t>(i)});
        worst = heap_.front().key;
      }
    }
  }

  std::vector<Hit>& hits() { return heap_; }

 private:
  // Sift-down of a new element replacing the top: one pass instead of
  // pop_heap + push_heap.
  void ReplaceTop(Hit h) {
    size_t n = heap_.size(), pos = 0;
    while (true) {
      size_t child = 2 * pos + 1;
      if (child >= n) break;
      if (child + 1 < n && Before(heap_[child], heap_[child + 1])) ++child;
      if (!Before(h, heap_[child])) break;
      heap_[pos] = heap_[child];
      pos = child;
    }
    heap_[pos] = h;
  }

  size_t cap_;
  std::vector<Hit> heap_;
};

// Runs fn(worker) for worker in [0, workers), the caller being worker 0;
// rethrows the first exception once all have finished.
template <typename Fn>
void RunWorkers(int workers, Fn&& fn) {
  std::exception_ptr error;
  std::mutex error_mu;
  auto guarded = [&](int w) {
    try {
      fn(w);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers > 0 ? workers - 1 : 0);
  for (int w = 1; w < workers; ++w) threads.emplace_back(guarded, w);
  guarded(0);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace fo::internal

#endif  // FO_SIMILARITY_KNN_SELECT_H_
