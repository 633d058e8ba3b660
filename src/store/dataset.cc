#include "fo/dataset.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "fo/database.h"
#include "fo/error.h"
#include "fo/object_id.h"
#include "core/progress.h"
#include "store/sample_store.h"
#include "store/sqlite.h"

namespace fo {

using internal::Sqlite;
using internal::CheckFiniteVector;
using internal::IsBuiltinField;
using internal::Transaction;
using nlohmann::json;

namespace {

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Names appear in paths (exports, the App's URLs) and on terminals: no
// empty name, no '/', no control characters.
void CheckName(const std::string& name) {
  if (name.empty()) throw InvalidArgument("a dataset name must not be empty");
  if (name.find('/') != std::string::npos)
    throw InvalidArgument("dataset name '" + name + "' contains '/'; choose a name without it");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f)
      throw InvalidArgument("a dataset name must not contain control characters (such as a newline or a tab)");
}

// Checks that sample and label ids are unique across all the batches of one
// add. Only ids the caller gave are remembered: NewObjectId never repeats in
// a process (a counter), and the store's UNIQUE index catches the rest.
class IdChecker {
 public:
  void Check(std::string& id, const char* what) {
    if (id.empty()) {
      id = NewObjectId();
      return;
    }
    if (!IsObjectId(id)) throw InvalidArgument(std::string(what) + " id '" + id + "' is not a 24-hex ObjectId");
    for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!given_.insert(id).second) throw InvalidArgument(std::string("duplicate ") + what + " id '" + id + "' in the samples added");
  }

 private:
  std::unordered_set<std::string> given_;
};

// Assigns missing ids and checks everything that can be checked before
// writing, so that a bad sample is reported before its batch is written.
void PrepareSamples(std::vector<Sample>& samples, IdChecker& ids) {
  for (auto& s : samples) {
    ids.Check(s.id, "sample");
    if (s.filepath.empty()) throw InvalidArgument("sample " + s.id + " has no filepath");
    for (const auto& [name, v] : s.fields) {
      if (IsBuiltinField(name)) throw InvalidArgument("'" + name + "' is a built-in field; it cannot be a user field");
      if (s.label_fields.count(name)) throw InvalidArgument("field '" + name + "' is given both as a value and as detections");
      CheckFiniteVector(v, "field '" + name + "' of sample " + s.id);
    }
    for (auto& [field, dets] : s.label_fields) {
      if (IsBuiltinField(field)) throw InvalidArgument("'" + field + "' is a built-in field; it cannot hold detections");
      for (auto& d : dets.detections) {
        ids.Check(d.id, "label");
        internal::CheckBox(d, s.id);
        for (const auto& [attr, v] : d.attributes) CheckFiniteVector(v, "attribute '" + attr + "' of detection " + d.id);
      }
    }
  }
}

// Declares every (field, type) pair the samples use, each once per add.
class FieldDeclarer {
 public:
  FieldDeclarer(Sqlite& db, int64_t dataset_id) : db_(db), dataset_id_(dataset_id) {}

  void Declare(const std::vector<Sample>& samples) {
    for (const auto& s : samples) {
      for (const auto& [name, v] : s.fields) Declare(name, internal::FieldTypeOf(v));
      for (const auto& [field, dets] : s.label_fields) {
        Declare(field, "detections");
        for (const auto& d : dets.detections)
          for (const auto& [attr, v] : d.attributes) Declare(field + ".detections." + attr, internal::FieldTypeOf(v));
      }
    }
  }

 private:
  void Declare(const std::string& name, const std::string& type) {
    if (declared_.emplace(name, type).second) internal::DeclareField(db_, dataset_id_, name, type);
  }

  Sqlite& db_;
  int64_t dataset_id_;
  std::set<std::pair<std::string, std::string>> declared_;
};

}  // namespace

Dataset::Dataset(std::shared_ptr<Database> db, int64_t id, std::string name)
    : db_(std::move(db)), id_(id), name_(std::move(name)) {}

Dataset Dataset::Create(std::shared_ptr<Database> db, const std::string& name) {
  CheckName(name);
  Sqlite& s = db->sqlite();
  Transaction txn(s);
  if (Exists(db, name)) throw AlreadyExists("dataset '" + name + "' already exists; load it or choose another name");
  s.Prepare("INSERT INTO datasets(name, created_at) VALUES(?, ?)").Bind(1, name).Bind(2, UtcNow()).Run();
  int64_t id = s.LastInsertRowId();
  txn.Commit();
  return Dataset(std::move(db), id, name);
}

Dataset Dataset::Create(std::shared_ptr<Database> db, const std::string& name, std::vector<Sample> samples) {
  Transaction txn(db->sqlite());
  Dataset dataset = Create(std::move(db), name);
  dataset.AddSamples(std::move(samples));
  txn.Commit();
  return dataset;
}

Dataset Dataset::Load(std::shared_ptr<Database> db, const std::string& name) {
  std::lock_guard lock(db->sqlite().mutex());
  int64_t id = internal::DatasetIdByName(db->sqlite(), name);
  return Dataset(std::move(db), id, name);
}

