// An exclusive advisory lock (flock) on a lock file, so that two processes
// downloading the same model file take turns instead of appending to the
// same partial file.
#ifndef FO_ZOO_FILE_LOCK_H_
#define FO_ZOO_FILE_LOCK_H_

#include <filesystem>

namespace fo::internal {

// Blocks until the lock is held; the destructor deletes the lock file and
// releases it. Throws kIOError when the lock file cannot be created.
class FileLock {
 public:
  explicit FileLock(std::filesystem::path path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace fo::internal

#endif  // FO_ZOO_FILE_LOCK_H_
