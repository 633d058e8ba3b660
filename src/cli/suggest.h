// "Did you mean ...?" for a mistyped command or option.
#ifndef FO_CLI_SUGGEST_H_
#define FO_CLI_SUGGEST_H_

#include <string>
#include <vector>

namespace fo::cli {

// The candidate closest to `typed` by edit distance, if it is close enough
// to be a likely typo (at most a third of the longer word's letters away,
// or `typed` is a prefix of it); "" otherwise.
std::string ClosestMatch(const std::string& typed, const std::vector<std::string>& candidates);

}  // namespace fo::cli

#endif  // FO_CLI_SUGGEST_H_
