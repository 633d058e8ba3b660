// A view compiled to SQL. Every view is one SELECT yielding two columns: k,
// the sample key (samples.seq), and o, the row's position in view order.
// Stages transform the query: filters add a WHERE, limit/skip wrap it with
// ORDER BY o LIMIT/OFFSET, and stages that must compute their rows in C++
// (take, sort_by_similarity) replace it by their key list, bound as one JSON
// array read by SQLite's json_each, so SQLite still does the joins.
#ifndef FO_STORE_VIEW_QUERY_H_
#define FO_STORE_VIEW_QUERY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "fo/view.h"
#include "store/sqlite.h"

namespace fo::internal {

using SqlParam = std::variant<int64_t, std::string>;
struct SampleShape;  // store/expression_sql.h

// What a key-list stage attaches to its rows (sort_by_similarity's distance
// and matched patches), indexed by the row's o.
struct RowExtra {
  std::optional<double> distance;
  std::vector<PatchMatch> patches;
};
using RowExtras = std::vector<RowExtra>;

struct ViewQuery {
  std::string sql;                  // SELECT ... yielding (k, o)
  std::vector<SqlParam> params;     // its '?' parameters, in text order
  int64_t dataset_id = 0;
  bool whole_dataset = true;        // no stage has changed the rows
  bool from_key_list = false;       // rows may name deleted samples: join samples to drop them
  std::shared_ptr<const RowExtras> extras;  // set when o indexes a key list with extras
  // What the samples carry (select_fields, filter_labels...); null: all of
  // it. Not part of the SQL: applied to the samples the view returns.
  std::shared_ptr<const SampleShape> shape;

  // Prepares before + "(" + sql + ")" + after, with the parameters bound;
  // extra_params follow them.
  Statement Prepare(Sqlite& db, const std::string& before, const std::string& after,
                    const std::vector<SqlParam>& extra_params = {}) const;
};

// Every sample of the dataset, in insertion order.
ViewQuery DatasetQuery(int64_t dataset_id);
// Keeps the rows whose key satisfies `condition`, SQL over column k with `params`.
void AddFilter(ViewQuery& q, const std::string& condition, std::vector<SqlParam> params);
// Rows [offset, offset + limit) in view order.
void AddSlice(ViewQuery& q, std::optional<size_t> limit, size_t offset);
// Replaces the rows by `keys` in this order, less those no longer in the
// input rows (deleted, or changed so that the input no longer has them).
// With input_unchanged (the keys were drawn from the input rows and nothing
// was committed since), only deleted samples are checked for.
void ReplaceByKeys(ViewQuery& q, std::span<const int64_t> keys, std::shared_ptr<const RowExtras> extras,
                   bool input_unchanged = false);

// (k, o) of every row, in view order.
struct KeyRow {
  int64_t key;
  int64_t order;
};
std::vector<KeyRow> EvaluateKeys(Sqlite& db, const ViewQuery& q);
std::vector<int64_t> KeysOf(const std::vector<KeyRow>& rows);
// The extras of `rows` (rows of q, in a new order), or null if q has none.
std::shared_ptr<const RowExtras> PickExtras(const ViewQuery& q, const std::vector<KeyRow>& rows);

std::string JsonArray(std::span<const int64_t> keys);
std::string JsonArray(const std::vector<std::string>& strings);

}  // namespace fo::internal

#endif  // FO_STORE_VIEW_QUERY_H_
