#include "zoo/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fo/error.h"

namespace fo::internal {
namespace {

bool SameFile(int fd, const std::filesystem::path& path) {
  struct stat held {}, named {};
  if (fstat(fd, &held) != 0 || stat(path.c_str(), &named) != 0) return false;
  return held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}

}  // namespace

FileLock::FileLock(std::filesystem::path path) : path_(std::move(path)) {
  // The holder deletes the file when done, so a waiter may end up locking a
  // file that is no longer at `path` while a newcomer locks a new one; the
  // waiter notices (different inode) and starts over.
  for (;;) {
    int fd = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw IOError("cannot create lock file " + path_.string() + ": " + std::strerror(errno));
    int rc = 0;
    while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
      close(fd);
      throw IOError("cannot lock " + path_.string() + ": " + std::strerror(errno));
    }
    if (SameFile(fd, path_)) {
      fd_ = fd;
      return;
    }
    close(fd);
  }
}

FileLock::~FileLock() {
  unlink(path_.c_str());
  close(fd_);
}

}  // namespace fo::internal
