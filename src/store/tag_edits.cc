// TagSamples, UntagSamples, TagLabels, UntagLabels (fo/edits.h): one
// statement per tag over the view's rows (temp.view_rows).
#include <nlohmann/json.hpp>
#include <set>

#include "fo/database.h"
#include "fo/edits.h"
#include "fo/error.h"
#include "store/sample_store.h"
#include "store/sqlite.h"
#include "store/view_query.h"
#include "store/view_rows.h"

namespace fo {

using internal::Sqlite;
using internal::Transaction;

namespace {

// The tags without repeats, in the order given; throws for an empty tag.
std::vector<std::string> UniqueTags(const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& t : tags) {
    if (t.empty()) throw InvalidArgument("a tag must not be empty");
    if (seen.insert(t).second) out.push_back(t);
  }
  return out;
}

// The Detections fields to tag: those given (each checked), else all of them.
std::vector<std::string> LabelFields(Sqlite& db, int64_t dataset_id, const std::vector<std::string>& given) {
  auto types = internal::FieldTypes(db, dataset_id);
  std::vector<std::string> out;
  if (given.empty()) {
    for (const auto& [name, type] : types)
      if (type == "detections") out.push_back(name);
    return out;
  }
  for (const auto& f : given) {
    auto it = types.find(f);
    if (it == types.end() || it->second != "detections")
      throw InvalidArgument("'" + f + "' is not a Detections field of the dataset; label_fields must name Detections fields");
    out.push_back(f);
  }
  return out;
}

// Label tags live in the "tags" attribute (a list), declared per field.
void DeclareLabelTags(Sqlite& db, int64_t dataset_id, const std::vector<std::string>& fields) {
  for (const auto& f : fields) internal::DeclareField(db, dataset_id, f + ".detections.tags", "list");
}

constexpr const char* kLabelsOfRows =
    " WHERE sample_seq IN (SELECT k FROM temp.view_rows) AND field IN (SELECT value FROM json_each(?2)) ";
constexpr const char* kLabelHasTag = "EXISTS (SELECT 1 FROM json_each(labels.attributes, '$.tags') AS t WHERE t.value = ?1)";

void EditLabelTags(const View& view, const std::vector<std::string>& tags, const std::vector<std::string>& label_fields,
                   bool add) {
  std::vector<std::string> unique = UniqueTags(tags);
  Sqlite& s = view.database()->sqlite();
  Transaction txn(s);
  std::vector<std::string> fields = LabelFields(s, view.dataset_id(), label_fields);
  if (add) DeclareLabelTags(s, view.dataset_id(), fields);
  internal::LoadViewRows(s, view);
  const std::string fields_json = internal::JsonArray(fields);
  const std::string sql =
      add ? std::string("UPDATE labels SET attributes = json_set(attributes, '$.tags', "
                        "json_insert(coalesce(json_extract(attributes, '$.tags'), json('[]')), '$[#]', ?1))") +
                kLabelsOfRows + "AND NOT " + kLabelHasTag
          : std::string("UPDATE labels SET attributes = json_set(attributes, '$.tags', "
                        "(SELECT json_group_array(t.value) FROM json_each(labels.attributes, '$.tags') AS t WHERE t.value != ?1))") +
                kLabelsOfRows + "AND " + kLabelHasTag;
  auto st = s.Prepare(sql);
  for (const auto& tag : unique) st.Bind(1, tag).Bind(2, fields_json).Run();
  txn.Commit();
}

}  // namespace

void TagSamples(const View& view, const std::vector<std::string>& tags) {
  std::vector<std::string> unique = UniqueTags(tags);
  Sqlite& s = view.database()->sqlite();
  Transaction txn(s);
  internal::LoadViewRows(s, view);
  // sample_tags says who has the tag already (an index range per tag).
  auto append = s.Prepare(
      "UPDATE samples SET tags = json_insert(tags, '$[#]', ?1) WHERE seq IN (SELECT k FROM temp.view_rows) "
      "AND seq NOT IN (SELECT sample_seq FROM sample_tags WHERE dataset_id = ?2 AND tag = ?1)");
  auto index = s.Prepare("INSERT OR IGNORE INTO sample_tags(dataset_id, tag, sample_seq) SELECT ?2, ?1, k FROM temp.view_rows");
  for (const auto& tag : unique) {
    append.Bind(1, tag).Bind(2, view.dataset_id()).Run();
    index.Bind(1, tag).Bind(2, view.dataset_id()).Run();
  }
  txn.Commit();
}

void UntagSamples(const View& view, const std::vector<std::string>& tags) {
  std::vector<std::string> unique = UniqueTags(tags);
  Sqlite& s = view.database()->sqlite();
  Transaction txn(s);
  internal::LoadViewRows(s, view);
  auto tagged = std::string(
      "SELECT sample_seq FROM sample_tags WHERE dataset_id = ?2 AND tag = ?1 AND sample_seq IN (SELECT k FROM temp.view_rows)");
  auto remove = s.Prepare(
      "UPDATE samples SET tags = (SELECT json_group_array(t.value) FROM json_each(samples.tags) AS t WHERE t.value != ?1) "
      "WHERE seq IN (" + tagged + ")");
  auto unindex = s.Prepare("DELETE FROM sample_tags WHERE dataset_id = ?2 AND tag = ?1 AND sample_seq IN (SELECT k FROM temp.view_rows)");
  for (const auto& tag : unique) {
    remove.Bind(1, tag).Bind(2, view.dataset_id()).Run();
    unindex.Bind(1, tag).Bind(2, view.dataset_id()).Run();
  }
  txn.Commit();
}

void TagLabels(const View& view, const std::vector<std::string>& tags, const std::vector<std::string>& label_fields) {
  EditLabelTags(view, tags, label_fields, /*add=*/true);
}

void UntagLabels(const View& view, const std::vector<std::string>& tags, const std::vector<std::string>& label_fields) {
  EditLabelTags(view, tags, label_fields, /*add=*/false);
}

}  // namespace fo
