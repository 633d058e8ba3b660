// AddSampleField, DeleteSampleField, RenameSampleField (fo/edits.h). A
// field lives in four places: its `fields` rows (the field, and
// "<field>.detections.<attr>" for a Detections field), the samples' JSON
// `fields`, sample_vectors, and labels; each edit is one statement per place.
#include <array>
#include <string>

#include "fo/database.h"
#include "fo/edits.h"
#include "fo/error.h"
#include "store/sample_store.h"
#include "store/sqlite.h"

namespace fo {

using internal::Sqlite;
using internal::Transaction;

namespace {

constexpr std::array<const char*, 7> kFieldTypes = {"bool", "int", "float", "string", "list", "vector", "detections"};

void CheckFieldName(const std::string& name) {
  if (name.empty()) throw InvalidArgument("a field name must not be empty");
  if (internal::IsBuiltinField(name)) throw InvalidArgument("'" + name + "' is a built-in field; it cannot be added, deleted or renamed");
  if (name.find_first_of(".\"") != std::string::npos || name[0] == '$')
    throw InvalidArgument("field name '" + name + "' contains '.', '\"' or a leading '$'; choose a plain name");
}

std::string DeclaredType(Sqlite& db, int64_t dataset_id, const std::string& name) {
  auto q = db.Prepare("SELECT type FROM fields WHERE dataset_id = ? AND name = ?");
  q.Bind(1, dataset_id).Bind(2, name);
  return q.Step() ? q.Text(0) : std::string();
}

std::string JsonPath(const std::string& key) { return "$.\"" + key + "\""; }

// Matches the attribute declarations of Detections field ?2 in `fields`.
constexpr const char* kAttributeRows = "substr(name, 1, length(?2) + 12) = ?2 || '.detections.'";
constexpr const char* kDatasetSamples = "sample_seq IN (SELECT seq FROM samples WHERE dataset_id = ?1)";

}  // namespace

void AddSampleField(const Dataset& dataset, const std::string& name, const std::string& type) {
  CheckFieldName(name);
  bool known = false;
  for (const char* t : kFieldTypes) known = known || type == t;
  if (!known)
    throw InvalidArgument("unknown field type '" + type + "'; use one of bool, int, float, string, list, vector, detections");
  Sqlite& s = dataset.database()->sqlite();
  Transaction txn(s);
  std::string have = DeclaredType(s, dataset.id(), name);
  if (have == type) return;  // as FiftyOne: adding the same field again does nothing
  if (!have.empty())
    throw AlreadyExists("field '" + name + "' already exists with type " + have + "; delete it first or choose another name");
  s.Prepare("INSERT INTO fields(dataset_id, name, type) VALUES(?, ?, ?)").Bind(1, dataset.id()).Bind(2, name).Bind(3, type).Run();
  txn.Commit();
}

void DeleteSampleField(const Dataset& dataset, const std::string& name) {
  CheckFieldName(name);
  Sqlite& s = dataset.database()->sqlite();
  Transaction txn(s);
  if (DeclaredType(s, dataset.id(), name).empty())
    throw NotFound("dataset '" + dataset.name() + "' has no field '" + name + "'");
  const int64_t id = dataset.id();
  s.Prepare(std::string("DELETE FROM fields WHERE dataset_id = ?1 AND (name = ?2 OR ") + kAttributeRows + ")")
      .Bind(1, id).Bind(2, name).Run();
  s.Prepare("UPDATE samples SET fields = json_remove(fields, ?2) WHERE dataset_id = ?1 AND json_type(fields, ?2) IS NOT NULL")
      .Bind(1, id).Bind(2, JsonPath(name)).Run();
  s.Prepare(std::string("DELETE FROM sample_vectors WHERE field = ?2 AND ") + kDatasetSamples).Bind(1, id).Bind(2, name).Run();
  s.Prepare(std::string("DELETE FROM labels WHERE field = ?2 AND ") + kDatasetSamples).Bind(1, id).Bind(2, name).Run();
  txn.Commit();
}

void RenameSampleField(const Dataset& dataset, const std::string& name, const std::string& new_name) {
  CheckFieldName(name);
  CheckFieldName(new_name);
  Sqlite& s = dataset.database()->sqlite();
  Transaction txn(s);
  const int64_t id = dataset.id();
  if (DeclaredType(s, id, name).empty()) throw NotFound("dataset '" + dataset.name() + "' has no field '" + name + "'");
  if (!DeclaredType(s, id, new_name).empty())
    throw AlreadyExists("dataset '" + dataset.name() + "' already has a field '" + new_name + "'; choose another name");
  s.Prepare(std::string("UPDATE fields SET name = ?3 || substr(name, length(?2) + 1) WHERE dataset_id = ?1 AND (name = ?2 OR ") +
            kAttributeRows + ")")
      .Bind(1, id).Bind(2, name).Bind(3, new_name).Run();
  // json(fields -> path) keeps the value's JSON type (true stays true).
  s.Prepare("UPDATE samples SET fields = json_set(json_remove(fields, ?2), ?3, json(fields -> ?2)) "
            "WHERE dataset_id = ?1 AND json_type(fields, ?2) IS NOT NULL")
      .Bind(1, id).Bind(2, JsonPath(name)).Bind(3, JsonPath(new_name)).Run();
  s.Prepare(std::string("UPDATE sample_vectors SET field = ?3 WHERE field = ?2 AND ") + kDatasetSamples)
      .Bind(1, id).Bind(2, name).Bind(3, new_name).Run();
  s.Prepare(std::string("UPDATE labels SET field = ?3 WHERE field = ?2 AND ") + kDatasetSamples)
      .Bind(1, id).Bind(2, name).Bind(3, new_name).Run();
  txn.Commit();
}

}  // namespace fo
