// SaveSample and SetValues (fo/edits.h): writing edited samples and setting a
// field over a view.
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "fo/database.h"
#include "fo/edits.h"
#include "fo/error.h"
#include "fo/object_id.h"
#include "store/sample_store.h"
#include "store/sqlite.h"
#include "store/view_rows.h"

namespace fo {

using internal::Sqlite;
using internal::Transaction;
using nlohmann::json;

namespace {

std::string JsonPath(const std::string& key) { return "$.\"" + key + "\""; }

// A user field name that can be a JSON object key in a path: no quote, no
// dot (a dot would address an embedded field, which fo does not have).
void CheckUserFieldName(const std::string& name) {
  if (name.empty()) throw InvalidArgument("a field name must not be empty");
  if (internal::IsBuiltinField(name)) throw InvalidArgument("'" + name + "' is a built-in field and cannot be set");
  if (name.find_first_of(".\"") != std::string::npos || name[0] == '$')
    throw InvalidArgument("field name '" + name + "' contains '.', '\"' or a leading '$'; choose a plain name");
}

// --- SaveSample ---

struct StoredLabel {
  int64_t seq;
  std::string field;
};

class LabelSaver {
 public:
  LabelSaver(Sqlite& db, int64_t sample_seq) : db_(db), sample_seq_(sample_seq) {
    auto q = db.Prepare("SELECT seq, id, field FROM labels WHERE sample_seq = ?");
    q.Bind(1, sample_seq);
    while (q.Step()) stored_[q.Text(1)] = {q.Int(0), q.Text(2)};
  }

