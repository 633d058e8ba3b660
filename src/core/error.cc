#include "fo/error.h"

namespace fo {

// The names mirror the enumerators (without the k) so a code printed by the
// CLI or logged can be grepped straight back to error.h.
const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kAlreadyExists: return "AlreadyExists";
    case ErrorCode::kFailedPrecondition: return "FailedPrecondition";
    case ErrorCode::kCorruption: return "Corruption";
    case ErrorCode::kIOError: return "IOError";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kUnauthenticated: return "Unauthenticated";
    case ErrorCode::kUnimplemented: return "Unimplemented";
    case ErrorCode::kInternal: return "Internal";
  }
  // Only reachable through a cast from an out-of-range integer.
  return "Unknown";
}

}  // namespace fo
