#include "store/view_query.h"

#include <nlohmann/json.hpp>

namespace fo::internal {

Statement ViewQuery::Prepare(Sqlite& db, const std::string& before, const std::string& after,
                             const std::vector<SqlParam>& extra_params) const {
  Statement st = db.Prepare(before + "(" + sql + ")" + after);
  int i = 1;
  for (const auto* list : {&params, &extra_params})
    for (const auto& p : *list) std::visit([&](const auto& v) { st.Bind(i++, v); }, p);
  return st;
}

ViewQuery DatasetQuery(int64_t dataset_id) {
  ViewQuery q;
  q.sql = "SELECT seq AS k, seq AS o FROM samples WHERE dataset_id = ?";
  q.params = {dataset_id};
  q.dataset_id = dataset_id;
  return q;
}

void AddFilter(ViewQuery& q, const std::string& condition, std::vector<SqlParam> params) {
  q.sql = "SELECT k, o FROM (" + q.sql + ") WHERE " + condition;
  q.params.insert(q.params.end(), std::make_move_iterator(params.begin()), std::make_move_iterator(params.end()));
  q.whole_dataset = false;
}

void AddSlice(ViewQuery& q, std::optional<size_t> limit, size_t offset) {
  // Rows of deleted samples must not take a place in the slice.
  std::string from = "(" + q.sql + ") AS v" + (q.from_key_list ? " JOIN samples AS s ON s.seq = v.k" : "");
  q.sql = "SELECT v.k AS k, v.o AS o FROM " + from + " ORDER BY v.o LIMIT ? OFFSET ?";
  q.from_key_list = false;
  q.params.emplace_back(limit ? static_cast<int64_t>(*limit) : int64_t{-1});
  q.params.emplace_back(static_cast<int64_t>(offset));
  q.whole_dataset = false;
}

void ReplaceByKeys(ViewQuery& q, std::span<const int64_t> keys, std::shared_ptr<const RowExtras> extras,
                   bool input_unchanged) {
  std::string list = "SELECT j.value AS k, j.key AS o FROM json_each(?) AS j";
  std::vector<SqlParam> params = {JsonArray(keys)};
  if (!q.whole_dataset && !input_unchanged) {
    // Keys of deleted samples are dropped by the final join with samples;
    // this keeps only the rows the input view still has.
    list += " WHERE j.value IN (SELECT k FROM (" + q.sql + "))";
    params.insert(params.end(), q.params.begin(), q.params.end());
  }
  q.sql = std::move(list);
  q.params = std::move(params);
  q.whole_dataset = false;
  q.from_key_list = true;
  q.extras = std::move(extras);
}

std::vector<KeyRow> EvaluateKeys(Sqlite& db, const ViewQuery& q) {
  std::vector<KeyRow> rows;
  std::string join = q.from_key_list ? " AS v JOIN samples AS s ON s.seq = v.k" : " AS v";
  auto st = q.Prepare(db, "SELECT v.k, v.o FROM ", join + " ORDER BY v.o");
  while (st.Step()) rows.push_back({st.Int(0), st.Int(1)});
  return rows;
}

std::shared_ptr<const RowExtras> PickExtras(const ViewQuery& q, const std::vector<KeyRow>& rows) {
  if (!q.extras) return nullptr;
  auto out = std::make_shared<RowExtras>();
  out->reserve(rows.size());
  for (const auto& r : rows) out->push_back((*q.extras)[static_cast<size_t>(r.order)]);
  return out;
}

std::vector<int64_t> KeysOf(const std::vector<KeyRow>& rows) {
  std::vector<int64_t> keys;
  keys.reserve(rows.size());
  for (const auto& r : rows) keys.push_back(r.key);
  return keys;
}

std::string JsonArray(std::span<const int64_t> keys) {
  std::string s = "[";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(keys[i]);
  }
  return s + "]";
}

std::string JsonArray(const std::vector<std::string>& strings) { return nlohmann::json(strings).dump(); }

}  // namespace fo::internal
