#include "faults.h"

#include "api_error.h"
#include "json_io.h"

namespace qdrant_test_server {

using nlohmann::json;

json FaultRule::ToJson() const {
  static const char* kModes[] = {"drop", "status", "stall"};
  json out = {{"mode", kModes[static_cast<int>(mode)]},
              {"count", count},
              {"path_prefix", path_prefix},
              {"method", method}};
  if (mode == Mode::kStatus) out["status"] = status;
  if (mode == Mode::kStatus && retry_after_s >= 0) out["retry_after"] = retry_after_s;
  if (mode == Mode::kStall) out["stall_ms"] = stall_ms;
  return out;
}

FaultRule ParseFaultRule(const json& value) {
  if (!value.is_object()) throw ApiError(400, "a fault rule must be a JSON object");
  FaultRule rule;
  try {
    std::string mode = ReadString(value, "mode").value_or("");
    if (mode == "drop") {
      rule.mode = FaultRule::Mode::kDrop;
    } else if (mode == "status") {
      rule.mode = FaultRule::Mode::kStatus;
    } else if (mode == "stall") {
      rule.mode = FaultRule::Mode::kStall;
    } else {
      throw ApiError(400, "mode must be one of drop, status, stall, none");
    }
    rule.status = static_cast<int>(ReadUint(value, "status").value_or(503));
    if (rule.status < 400 || rule.status > 599) throw ApiError(400, "status must be from 400 to 599");
    rule.retry_after_s = static_cast<int>(ReadUint(value, "retry_after", "u32", 86400).value_or(-1));
    rule.stall_ms = static_cast<int>(ReadUint(value, "stall_ms", "u32", 600000).value_or(0));
    rule.count = ReadUint(value, "count").value_or(1);
    rule.path_prefix = ReadString(value, "path_prefix").value_or("");
    rule.method = ReadString(value, "method").value_or("");
  } catch (const ApiError& e) {
    throw ApiError(400, std::string("bad fault rule: ") + e.what());
  }
  return rule;
}

void FaultInjector::Set(std::vector<FaultRule> rules) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.assign(rules.begin(), rules.end());
  while (!rules_.empty() && rules_.front().count == 0) rules_.pop_front();
}

json FaultInjector::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  json rules = json::array();
  for (const FaultRule& rule : rules_) rules.push_back(rule.ToJson());
  return {{"rules", rules}};
}

std::optional<FaultRule> FaultInjector::Take(const std::string& method, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (rules_.empty()) return std::nullopt;
  FaultRule& rule = rules_.front();
  if (path.compare(0, rule.path_prefix.size(), rule.path_prefix) != 0) return std::nullopt;
  if (!rule.method.empty() && rule.method != method) return std::nullopt;
  FaultRule taken = rule;
  if (--rule.count == 0) rules_.pop_front();
  return taken;
}

void RequestStats::Count(const std::string& method, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  ++total_;
  ++paths_[path];
  ++requests_[method + " " + path];
}

json RequestStats::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {{"total", total_}, {"paths", paths_}, {"requests", requests_}};
}

void RequestStats::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  total_ = 0;
  paths_.clear();
  requests_.clear();
}

}  // namespace qdrant_test_server
