#include "fo/object_id.h"

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <random>

namespace fo {
namespace {

// The per-process part of every id, drawn once: two processes creating ids in
// the same second differ here, as MongoDB's drivers do.
struct ProcessRandom {
  std::array<uint8_t, 5> bytes;
  uint32_t counter_start;
};

const ProcessRandom& GetProcessRandom() {
  static const ProcessRandom kRandom = [] {
    std::random_device rd;
    ProcessRandom r;
    for (auto& b : r.bytes) b = static_cast<uint8_t>(rd());
    r.counter_start = rd();
    return r;
  }();
  return kRandom;
}

// Starts at a random value so ids from consecutive runs in the same second do
// not share a counter prefix; wraps at 2^24 like the BSON spec's counter.
std::atomic<uint32_t>& Counter() {
  static std::atomic<uint32_t> counter{GetProcessRandom().counter_start};
  return counter;
}

}  // namespace

std::string NewObjectId() {
  static constexpr char kHex[] = "0123456789abcdef";
  const ProcessRandom& pr = GetProcessRandom();
  const uint32_t seconds = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  const uint32_t count = Counter().fetch_add(1, std::memory_order_relaxed) & 0xFFFFFF;

  std::array<uint8_t, 12> bytes = {
      static_cast<uint8_t>(seconds >> 24), static_cast<uint8_t>(seconds >> 16),
      static_cast<uint8_t>(seconds >> 8),  static_cast<uint8_t>(seconds),
      pr.bytes[0], pr.bytes[1], pr.bytes[2], pr.bytes[3], pr.bytes[4],
      static_cast<uint8_t>(count >> 16),   static_cast<uint8_t>(count >> 8),
      static_cast<uint8_t>(count)};
  std::string id(24, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    id[2 * i] = kHex[bytes[i] >> 4];
    id[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
  return id;
}

bool IsObjectId(std::string_view s) {
  if (s.size() != 24) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace fo
