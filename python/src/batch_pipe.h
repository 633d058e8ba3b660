// A bounded hand-off of batches from one producer thread to one consumer
// thread. add_samples uses it so that making C++ samples from fo.Sample
// objects (which needs the GIL) runs on one core while the previous batch is
// written to the store (which does not) on the other.
#ifndef FO_PYTHON_BATCH_PIPE_H_
#define FO_PYTHON_BATCH_PIPE_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

#include "fo/error.h"

namespace fo::py_bind {

template <typename Batch>
class BatchPipe {
 public:
  explicit BatchPipe(size_t capacity) : capacity_(capacity) {}

  // Blocks while `capacity` batches wait. False if the consumer has stopped
  // (it failed; its error is what the caller reports).
  bool Push(Batch batch) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return queue_.size() < capacity_ || consumer_stopped_; });
    if (consumer_stopped_) return false;
    queue_.push_back(std::move(batch));
    changed_.notify_all();
    return true;
  }

  // Blocks until a batch or the end. False at the end; throws if the
  // producer aborted, so that the consumer's transaction rolls back.
  bool Pop(Batch& out) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return !queue_.empty() || closed_ || aborted_; });
    if (aborted_) throw Internal("the producer of the batches failed");  // never shown: the producer reports its own error
    if (queue_.empty()) return false;
    out = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return true;
  }

  // The producer has no more batches.
  void Close() { Set(closed_); }
  // The producer failed: the consumer's next Pop throws.
  void Abort() { Set(aborted_); }
  // The consumer is done (normally or not): Push returns false from now on.
  void StopConsuming() { Set(consumer_stopped_); }

 private:
  void Set(bool& flag) {
    std::lock_guard<std::mutex> lock(mu_);
    flag = true;
    changed_.notify_all();
  }

  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Batch> queue_;
  bool closed_ = false;
  bool aborted_ = false;
  bool consumer_stopped_ = false;
};

}  // namespace fo::py_bind

#endif  // FO_PYTHON_BATCH_PIPE_H_
