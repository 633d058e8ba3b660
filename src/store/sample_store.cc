#include "store/sample_store.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "fo/error.h"

namespace fo::internal {

using nlohmann::json;

std::string VectorToBlob(std::span<const float> v) {
  std::string blob(v.size() * sizeof(float), '\0');
  std::memcpy(blob.data(), v.data(), blob.size());  // x86-64 and ARM64 are little-endian
  return blob;
}

FloatVector BlobToVector(std::span<const uint8_t> blob) {
  FloatVector v(blob.size() / sizeof(float));
  std::memcpy(v.data(), blob.data(), v.size() * sizeof(float));
  return v;
}

std::string FieldTypeOf(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) return "";
        if constexpr (std::is_same_v<T, bool>) return "bool";
        if constexpr (std::is_same_v<T, int64_t>) return "int";
        if constexpr (std::is_same_v<T, double>) return "float";
        if constexpr (std::is_same_v<T, std::string>) return "string";
        if constexpr (std::is_same_v<T, ValueList>) return "list";
        if constexpr (std::is_same_v<T, FloatVector>) return "vector";
      },
      v.variant());
}

bool IsBuiltinField(const std::string& f) {
  return f == "id" || f == "filepath" || f == "tags" || f == "metadata" || f.rfind("metadata.", 0) == 0;
}

void CheckFiniteVector(const Value& v, const std::string& where) {
  if (!v.is_vector()) return;
  for (float x : v.as<FloatVector>())
    if (!std::isfinite(x)) throw InvalidArgument(where + " contains NaN or Inf; embeddings must be finite");
}

void CheckBox(const Detection& d, const std::string& sample_id) {
  for (double b : d.bounding_box)
    if (!(b >= 0.0 && b <= 1.0))
      throw InvalidArgument("detection " + d.id + " of sample " + sample_id +
                            " has a bounding_box outside [0, 1]; boxes are relative [x, y, w, h]");
}

void DeclareField(Sqlite& db, int64_t dataset_id, const std::string& name, const std::string& type) {
  if (type.empty()) return;
  auto q = db.Prepare("SELECT type FROM fields WHERE dataset_id = ? AND name = ?");
  q.Bind(1, dataset_id).Bind(2, name);
  if (q.Step()) {
    std::string have = q.Text(0);
    if (have == type || (have == "float" && type == "int")) return;
    if (have == "int" && type == "float") {
      db.Prepare("UPDATE fields SET type = 'float' WHERE dataset_id = ? AND name = ?").Bind(1, dataset_id).Bind(2, name).Run();
      return;
    }
    throw InvalidArgument("field '" + name + "' holds " + have + " values; cannot store a " + type +
                          " in it (use another field name)");
  }
  db.Prepare("INSERT INTO fields(dataset_id, name, type) VALUES(?, ?, ?)").Bind(1, dataset_id).Bind(2, name).Bind(3, type).Run();
}

std::map<std::string, std::string> FieldTypes(Sqlite& db, int64_t dataset_id) {
  std::map<std::string, std::string> out;
  auto q = db.Prepare("SELECT name, type FROM fields WHERE dataset_id = ? ORDER BY name");
  q.Bind(1, dataset_id);
  while (q.Step()) out[q.Text(0)] = q.Text(1);
  return out;
}

int64_t DatasetIdByName(Sqlite& db, const std::string& name) {
  auto q = db.Prepare("SELECT id FROM datasets WHERE name = ?");
  q.Bind(1, name);
  if (q.Step()) return q.Int(0);
  std::string names;
  auto all = db.Prepare("SELECT name FROM datasets ORDER BY name");
  while (all.Step()) names += (names.empty() ? "" : ", ") + all.Text(0);
  throw NotFound("dataset '" + name + "' not found; existing datasets: [" + names + "]");
}

std::optional<int64_t> SampleSeq(Sqlite& db, int64_t dataset_id, const std::string& id) {
  auto q = db.Prepare("SELECT seq FROM samples WHERE id = ? AND dataset_id = ?");
  q.Bind(1, id).Bind(2, dataset_id);
  if (!q.Step()) return std::nullopt;
  return q.Int(0);
}

namespace {

void ReadFieldsJson(const std::string& text, std::map<std::string, Value>* out) {
  json j = json::parse(text);
  for (auto& [k, v] : j.items()) (*out)[k] = Value::FromJson(v);
}

}  // namespace

