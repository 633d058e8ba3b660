// fo::Error: the one exception type the library throws for anything a caller
// can get wrong or the environment can break. Every dependency's failures
// (SQLite codes, OpenCV, file I/O, later curl and libtorch) are translated into
// it at the module that talks to the dependency, so callers catch one type and
// branch on code() (the CLI prints what() on one line; Python maps codes to
// ValueError / KeyError / ConnectionError).
#ifndef FO_ERROR_H_
#define FO_ERROR_H_

#include <stdexcept>
#include <string>

namespace fo {

enum class ErrorCode {
  kInvalidArgument,     // bad input: wrong dimension, NaN, k <= 0, bad metric...
  kNotFound,            // unknown dataset, brain key, sample or label id
  kAlreadyExists,       // duplicate dataset name or brain key
  kFailedPrecondition,  // valid input in the wrong state (e.g. empty dataset)
  kCorruption,          // a stored record or file that cannot be parsed
  kIOError,             // file system or database failure
  kUnavailable,         // a server that cannot be reached
  kUnauthenticated,     // a server that refused the credentials
  kUnimplemented,       // a capability the backend or model does not have
  kInternal,            // a broken invariant: a bug in fo
};

const char* ErrorCodeName(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

inline Error InvalidArgument(const std::string& m) { return Error(ErrorCode::kInvalidArgument, m); }
inline Error NotFound(const std::string& m) { return Error(ErrorCode::kNotFound, m); }
inline Error AlreadyExists(const std::string& m) { return Error(ErrorCode::kAlreadyExists, m); }
inline Error FailedPrecondition(const std::string& m) { return Error(ErrorCode::kFailedPrecondition, m); }
inline Error Corruption(const std::string& m) { return Error(ErrorCode::kCorruption, m); }
inline Error IOError(const std::string& m) { return Error(ErrorCode::kIOError, m); }
inline Error Unimplemented(const std::string& m) { return Error(ErrorCode::kUnimplemented, m); }
inline Error Internal(const std::string& m) { return Error(ErrorCode::kInternal, m); }

}  // namespace fo

#endif  // FO_ERROR_H_
