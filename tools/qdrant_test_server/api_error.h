// Errors a handler reports to the client, with Qdrant's HTTP status and
// message. Handlers throw ApiError; the server turns it into Qdrant's error
// envelope {"status": {"error": message}, "time": t} in one place.
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_API_ERROR_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_API_ERROR_H_

#include <stdexcept>
#include <string>
#include <vector>

namespace qdrant_test_server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int http_status, const std::string& message)
      : std::runtime_error(message), http_status_(http_status) {}
  int http_status() const { return http_status_; }

 private:
  int http_status_;
};

// 400 "Format error in JSON body: ..." (serde's wording for a body that does
// not deserialize: bad syntax, wrong type, unknown enum value, bad point id).
inline ApiError FormatError(const std::string& detail) {
  return ApiError(400, "Format error in JSON body: " + detail);
}

// 400 "Wrong input: ..." (Qdrant's StorageError::BadInput).
inline ApiError BadInput(const std::string& detail) { return ApiError(400, "Wrong input: " + detail); }

// 404 "Not found: ..." (Qdrant's StorageError::NotFound).
inline ApiError NotFound(const std::string& detail) { return ApiError(404, "Not found: " + detail); }

inline ApiError CollectionNotFound(const std::string& name) {
  return NotFound("Collection `" + name + "` doesn't exist!");
}

// 409: Qdrant maps StorageError::AlreadyExists to CONFLICT, though its text
// reads as a BadInput.
inline ApiError CollectionExists(const std::string& name) {
  return ApiError(409, "Wrong input: Collection `" + name + "` already exists!");
}

// A feature of the real server that this test server does not have. Real
// Qdrant would accept the request, so the message says plainly that the
// limitation is ours.
inline ApiError Unsupported(const std::string& what) {
  return BadInput(what + " is not supported by qdrant-test-server");
}

// Collects range violations (Qdrant's 422 "Validation error in <where>:
// [field: message; ...]") so that one response lists all of them, as the
// real server's validator does.
class Validation {
 public:
  void Fail(const std::string& field, const std::string& message) {
    errors_.push_back(field + ": " + message);
  }
  // value >= min.
  void Min(const std::string& field, double value, double min);
  // min <= value <= max.
  void Between(const std::string& field, double value, double min, double max);
  // Throws a 422 ApiError if any check failed. where is "JSON body",
  // "query parameters" or "path parameters".
  void ThrowIfFailed(const std::string& where) const;

 private:
  std::vector<std::string> errors_;
};

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_API_ERROR_H_
