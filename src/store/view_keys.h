// Store keys of samples and labels: the integer keys (samples.seq,
// labels.seq) that the similarity layer works with inside, so that views
// and indexes meet without 24-hex strings. ObjectIds are converted here, at
// the store's edge. Callers need not hold the store's mutex: each function
// takes it.
//
// Keys of deleted samples are never reused (the store guarantees it), so a
// key recorded in an index always names the same sample or none.
#ifndef FO_STORE_VIEW_KEYS_H_
#define FO_STORE_VIEW_KEYS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fo/view.h"

namespace fo::internal {

// The keys of the samples of `view`, sorted ascending, duplicates removed.
// The one place where a view becomes a key set: one SQL query over the
// compiled view (store/view_query.h), defined in view.cc.
std::vector<int64_t> ViewSampleKeys(const View& view);

// The key of each sample id of dataset `dataset_id`, aligned with `ids`;
// 0 for an id that is not a sample of the dataset. Batched: one query per
// chunk of ids, never one per id.
std::vector<int64_t> SampleKeysOfIds(const View& dataset, const std::vector<std::string>& ids);
// Likewise for label ids of the dataset's samples (any field).
std::vector<int64_t> LabelKeysOfIds(const View& dataset, const std::vector<std::string>& ids);

// The subset of `keys` that are still samples of the dataset, sorted
// ascending (one query per chunk).
std::vector<int64_t> ExistingSampleKeys(const View& dataset, std::span<const int64_t> keys);

}  // namespace fo::internal

#endif  // FO_STORE_VIEW_KEYS_H_
