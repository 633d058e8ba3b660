#include "core/os_error.h"

#include <cerrno>
#include <cstring>

namespace fo::internal {

Error DiskFull(const std::string& path) {
  return IOError("the disk holding " + path + " is full: free some space and try again");
}

Error OsError(const std::string& what, const std::string& path, int err) {
  if (err == ENOSPC) return DiskFull(path);
  return IOError(what + " " + path + ": " + std::strerror(err));
}

}  // namespace fo::internal