SampleReader::SampleReader(Sqlite& db)
    : sample_(db.Prepare("SELECT id, filepath, tags, width, height, fields, size_bytes, mime_type, num_channels "
                         "FROM samples WHERE seq = ?")),
      vectors_(db.Prepare("SELECT field, data FROM sample_vectors WHERE sample_seq = ?")),
      labels_(db.Prepare("SELECT seq, field, id, label, x, y, w, h, confidence, attributes FROM labels "
                         "WHERE sample_seq = ? ORDER BY field, position")),
      label_vectors_(db.Prepare("SELECT attr, data FROM label_vectors WHERE label_seq = ?")) {}

std::optional<Sample> SampleReader::Read(int64_t seq) {
  sample_.Bind(1, seq);
  if (!sample_.Step()) {
    sample_.Reset();
    return std::nullopt;
  }
  Sample s;
  s.id = sample_.Text(0);
  s.filepath = sample_.Text(1);
  s.tags = json::parse(sample_.Text(2)).get<std::vector<std::string>>();
  if (!sample_.IsNull(3)) s.width = static_cast<int>(sample_.Int(3));
  if (!sample_.IsNull(4)) s.height = static_cast<int>(sample_.Int(4));
  ReadFieldsJson(sample_.Text(5), &s.fields);
  if (!sample_.IsNull(6)) s.size_bytes = sample_.Int(6);
  if (!sample_.IsNull(7)) s.mime_type = sample_.Text(7);
  if (!sample_.IsNull(8)) s.num_channels = static_cast<int>(sample_.Int(8));
  sample_.Reset();
  vectors_.Bind(1, seq);
  while (vectors_.Step()) s.fields[vectors_.Text(0)] = BlobToVector(vectors_.Blob(1));
  vectors_.Reset();
  ReadLabels(seq, &s);
  return s;
}

void SampleReader::ReadLabels(int64_t sample_seq, Sample* s) {
  labels_.Bind(1, sample_seq);
  while (labels_.Step()) {
    Detection d;
    d.id = labels_.Text(2);
    d.label = labels_.Text(3);
    d.bounding_box = {labels_.Double(4), labels_.Double(5), labels_.Double(6), labels_.Double(7)};
    if (!labels_.IsNull(8)) d.confidence = labels_.Double(8);
    ReadFieldsJson(labels_.Text(9), &d.attributes);
    label_vectors_.Bind(1, labels_.Int(0));
    while (label_vectors_.Step()) d.attributes[label_vectors_.Text(0)] = BlobToVector(label_vectors_.Blob(1));
    label_vectors_.Reset();
    s->label_fields[labels_.Text(1)].detections.push_back(std::move(d));
  }
  labels_.Reset();
}

std::optional<Sample> ReadSample(Sqlite& db, int64_t dataset_id, const std::string& id) {
  auto seq = SampleSeq(db, dataset_id, id);
  if (!seq) return std::nullopt;
  return SampleReader(db).Read(*seq);
}

// Splits values into the JSON column and the vector table.
json ScalarFieldsJson(const std::map<std::string, Value>& fields) {
  json j = json::object();
  for (const auto& [k, v] : fields)
    if (!v.is_vector() && !v.is_null()) j[k] = v.ToJson();
  return j;
}

namespace {

int64_t ReadCounter(Sqlite& db, const char* key) {
  auto q = db.Prepare("SELECT value FROM meta WHERE key = ?");
  q.Bind(1, key);
  if (!q.Step()) throw Corruption(std::string("the store has no '") + key + "' counter; it was not migrated");
  return std::stoll(q.Text(0));
}

void WriteCounter(Sqlite& db, const char* key, int64_t value) {
  db.Prepare("UPDATE meta SET value = ? WHERE key = ?").Bind(1, std::to_string(value)).Bind(2, key).Run();
}

}  // namespace

