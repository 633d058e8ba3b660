// Failures of the operating system's file calls as fo::Error, translated in
// one place (as LevelDB's PosixError): a full disk reads the same wherever it
// is met, in SQLite's writes or in our own files. Not API.
#ifndef FO_CORE_OS_ERROR_H_
#define FO_CORE_OS_ERROR_H_

#include <string>

#include "fo/error.h"

namespace fo::internal {

// kIOError "the disk holding <path> is full: free some space and try again".
// What every write that meets a full disk (ENOSPC, SQLITE_FULL) throws; the
// write it interrupted left nothing that counts (docs/storage.md).
Error DiskFull(const std::string& path);

// The error of a failed file call: DiskFull(path) for ENOSPC, else
// kIOError "<what> <path>: <strerror(err)>" (e.g. what = "cannot write").
Error OsError(const std::string& what, const std::string& path, int err);

}  // namespace fo::internal

#endif  // FO_CORE_OS_ERROR_H_
