#include "store/sample_store.h"

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

std::vector<std::string> SampleIdsInOrder(Sqlite& db, int64_t dataset_id) {
  std::vector<std::string> ids;
  auto q = db.Prepare("SELECT id FROM samples WHERE dataset_id = ? ORDER BY seq");
  q.Bind(1, dataset_id);
  while (q.Step()) ids.push_back(q.Text(0));
  return ids;
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

void ReadLabels(Sqlite& db, int64_t sample_seq, Sample* s) {
  auto q = db.Prepare(
      "SELECT seq, field, id, label, x, y, w, h, confidence, attributes FROM labels "
      "WHERE sample_seq = ? ORDER BY field, position");
  q.Bind(1, sample_seq);
  auto vq = db.Prepare("SELECT attr, data FROM label_vectors WHERE label_seq = ?");
  while (q.Step()) {
    Detection d;
    d.id = q.Text(2);
    d.label = q.Text(3);
    d.bounding_box = {q.Double(4), q.Double(5), q.Double(6), q.Double(7)};
    if (!q.IsNull(8)) d.confidence = q.Double(8);
    ReadFieldsJson(q.Text(9), &d.attributes);
    vq.Bind(1, q.Int(0));
    while (vq.Step()) d.attributes[vq.Text(0)] = BlobToVector(vq.Blob(1));
    vq.Reset();
    s->label_fields[q.Text(1)].detections.push_back(std::move(d));
  }
}

}  // namespace

std::optional<Sample> ReadSample(Sqlite& db, int64_t dataset_id, const std::string& id) {
  auto q = db.Prepare("SELECT seq, filepath, tags, width, height, fields FROM samples WHERE id = ? AND dataset_id = ?");
  q.Bind(1, id).Bind(2, dataset_id);
  if (!q.Step()) return std::nullopt;
  Sample s;
  int64_t seq = q.Int(0);
  s.id = id;
  s.filepath = q.Text(1);
  s.tags = json::parse(q.Text(2)).get<std::vector<std::string>>();
  if (!q.IsNull(3)) s.width = static_cast<int>(q.Int(3));
  if (!q.IsNull(4)) s.height = static_cast<int>(q.Int(4));
  ReadFieldsJson(q.Text(5), &s.fields);
  auto vq = db.Prepare("SELECT field, data FROM sample_vectors WHERE sample_seq = ?");
  vq.Bind(1, seq);
  while (vq.Step()) s.fields[vq.Text(0)] = BlobToVector(vq.Blob(1));
  ReadLabels(db, seq, &s);
  return s;
}

namespace {

// Splits values into the JSON column and the vector table.
json ScalarFieldsJson(const std::map<std::string, Value>& fields) {
  json j = json::object();
  for (const auto& [k, v] : fields)
    if (!v.is_vector() && !v.is_null()) j[k] = v.ToJson();
  return j;
}

void InsertDetection(Sqlite& db, int64_t sample_seq, const std::string& field, int position, const Detection& d) {
  auto q = db.Prepare(
      "INSERT INTO labels(sample_seq, field, position, id, label, x, y, w, h, confidence, attributes) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  q.Bind(1, sample_seq).Bind(2, field).Bind(3, position).Bind(4, d.id).Bind(5, d.label);
  for (int i = 0; i < 4; ++i) q.Bind(6 + i, d.bounding_box[i]);
  q.Bind(10, d.confidence).Bind(11, ScalarFieldsJson(d.attributes).dump());
  q.Run();
  int64_t label_seq = db.LastInsertRowId();
  for (const auto& [attr, v] : d.attributes) {
    if (!v.is_vector()) continue;
    std::string blob = VectorToBlob(v.as<FloatVector>());
    db.Prepare("INSERT INTO label_vectors(label_seq, attr, data) VALUES(?, ?, ?)")
        .Bind(1, label_seq).Bind(2, attr).BindBlob(3, blob.data(), blob.size()).Run();
  }
}

}  // namespace

void InsertSample(Sqlite& db, int64_t dataset_id, const Sample& s) {
  auto q = db.Prepare(
      "INSERT INTO samples(dataset_id, id, filepath, tags, width, height, fields) VALUES(?, ?, ?, ?, ?, ?, ?)");
  q.Bind(1, dataset_id).Bind(2, s.id).Bind(3, s.filepath).Bind(4, json(s.tags).dump());
  q.Bind(5, s.width).Bind(6, s.height).Bind(7, ScalarFieldsJson(s.fields).dump());
  q.Run();
  int64_t seq = db.LastInsertRowId();
  for (const auto& [name, v] : s.fields) {
    if (!v.is_vector()) continue;
    std::string blob = VectorToBlob(v.as<FloatVector>());
    db.Prepare("INSERT INTO sample_vectors(sample_seq, field, data) VALUES(?, ?, ?)")
        .Bind(1, seq).Bind(2, name).BindBlob(3, blob.data(), blob.size()).Run();
  }
  for (const auto& [field, dets] : s.label_fields)
    for (size_t i = 0; i < dets.detections.size(); ++i) InsertDetection(db, seq, field, static_cast<int>(i), dets.detections[i]);
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
