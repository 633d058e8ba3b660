// What the benchmarks share: a description of the machine they ran on, a
// reproducible random stream, number formatting for their tables, and the
// error handling of their main().
#ifndef FO_BENCH_BENCH_UTIL_H_
#define FO_BENCH_BENCH_UTIL_H_

#include <sched.h>
#include <stdio.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <thread>

namespace fo::bench {

// A benchmark's main(): runs `body`, and on an exception prints
// "<name>: <what>" and the usage, and returns 2.
inline int RunMain(const char* name, void (*usage)(), const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    usage();
    return 2;
  }
}

inline std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

inline int CpusAvailable() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::thread::hardware_concurrency());
}

// The 1/5/15-minute load averages: these machines are shared, and a load
// above the CPU count means the timings are inflated.
inline std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// splitmix64: a fixed, platform-independent stream for a given state.
inline uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline std::string Ms(double ms) {
  char buf[32];
  snprintf(buf, sizeof(buf), ms < 1 ? "%.3f ms" : ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms" : "%.0f ms", ms);
  return buf;
}

inline std::string Fixed(double v, int digits) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

}  // namespace fo::bench

#endif  // FO_BENCH_BENCH_UTIL_H_