std::vector<std::string> Dataset::List(const std::shared_ptr<Database>& db) {
  std::lock_guard lock(db->sqlite().mutex());
  std::vector<std::string> names;
  auto q = db->sqlite().Prepare("SELECT name FROM datasets ORDER BY name");
  while (q.Step()) names.push_back(q.Text(0));
  return names;
}

bool Dataset::Exists(const std::shared_ptr<Database>& db, const std::string& name) {
  std::lock_guard lock(db->sqlite().mutex());
  auto q = db->sqlite().Prepare("SELECT 1 FROM datasets WHERE name = ?");
  q.Bind(1, name);
  return q.Step();
}

void Dataset::Delete(const std::shared_ptr<Database>& db, const std::string& name) {
  Sqlite& s = db->sqlite();
  Transaction txn(s);
  int64_t id = internal::DatasetIdByName(s, name);
  s.Prepare("DELETE FROM datasets WHERE id = ?").Bind(1, id).Run();
  txn.Commit();
}

void Dataset::Rename(const std::string& new_name) {
  CheckName(new_name);
  Sqlite& s = db_->sqlite();
  Transaction txn(s);
  if (Exists(db_, new_name)) throw AlreadyExists("dataset '" + new_name + "' already exists");
  s.Prepare("UPDATE datasets SET name = ? WHERE id = ?").Bind(1, new_name).Bind(2, id_).Run();
  txn.Commit();
  name_ = new_name;
}

std::vector<std::string> Dataset::AddSamples(std::vector<Sample> samples) {
  bool given = false;
  const size_t count = samples.size();
  return AddSampleBatches(
      [&](std::vector<Sample>& batch) {
        if (given) return false;
        batch = std::move(samples);
        return given = true;
      },
      count);
}

std::vector<std::string> Dataset::AddSampleBatches(const std::function<bool(std::vector<Sample>&)>& next_batch,
                                                   size_t expected_count) {
  Sqlite& s = db_->sqlite();
  Transaction txn(s);
  IdChecker id_checker;
  FieldDeclarer fields(s, id_);
  internal::SampleWriter writer(s, id_);
  internal::ProgressBar progress("samples", expected_count, expected_count > 0 && internal::StderrIsTerminal());
  std::vector<std::string> ids;
  ids.reserve(expected_count);
  std::vector<Sample> batch;
  while (next_batch(batch)) {
    PrepareSamples(batch, id_checker);
    fields.Declare(batch);
    for (Sample& sample : batch) {
      try {
        writer.Insert(sample);
      } catch (const Error& e) {
        if (e.code() == ErrorCode::kInvalidArgument && std::string(e.what()).find("UNIQUE") != std::string::npos)
          throw InvalidArgument("sample " + sample.id +
                                " (or one of its labels) has an id that already exists in the store; ids must be unique");
        throw;
      }
      ids.push_back(std::move(sample.id));
    }
    progress.Add(batch.size());
    batch.clear();
  }
  writer.Finish();
  txn.Commit();
  progress.Finish();
  return ids;
}

std::string Dataset::AddSample(Sample sample) {
  std::vector<Sample> one;
  one.push_back(std::move(sample));
  return AddSamples(std::move(one)).front();
}

void Dataset::DeleteSamples(const std::vector<std::string>& ids) {
  Sqlite& s = db_->sqlite();
  Transaction txn(s);
  auto del = s.Prepare("DELETE FROM samples WHERE id = ? AND dataset_id = ?");
  for (const auto& id : ids) {
    del.Bind(1, id).Bind(2, id_);
    del.Run();
    if (s.Changes() == 0) throw NotFound("sample '" + id + "' is not in dataset '" + name_ + "'; nothing was deleted");
  }
  internal::AdjustSampleCount(s, id_, -static_cast<int64_t>(ids.size()));
  txn.Commit();
}

Sample Dataset::GetSample(const std::string& id) const {
  std::lock_guard lock(db_->sqlite().mutex());
  auto s = internal::ReadSample(db_->sqlite(), id_, id);
  if (!s) throw NotFound("sample '" + id + "' is not in dataset '" + name_ + "'");
  return *s;
}

