#include "store/view_keys.h"

#include <algorithm>
#include <unordered_map>

#include "fo/database.h"
#include "store/sqlite.h"

namespace fo::internal {

namespace {

// SQLite's default limit on bound parameters is 32766; 500 keeps statements
// short and still makes a million lookups 2,000 queries.
constexpr size_t kChunk = 500;

std::string Placeholders(size_t n) {
  std::string s = "(";
  for (size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
  return s + ")";
}

// Runs `sql_prefix` + "(?,...)" per chunk of `ids`, the dataset id bound
// first, and maps column 0 (id) to column 1 (key).
std::vector<int64_t> KeysOf(const View& dataset, const std::vector<std::string>& ids, const std::string& sql_prefix) {
  std::vector<int64_t> out(ids.size(), 0);
  auto& db = dataset.database()->sqlite();
  std::lock_guard lock(db.mutex());
  for (size_t begin = 0; begin < ids.size(); begin += kChunk) {
    size_t end = std::min(ids.size(), begin + kChunk);
    auto q = db.Prepare(sql_prefix + Placeholders(end - begin));
    q.Bind(1, dataset.dataset_id());
    for (size_t i = begin; i < end; ++i) q.Bind(static_cast<int>(i - begin + 2), ids[i]);
    std::unordered_map<std::string, int64_t> key_of;
    while (q.Step()) key_of.emplace(q.Text(0), q.Int(1));
    for (size_t i = begin; i < end; ++i) {
      auto it = key_of.find(ids[i]);
      if (it != key_of.end()) out[i] = it->second;
    }
  }
  return out;
}

}  // namespace

std::vector<int64_t> SampleKeysOfIds(const View& dataset, const std::vector<std::string>& ids) {
  // "+dataset_id" keeps the planner on the unique index of id: with the
  // (dataset_id, seq) index it would scan the dataset once per chunk.
  return KeysOf(dataset, ids, "SELECT id, seq FROM samples WHERE +dataset_id = ? AND id IN ");
}

std::vector<int64_t> LabelKeysOfIds(const View& dataset, const std::vector<std::string>& ids) {
  return KeysOf(dataset, ids,
                "SELECT l.id, l.seq FROM labels l JOIN samples s ON l.sample_seq = s.seq "
                "WHERE +s.dataset_id = ? AND l.id IN ");
}

std::vector<int64_t> ExistingSampleKeys(const View& dataset, std::span<const int64_t> keys) {
  std::vector<int64_t> out;
  auto& db = dataset.database()->sqlite();
  std::lock_guard lock(db.mutex());
  for (size_t begin = 0; begin < keys.size(); begin += kChunk) {
    size_t end = std::min(keys.size(), begin + kChunk);
    auto q = db.Prepare("SELECT seq FROM samples WHERE dataset_id = ? AND seq IN " + Placeholders(end - begin));
    q.Bind(1, dataset.dataset_id());
    for (size_t i = begin; i < end; ++i) q.Bind(static_cast<int>(i - begin + 2), keys[i]);
    while (q.Step()) out.push_back(q.Int(0));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace fo::internal
