// Test-only controls that no Qdrant has: planned faults for the next matching
// requests (to exercise a client's retries and timeouts) and per-path request
// counts (to see how often it retried). Both are thread-safe.
#ifndef FO_TOOLS_QDRANT_TEST_SERVER_FAULTS_H_
#define FO_TOOLS_QDRANT_TEST_SERVER_FAULTS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace qdrant_test_server {

struct FaultRule {
  enum class Mode { kDrop, kStatus, kStall };
  Mode mode = Mode::kStatus;
  int status = 503;         // kStatus: the HTTP status answered
  int retry_after_s = -1;   // kStatus: a Retry-After header when >= 0
  int stall_ms = 0;         // kStall: the delay before normal service
  uint64_t count = 1;       // how many matching requests it applies to
  std::string path_prefix;  // empty matches every path
  std::string method;       // empty matches every method

  nlohmann::json ToJson() const;
};

// Reads {"mode": "drop"|"status"|"stall", "status", "count", "stall_ms",
// "path_prefix", "method", "retry_after"}. Throws ApiError 400.
FaultRule ParseFaultRule(const nlohmann::json& value);

// Rules apply in order: the first rule serves its count of matching requests,
// then the next one takes over. Requests the first rule does not match are
// served normally.
class FaultInjector {
 public:
  void Set(std::vector<FaultRule> rules);
  nlohmann::json Describe() const;
  // The rule to apply to this request, using up one of its count.
  std::optional<FaultRule> Take(const std::string& method, const std::string& path);

 private:
  mutable std::mutex mu_;
  std::deque<FaultRule> rules_;
};

class RequestStats {
 public:
  void Count(const std::string& method, const std::string& path);
  // {"total": n, "paths": {path: n}, "requests": {"METHOD path": n}}
  nlohmann::json Snapshot() const;
  void Reset();

 private:
  mutable std::mutex mu_;
  uint64_t total_ = 0;
  std::map<std::string, uint64_t> paths_;
  std::map<std::string, uint64_t> requests_;
};

}  // namespace qdrant_test_server

#endif  // FO_TOOLS_QDRANT_TEST_SERVER_FAULTS_H_