  // Updates a detection the sample already has (same id) in place, so its
  // key (which patch indexes hold) stays; inserts the others.
  void Save(const std::string& field, int position, Detection& d) {
    int64_t seq;
    auto it = d.id.empty() ? stored_.end() : stored_.find(d.id);
    if (it != stored_.end()) {
      seq = it->second.seq;
      kept_.insert(seq);
      db_.Prepare("UPDATE labels SET field = ?, position = ?, label = ?, x = ?, y = ?, w = ?, h = ?, confidence = ?, "
                  "attributes = ? WHERE seq = ?")
          .Bind(1, field).Bind(2, position).Bind(3, d.label).Bind(4, d.bounding_box[0]).Bind(5, d.bounding_box[1])
          .Bind(6, d.bounding_box[2]).Bind(7, d.bounding_box[3]).Bind(8, d.confidence)
          .Bind(9, internal::ScalarFieldsJson(d.attributes).dump()).Bind(10, seq).Run();
      db_.Prepare("DELETE FROM label_vectors WHERE label_seq = ?").Bind(1, seq).Run();
    } else {
      if (d.id.empty()) d.id = NewObjectId();
      if (!IsObjectId(d.id)) throw InvalidArgument("label id '" + d.id + "' is not a 24-hex ObjectId");
      seq = internal::ReserveKeys(db_, "next_label_seq", 1);
      try {
        db_.Prepare("INSERT INTO labels(seq, sample_seq, field, position, id, label, x, y, w, h, confidence, attributes) "
                    "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .Bind(1, seq).Bind(2, sample_seq_).Bind(3, field).Bind(4, position).Bind(5, d.id).Bind(6, d.label)
            .Bind(7, d.bounding_box[0]).Bind(8, d.bounding_box[1]).Bind(9, d.bounding_box[2]).Bind(10, d.bounding_box[3])
            .Bind(11, d.confidence).Bind(12, internal::ScalarFieldsJson(d.attributes).dump()).Run();
      } catch (const Error& e) {
        if (std::string(e.what()).find("UNIQUE") == std::string::npos) throw;
        throw InvalidArgument("label id '" + d.id + "' belongs to another sample; a detection can be in one sample only");
      }
    }
    for (const auto& [attr, v] : d.attributes) {
      if (!v.is_vector()) continue;
      std::string blob = internal::VectorToBlob(v.as<FloatVector>());
      db_.Prepare("INSERT INTO label_vectors(label_seq, attr, data) VALUES(?, ?, ?)")
          .Bind(1, seq).Bind(2, attr).BindBlob(3, blob.data(), blob.size()).Run();
    }
  }

  // Deletes the stored detections that were not saved again.
  void DeleteRest() {
    auto del = db_.Prepare("DELETE FROM labels WHERE seq = ?");
    for (const auto& [id, label] : stored_)
      if (!kept_.count(label.seq)) del.Bind(1, label.seq).Run();
  }

 private:
  Sqlite& db_;
  int64_t sample_seq_;
  std::unordered_map<std::string, StoredLabel> stored_;  // by label id
  std::set<int64_t> kept_;
};

void CheckSampleForSave(const Sample& sample) {
  if (sample.filepath.empty()) throw InvalidArgument("sample " + sample.id + " has no filepath");
  for (const auto& [name, v] : sample.fields) {
    CheckUserFieldName(name);
    if (sample.label_fields.count(name)) throw InvalidArgument("field '" + name + "' is given both as a value and as detections");
    internal::CheckFiniteVector(v, "field '" + name + "' of sample " + sample.id);
  }
  for (const auto& [field, dets] : sample.label_fields) {
    CheckUserFieldName(field);
    for (const auto& d : dets.detections) {
      internal::CheckBox(d, sample.id);
      for (const auto& [attr, v] : d.attributes) internal::CheckFiniteVector(v, "attribute '" + attr + "' of detection " + d.id);
    }
  }
}

void DeclareSampleFields(Sqlite& db, int64_t dataset_id, const Sample& sample) {
  for (const auto& [name, v] : sample.fields) internal::DeclareField(db, dataset_id, name, internal::FieldTypeOf(v));
  for (const auto& [field, dets] : sample.label_fields) {
    internal::DeclareField(db, dataset_id, field, "detections");
    for (const auto& d : dets.detections)
      for (const auto& [attr, v] : d.attributes)
        internal::DeclareField(db, dataset_id, field + ".detections." + attr, internal::FieldTypeOf(v));
  }
}

// --- SetValues ---

// The one type of the non-null values ("" if all are null); ints and floats
// together are floats. Throws kInvalidArgument naming the first mismatch.
std::string CommonType(const std::vector<const Value*>& values, const std::string& what) {
  std::string type;
  size_t first = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string t = internal::FieldTypeOf(*values[i]);
    if (t.empty() || t == type) continue;
    if (type.empty()) {
      type = t;
      first = i;
    } else if ((type == "int" && t == "float") || (type == "float" && t == "int")) {
      type = "float";
    } else {
      throw InvalidArgument(what + "[" + std::to_string(i) + "] is of type " + t + " but " + what + "[" +
                            std::to_string(first) + "] of type " + type + "; a field holds values of one type");
    }
  }
  return type;
}

std::vector<const Value*> Pointers(const std::vector<Value>& values) {
  std::vector<const Value*> out;
  out.reserve(values.size());
  for (const auto& v : values) out.push_back(&v);
  return out;
}

std::string JsonArrayOf(const std::vector<Value>& values) {
  json arr = json::array();
  for (const auto& v : values) arr.push_back(v.ToJson());
  return arr.dump();
}

// Rows of temp.row_values (one per view row) to update, and the row's value.
constexpr const char* kSamplesWithValues = " WHERE seq IN (SELECT k FROM temp.row_values)";
constexpr const char* kValueOfSample = " FROM temp.row_values AS v WHERE v.k = samples.seq)";

void SetTags(Sqlite& db, int64_t dataset_id, const std::vector<Value>& values) {
  json lists = json::array();
  for (size_t i = 0; i < values.size(); ++i) {
    json tags = json::array();
    if (!values[i].is_null()) {
      if (!values[i].is<ValueList>()) throw InvalidArgument("values[" + std::to_string(i) + "] of 'tags' must be a list of strings");
      for (const auto& t : values[i].as<ValueList>()) {
        if (!t.is<std::string>()) throw InvalidArgument("values[" + std::to_string(i) + "] of 'tags' must be a list of strings");
        tags.push_back(t.as<std::string>());
      }
    }
    lists.push_back(std::move(tags));
  }
  internal::LoadRowValues(db, lists.dump());
  db.Exec(std::string("UPDATE samples SET tags = (SELECT v.json") + kValueOfSample + kSamplesWithValues);
  db.Exec("DELETE FROM sample_tags WHERE sample_seq IN (SELECT k FROM temp.view_rows)");
  db.Prepare("INSERT OR IGNORE INTO sample_tags(dataset_id, tag, sample_seq) "
             "SELECT ?, t.value, e.k FROM temp.view_rows AS e JOIN samples AS s ON s.seq = e.k, json_each(s.tags) AS t")
      .Bind(1, dataset_id).Run();
}

void SetVectorField(Sqlite& db, const std::string& field, const std::vector<Value>& values) {
  db.Prepare("DELETE FROM sample_vectors WHERE field = ? AND sample_seq IN (SELECT k FROM temp.view_rows)").Bind(1, field).Run();
  std::vector<int64_t> keys = internal::ViewRowKeys(db);
  auto put = db.Prepare("INSERT INTO sample_vectors(sample_seq, field, data) VALUES(?, ?, ?)");
  for (size_t i = 0; i < keys.size(); ++i) {
    if (values[i].is_null()) continue;
    const auto& vec = values[i].as<FloatVector>();
    put.Bind(1, keys[i]).Bind(2, field).BindBlob(3, vec.data(), vec.size() * sizeof(float)).Run();
  }
}

void SetSampleField(Sqlite& db, int64_t dataset_id, const std::string& field, const std::vector<Value>& values) {
  CheckUserFieldName(field);
  auto types = internal::FieldTypes(db, dataset_id);
  if (auto it = types.find(field); it != types.end() && it->second == "detections")
    throw InvalidArgument("'" + field + "' is a Detections field; set its detections' attributes with '" + field +
                          ".detections.<attr>'");
  std::string type = CommonType(Pointers(values), "values");
  for (size_t i = 0; i < values.size(); ++i) internal::CheckFiniteVector(values[i], "values[" + std::to_string(i) + "]");
  internal::DeclareField(db, dataset_id, field, type);
  if (type == "vector") return SetVectorField(db, field, values);
  internal::LoadRowValues(db, JsonArrayOf(values));
  db.Prepare(std::string("UPDATE samples SET fields = (SELECT CASE WHEN v.json = 'null' THEN json_remove(samples.fields, ?1) "
                         "ELSE json_set(samples.fields, ?1, json(v.json)) END") + kValueOfSample + kSamplesWithValues)
      .Bind(1, JsonPath(field)).Run();
}

// Checks each value is a list as long as its sample's detections in
// `field` (null for a sample without any), and returns the inner values.
std::vector<const Value*> CheckLabelLists(Sqlite& db, const std::string& field, const std::vector<Value>& values,
                                          const std::string& values_json) {
  std::vector<const Value*> inner;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].is_null()) continue;
    if (!values[i].is<ValueList>())
      throw InvalidArgument("values[" + std::to_string(i) + "] must be a list with one value per detection of '" + field + "'");
    for (const auto& v : values[i].as<ValueList>()) inner.push_back(&v);
  }
  auto q = db.Prepare("SELECT e.i, coalesce(json_array_length(j.value), 0) AS n, "
                      "(SELECT count(*) FROM labels WHERE sample_seq = e.k AND field = ?2) AS c "
                      "FROM json_each(?1) AS j CROSS JOIN temp.view_rows AS e ON e.i = j.key WHERE n != c LIMIT 1");
  q.Bind(1, values_json).Bind(2, field);
  if (q.Step())
    throw InvalidArgument("values[" + std::to_string(q.Int(0)) + "] has " + std::to_string(q.Int(1)) + " values but its sample has " +
                          std::to_string(q.Int(2)) + " detections in '" + field + "'; give one value per detection");
  return inner;
}

