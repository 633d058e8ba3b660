#include "suggest.h"

#include <algorithm>

namespace fo::cli {
namespace {

// Levenshtein distance with one row of memory.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

}  // namespace

std::string ClosestMatch(const std::string& typed, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 0;
  for (const std::string& c : candidates) {
    if (c.empty() || c == typed) continue;
    const bool prefix = typed.size() >= 2 && c.rfind(typed, 0) == 0;
    const size_t distance = prefix ? 1 : EditDistance(typed, c);
    const size_t allowed = std::max<size_t>(1, std::max(typed.size(), c.size()) / 3);
    if ((prefix || distance <= allowed) && (best.empty() || distance < best_distance)) {
      best = c;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace fo::cli
