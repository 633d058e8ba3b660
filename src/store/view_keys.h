// The sample keys of a view, for layers that restrict work to a view without
// handling id strings (a similarity index turns them into a row mask).
#ifndef FO_STORE_VIEW_KEYS_H_
#define FO_STORE_VIEW_KEYS_H_

#include <cstdint>
#include <vector>

#include "fo/view.h"

namespace fo::internal {

// The keys (samples.seq) of the view's samples, sorted ascending.
std::vector<int64_t> ViewSampleKeys(const View& view);

}  // namespace fo::internal

#endif  // FO_STORE_VIEW_KEYS_H_