// temp.label_values(seq, json): the value of each detection of `field` in
// the view's samples, from the list of lists `values_json`, by position.
void LoadLabelValues(Sqlite& db, const std::string& field, const std::string& values_json) {
  db.Exec("CREATE TEMP TABLE IF NOT EXISTS label_values(seq INTEGER PRIMARY KEY, json TEXT NOT NULL)");
  db.Exec("DELETE FROM temp.label_values");
  db.Prepare(std::string("INSERT OR REPLACE INTO temp.label_values(seq, json) SELECT l.seq, ") + internal::kJsonEachText +
             " FROM json_each(?1) AS o CROSS JOIN temp.view_rows AS e ON e.i = o.key CROSS JOIN json_each(o.value) AS j "
             "CROSS JOIN labels AS l ON l.sample_seq = e.k AND l.field = ?2 AND l.position = j.key")
      .Bind(1, values_json).Bind(2, field).Run();
}

void SetLabelAttribute(Sqlite& db, int64_t dataset_id, const std::string& field, const std::string& attr,
                       const std::vector<Value>& values) {
  auto types = internal::FieldTypes(db, dataset_id);
  if (auto it = types.find(field); it == types.end() || it->second != "detections")
    throw InvalidArgument("'" + field + "' is not a Detections field of the dataset");
  if (attr.empty() || attr == "id" || attr == "bounding_box" || attr.find_first_of(".\"") != std::string::npos)
    throw InvalidArgument("detection attribute '" + attr + "' cannot be set with set_values");
  const std::string values_json = JsonArrayOf(values);
  const std::vector<const Value*> inner = CheckLabelLists(db, field, values, values_json);
  std::string type = CommonType(inner, "values[..]");
  std::string value;  // of the label, from temp.label_values v
  if (attr == "label") {
    for (const Value* v : inner)
      if (v->is_null()) throw InvalidArgument("a detection's label cannot be None; give a string for every detection");
    if (type != "string" && !type.empty()) throw InvalidArgument("a detection's label is a string; got " + type + " values");
    value = "label = (SELECT v.json ->> '$'";
  } else if (attr == "confidence") {
    if (type != "float" && type != "int" && !type.empty()) throw InvalidArgument("a detection's confidence is a number; got " + type + " values");
    value = "confidence = (SELECT v.json ->> '$'";
  } else {
    if (type == "vector") throw Unimplemented("set_values of vector detection attributes is not supported; use SetLabelValues");
    internal::DeclareField(db, dataset_id, field + ".detections." + attr, type);
    value = "attributes = (SELECT CASE WHEN v.json = 'null' THEN json_remove(labels.attributes, ?1) "
            "ELSE json_set(labels.attributes, ?1, json(v.json)) END";
  }
  LoadLabelValues(db, field, values_json);
  db.Prepare("UPDATE labels SET " + value +
             " FROM temp.label_values AS v WHERE v.seq = labels.seq) WHERE seq IN (SELECT seq FROM temp.label_values)")
      .Bind(1, JsonPath(attr)).Run();
}

}  // namespace