void Dataset::SetValues(const std::string& field, const std::map<std::string, Value>& values) {
  if (field.empty()) throw InvalidArgument("a field name must not be empty");
  if (IsBuiltinField(field) && field != "tags") throw InvalidArgument("'" + field + "' is a built-in field and cannot be set");
  Sqlite& s = db_->sqlite();
  Transaction txn(s);
  for (const auto& [id, v] : values) {
    auto seq = internal::SampleSeq(s, id_, id);
    if (!seq) throw NotFound("sample '" + id + "' is not in dataset '" + name_ + "'; nothing was set");
    if (field == "tags") {
      std::vector<std::string> tags;
      for (const auto& t : v.as<ValueList>()) tags.push_back(t.as<std::string>());
      internal::ReplaceTags(s, id_, *seq, tags);
      continue;
    }
    CheckFiniteVector(v, "field '" + field + "' of sample " + id);
    internal::DeclareField(s, id_, field, internal::FieldTypeOf(v));
    s.Prepare("DELETE FROM sample_vectors WHERE sample_seq = ? AND field = ?").Bind(1, *seq).Bind(2, field).Run();
    if (v.is_vector()) {
      std::string blob = internal::VectorToBlob(v.as<FloatVector>());
      s.Prepare("INSERT INTO sample_vectors(sample_seq, field, data) VALUES(?, ?, ?)")
          .Bind(1, *seq).Bind(2, field).BindBlob(3, blob.data(), blob.size()).Run();
      s.Prepare("UPDATE samples SET fields = json_remove(fields, ?) WHERE seq = ?").Bind(1, "$.\"" + field + "\"").Bind(2, *seq).Run();
    } else if (v.is_null()) {
      s.Prepare("UPDATE samples SET fields = json_remove(fields, ?) WHERE seq = ?").Bind(1, "$.\"" + field + "\"").Bind(2, *seq).Run();
    } else {
      s.Prepare("UPDATE samples SET fields = json_set(fields, ?, json(?)) WHERE seq = ?")
          .Bind(1, "$.\"" + field + "\"").Bind(2, v.ToJson().dump()).Bind(3, *seq).Run();
    }
  }
  txn.Commit();
}

void Dataset::SetLabelValues(const std::string& label_field, const std::string& attr,
                             const std::map<std::string, Value>& values) {
  if (attr.empty() || attr == "id" || attr == "label" || attr == "bounding_box" || attr == "confidence")
    throw InvalidArgument("'" + attr + "' cannot be set as a detection attribute");
  Sqlite& s = db_->sqlite();
  Transaction txn(s);
  auto find = s.Prepare(
      "SELECT l.seq FROM labels l JOIN samples s ON l.sample_seq = s.seq "
      "WHERE l.id = ? AND l.field = ? AND s.dataset_id = ?");
  for (const auto& [label_id, v] : values) {
    find.Bind(1, label_id).Bind(2, label_field).Bind(3, id_);
    if (!find.Step()) throw NotFound("label '" + label_id + "' is not in field '" + label_field + "' of dataset '" + name_ + "'");
    int64_t seq = find.Int(0);
    find.Reset();
    CheckFiniteVector(v, "attribute '" + attr + "' of detection " + label_id);
    internal::DeclareField(s, id_, label_field + ".detections." + attr, internal::FieldTypeOf(v));
    s.Prepare("DELETE FROM label_vectors WHERE label_seq = ? AND attr = ?").Bind(1, seq).Bind(2, attr).Run();
    std::string path = "$.\"" + attr + "\"";
    if (v.is_vector()) {
      std::string blob = internal::VectorToBlob(v.as<FloatVector>());
      s.Prepare("INSERT INTO label_vectors(label_seq, attr, data) VALUES(?, ?, ?)")
          .Bind(1, seq).Bind(2, attr).BindBlob(3, blob.data(), blob.size()).Run();
      s.Prepare("UPDATE labels SET attributes = json_remove(attributes, ?) WHERE seq = ?").Bind(1, path).Bind(2, seq).Run();
    } else if (v.is_null()) {
      s.Prepare("UPDATE labels SET attributes = json_remove(attributes, ?) WHERE seq = ?").Bind(1, path).Bind(2, seq).Run();
    } else {
      s.Prepare("UPDATE labels SET attributes = json_set(attributes, ?, json(?)) WHERE seq = ?")
          .Bind(1, path).Bind(2, v.ToJson().dump()).Bind(3, seq).Run();
    }
  }
  txn.Commit();
}

std::vector<FieldInfo> Dataset::Fields() const {
  std::lock_guard lock(db_->sqlite().mutex());
  std::vector<FieldInfo> out = {{"id", "id"}, {"filepath", "string"}, {"tags", "list"}, {"metadata", "metadata"}};
  for (const auto& [name, type] : internal::FieldTypes(db_->sqlite(), id_)) out.push_back({name, type});
  return out;
}

namespace {
constexpr const char* kLabelsOfField =
    " FROM labels l JOIN samples s ON l.sample_seq = s.seq WHERE s.dataset_id = ? AND l.field = ?";
}  // namespace

size_t Dataset::CountLabels(const std::string& field) const {
  std::lock_guard lock(db_->sqlite().mutex());
  auto q = db_->sqlite().Prepare(std::string("SELECT count(*)") + kLabelsOfField);
  q.Bind(1, id_).Bind(2, field);
  q.Step();
  return static_cast<size_t>(q.Int(0));
}

std::vector<LabelRef> Dataset::LabelPage(const std::string& field, size_t offset, size_t limit) const {
  std::lock_guard lock(db_->sqlite().mutex());
  auto q = db_->sqlite().Prepare(std::string("SELECT s.id, l.id") + kLabelsOfField + " ORDER BY s.seq, l.position LIMIT ? OFFSET ?");
  q.Bind(1, id_).Bind(2, field).Bind(3, limit).Bind(4, offset);
  std::vector<LabelRef> out;
  while (q.Step()) out.push_back({q.Text(0), q.Text(1)});
  return out;
}

}  // namespace fo
