#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace fo::internal {
namespace {

constexpr int kBarWidth = 24;
// Redrawing more often than this only costs time; the eye cannot follow it.
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

std::string Amount(uint64_t n, ProgressUnit unit) {
  return unit == ProgressUnit::kBytes ? FormatBytes(n) : std::to_string(n);
}

std::string Rate(double per_second, ProgressUnit unit) {
  if (unit == ProgressUnit::kBytes) {
    return FormatBytes(static_cast<uint64_t>(per_second)) + "/s";
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f it/s", per_second);
  return buf;
}

// "mm:ss", or "h:mm:ss" from an hour on.
std::string Clock(double seconds) {
  if (seconds < 0) seconds = 0;
  const uint64_t s = static_cast<uint64_t>(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%02" PRIu64 ":%02" PRIu64, s / 60, s % 60);
  }
  return buf;
}

std::string Bar(uint64_t done, uint64_t total) {
  const int filled = static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * kBarWidth);
  std::string bar(kBarWidth, ' ');
  for (int i = 0; i < filled && i < kBarWidth; ++i) bar[i] = '=';
  if (filled < kBarWidth) bar[filled] = '>';
  return "[" + bar + "]";
}

}  // namespace

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit + 1 < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  return buf;
}

std::string RenderProgressLine(const ProgressState& s) {
  const uint64_t counted = s.done > s.initial ? s.done - s.initial : 0;
  const double rate = s.elapsed_s > 0 ? static_cast<double>(counted) / s.elapsed_s : 0;
  std::string line(s.label);
  if (s.total == 0) {
    line += "  " + Amount(s.done, s.unit) + "  " + Rate(rate, s.unit) + "  " + Clock(s.elapsed_s);
    return line;
  }
  const uint64_t done = std::min(s.done, s.total);
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(100.0 * done / s.total));
  line += " " + Bar(done, s.total) + "  " + Amount(done, s.unit) + "/" + Amount(s.total, s.unit) + "  " + percent +
          "  " + Rate(rate, s.unit) + "  " + Clock(s.elapsed_s) + "<";
  // No rate yet means no estimate; "--:--" rather than a wild guess.
  line += rate > 0 ? Clock(static_cast<double>(s.total - done) / rate) : "--:--";
  return line;
}

ProgressBar::ProgressBar(std::string label, uint64_t total, bool enabled, Unit unit)
    : label_(std::move(label)), total_(total), enabled_(enabled), unit_(unit) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::SetInitial(uint64_t done) {
  std::lock_guard lock(mu_);
  initial_ = done;
  done_ = done;
}

void ProgressBar::Add(uint64_t n) {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  done_ += n;
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >= kRedrawInterval) DrawLocked(false);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  std::lock_guard lock(mu_);
  if (finished_) return;
  DrawLocked(true);
  finished_ = true;
}

void ProgressBar::DrawLocked(bool final) {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const std::string line =
      RenderProgressLine({.label = label_, .done = done_, .total = total_, .elapsed_s = elapsed, .initial = initial_, .unit = unit_});
  // "\x1b[K" clears what a longer previous line left behind.
  std::fprintf(stderr, "\r%s\x1b[K%s", line.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace fo::internal