void SaveSample(const std::shared_ptr<Database>& db, Sample& sample) {
  if (sample.id.empty())
    throw FailedPrecondition("cannot save a sample that has not been added to a dataset; add it with add_sample()");
  CheckSampleForSave(sample);
  Sqlite& s = db->sqlite();
  Transaction txn(s);
  auto find = s.Prepare("SELECT seq, dataset_id FROM samples WHERE id = ?");
  find.Bind(1, sample.id);
  if (!find.Step()) throw NotFound("sample '" + sample.id + "' is in no dataset (was it deleted?); nothing was saved");
  const int64_t seq = find.Int(0), dataset_id = find.Int(1);
  DeclareSampleFields(s, dataset_id, sample);
  s.Prepare("UPDATE samples SET filepath = ?, width = ?, height = ?, fields = ?, size_bytes = ?, mime_type = ?, "
            "num_channels = ? WHERE seq = ?")
      .Bind(1, sample.filepath).Bind(2, sample.width).Bind(3, sample.height)
      .Bind(4, internal::ScalarFieldsJson(sample.fields).dump()).Bind(5, sample.size_bytes).Bind(6, sample.mime_type)
      .Bind(7, sample.num_channels).Bind(8, seq).Run();
  internal::ReplaceTags(s, dataset_id, seq, sample.tags);
  s.Prepare("DELETE FROM sample_vectors WHERE sample_seq = ?").Bind(1, seq).Run();
  for (const auto& [name, v] : sample.fields) {
    if (!v.is_vector()) continue;
    std::string blob = internal::VectorToBlob(v.as<FloatVector>());
    s.Prepare("INSERT INTO sample_vectors(sample_seq, field, data) VALUES(?, ?, ?)")
        .Bind(1, seq).Bind(2, name).BindBlob(3, blob.data(), blob.size()).Run();
  }
  LabelSaver labels(s, seq);
  for (auto& [field, dets] : sample.label_fields)
    for (size_t i = 0; i < dets.detections.size(); ++i) labels.Save(field, static_cast<int>(i), dets.detections[i]);
  labels.DeleteRest();
  txn.Commit();
}

void SetValues(const View& view, const std::string& field, const std::vector<Value>& values) {
  Sqlite& s = view.database()->sqlite();
  Transaction txn(s);
  const int64_t rows = internal::LoadViewRows(s, view);
  if (static_cast<int64_t>(values.size()) != rows)
    throw InvalidArgument("set_values got " + std::to_string(values.size()) + " values for a view of " + std::to_string(rows) +
                          " samples; give one value per sample, in view order");
  const auto label_pos = field.find(".detections.");
  if (field == "tags") {
    SetTags(s, view.dataset_id(), values);
  } else if (label_pos != std::string::npos) {
    SetLabelAttribute(s, view.dataset_id(), field.substr(0, label_pos), field.substr(label_pos + 12), values);
  } else {
    SetSampleField(s, view.dataset_id(), field, values);
  }
  txn.Commit();
}

}  // namespace fo