SampleWriter::SampleWriter(Sqlite& db, int64_t dataset_id)
    : db_(db),
      dataset_id_(dataset_id),
      next_sample_(ReadCounter(db, "next_sample_seq")),
      next_label_(ReadCounter(db, "next_label_seq")),
      sample_(db.Prepare("INSERT INTO samples(seq, dataset_id, id, filepath, tags, width, height, fields, size_bytes, "
                         "mime_type, num_channels) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")),
      tag_(db.Prepare("INSERT OR IGNORE INTO sample_tags(dataset_id, tag, sample_seq) VALUES(?, ?, ?)")),
      vector_(db.Prepare("INSERT INTO sample_vectors(sample_seq, field, data) VALUES(?, ?, ?)")),
      label_(db.Prepare("INSERT INTO labels(seq, sample_seq, field, position, id, label, x, y, w, h, confidence, attributes) "
                        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")),
      label_vector_(db.Prepare("INSERT INTO label_vectors(label_seq, attr, data) VALUES(?, ?, ?)")) {}

int64_t SampleWriter::Insert(const Sample& s) {
  const int64_t seq = next_sample_++;
  // Most samples of a large ingest have no tags or fields: skip the JSON
  // encoder for them (it is a tenth of the insert's cost).
  sample_.Bind(1, seq).Bind(2, dataset_id_).BindUnowned(3, s.id).BindUnowned(4, s.filepath);
  sample_.Bind(5, s.tags.empty() ? std::string("[]") : json(s.tags).dump());
  sample_.Bind(6, s.width).Bind(7, s.height);
  sample_.Bind(8, s.fields.empty() ? std::string("{}") : ScalarFieldsJson(s.fields).dump());
  sample_.Bind(9, s.size_bytes).Bind(10, s.mime_type).Bind(11, s.num_channels);
  sample_.Run();
  for (const auto& t : s.tags) tag_.Bind(1, dataset_id_).BindUnowned(2, t).Bind(3, seq).Run();
  for (const auto& [name, v] : s.fields) {
    if (!v.is_vector()) continue;
    const auto& vec = v.as<FloatVector>();
    vector_.Bind(1, seq).Bind(2, name).BindBlob(3, vec.data(), vec.size() * sizeof(float)).Run();
  }
  for (const auto& [field, dets] : s.label_fields)
    for (size_t i = 0; i < dets.detections.size(); ++i) InsertDetection(seq, field, static_cast<int>(i), dets.detections[i]);
  ++added_;
  return seq;
}

void SampleWriter::InsertDetection(int64_t sample_seq, const std::string& field, int position, const Detection& d) {
  const int64_t seq = next_label_++;
  label_.Bind(1, seq).Bind(2, sample_seq).Bind(3, field).Bind(4, position).Bind(5, d.id).Bind(6, d.label);
  for (int i = 0; i < 4; ++i) label_.Bind(7 + i, d.bounding_box[i]);
  label_.Bind(11, d.confidence).Bind(12, ScalarFieldsJson(d.attributes).dump());
  label_.Run();
  for (const auto& [attr, v] : d.attributes) {
    if (!v.is_vector()) continue;
    const auto& vec = v.as<FloatVector>();
    label_vector_.Bind(1, seq).Bind(2, attr).BindBlob(3, vec.data(), vec.size() * sizeof(float)).Run();
  }
}

void SampleWriter::Finish() {
  WriteCounter(db_, "next_sample_seq", next_sample_);
  WriteCounter(db_, "next_label_seq", next_label_);
  AdjustSampleCount(db_, dataset_id_, static_cast<int64_t>(added_));
}

int64_t ReserveKeys(Sqlite& db, const char* counter, int64_t n) {
  const int64_t first = ReadCounter(db, counter);
  WriteCounter(db, counter, first + n);
  return first;
}

void AdjustSampleCount(Sqlite& db, int64_t dataset_id, int64_t delta) {
  if (delta == 0) return;
  db.Prepare("UPDATE datasets SET sample_count = sample_count + ? WHERE id = ?").Bind(1, delta).Bind(2, dataset_id).Run();
}

void ReplaceTags(Sqlite& db, int64_t dataset_id, int64_t sample_seq, const std::vector<std::string>& tags) {
  db.Prepare("UPDATE samples SET tags = ? WHERE seq = ?").Bind(1, json(tags).dump()).Bind(2, sample_seq).Run();
  db.Prepare("DELETE FROM sample_tags WHERE sample_seq = ?").Bind(1, sample_seq).Run();
  auto put = db.Prepare("INSERT OR IGNORE INTO sample_tags(dataset_id, tag, sample_seq) VALUES(?, ?, ?)");
  for (const auto& t : tags) put.Bind(1, dataset_id).Bind(2, t).Bind(3, sample_seq).Run();
}

std::vector<std::vector<std::string>> LabelIdsOfSamples(Sqlite& db, int64_t dataset_id,
                                                        const std::vector<std::string>& sample_ids,
                                                        const std::string& field) {
  std::vector<std::vector<std::string>> out(sample_ids.size());
  auto q = db.Prepare(
      "SELECT l.id FROM labels l JOIN samples s ON l.sample_seq = s.seq "
      "WHERE s.id = ? AND s.dataset_id = ? AND l.field = ? ORDER BY l.position");
  for (size_t i = 0; i < sample_ids.size(); ++i) {
    q.Bind(1, sample_ids[i]).Bind(2, dataset_id).Bind(3, field);
    while (q.Step()) out[i].push_back(q.Text(0));
    q.Reset();
  }
  return out;
}

}  // namespace fo::internal
