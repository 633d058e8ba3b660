// A one-line progress bar on stderr for long loops (embedding a dataset,
// downloading model weights). Not API: the CLI and the library's long
// operations use it; users see only its output.
#ifndef FO_CORE_PROGRESS_H_
#define FO_CORE_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace fo::internal {

// True when stderr is a terminal (isatty(2)): only then is a bar that
// redraws itself with '\r' readable rather than noise in a log.
bool StderrIsTerminal();

// Binary units with one decimal: "512 B", "12.3 MiB", "1.0 GiB".
std::string FormatBytes(uint64_t bytes);

enum class ProgressUnit { kItems, kBytes };

// What one redraw shows; RenderProgressLine is a pure function of it so
// tests can check the layout without a clock or a terminal.
struct ProgressState {
  std::string_view label;
  uint64_t done = 0;
  uint64_t total = 0;      // 0 = unknown: no bar, percentage or ETA
  double elapsed_s = 0;    // since the bar was created
  uint64_t initial = 0;    // done before the bar started (a resumed download); not counted in the rate
  ProgressUnit unit = ProgressUnit::kItems;
};

// "label [=========>          ]  1.2 MiB/3.0 MiB  40%  512.0 KiB/s  00:02<00:03"
// With an unknown total: "label  1.2 MiB  512.0 KiB/s  00:02".
std::string RenderProgressLine(const ProgressState& state);

// Draws RenderProgressLine on stderr, redrawing at most ten times a second.
// Thread-safe: Add may be called from any thread. A disabled bar does
// nothing at all, so callers need no `if` around it.
class ProgressBar {
 public:
  using Unit = ProgressUnit;

  ProgressBar(std::string label, uint64_t total, bool enabled = StderrIsTerminal(), Unit unit = Unit::kItems);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Counts `done` as already complete without crediting it to the rate:
  // a download resumed from a partial file. Call before the first Add.
  void SetInitial(uint64_t done);
  void Add(uint64_t n);
  // Draws the final state and ends the line. Idempotent.
  void Finish();

 private:
  void DrawLocked(bool final);

  const std::string label_;
  const uint64_t total_;
  const bool enabled_;
  const Unit unit_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mu_;
  uint64_t done_ = 0;
  uint64_t initial_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
  bool finished_ = false;
};

}  // namespace fo::internal

#endif  // FO_CORE_PROGRESS_H_
