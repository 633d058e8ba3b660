#include "brain/run_store.h"

#include <ctime>

#include "fo/error.h"

namespace fo::internal {

using nlohmann::json;

namespace {
RunRecord ReadRun(Statement& q) {
  RunRecord r;
  r.run_id = q.Int(0);
  r.key = q.Text(1);
  r.type = q.Text(2);
  r.method = q.Text(3);
  r.version = q.Text(4);
  r.timestamp = q.Text(5);
  try {
    r.config = json::parse(q.Text(6));
  } catch (const json::exception& e) {
    throw Corruption("the record of brain run '" + r.key + "' cannot be parsed: " + e.what());
  }
  return r;
}
constexpr const char* kColumns = "SELECT run_id, key, type, method, version, timestamp, config FROM brain_runs ";
}  // namespace

std::optional<RunRecord> FindRun(Sqlite& db, int64_t dataset_id, const std::string& key) {
  auto q = db.Prepare(std::string(kColumns) + "WHERE dataset_id = ? AND key = ?");
  q.Bind(1, dataset_id).Bind(2, key);
  if (!q.Step()) return std::nullopt;
  return ReadRun(q);
}

std::vector<RunRecord> AllRuns(Sqlite& db, int64_t dataset_id) {
  auto q = db.Prepare(std::string(kColumns) + "WHERE dataset_id = ? ORDER BY key");
  q.Bind(1, dataset_id);
  std::vector<RunRecord> out;
  while (q.Step()) out.push_back(ReadRun(q));
  return out;
}

int64_t InsertRun(Sqlite& db, int64_t dataset_id, const RunRecord& run) {
  db.Prepare("INSERT INTO brain_runs(dataset_id, key, type, method, version, timestamp, config) VALUES(?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, dataset_id).Bind(2, run.key).Bind(3, run.type).Bind(4, run.method).Bind(5, run.version)
      .Bind(6, run.timestamp).Bind(7, run.config.dump()).Run();
  return db.LastInsertRowId();
}

void DeleteRun(Sqlite& db, int64_t run_id) { db.Prepare("DELETE FROM brain_runs WHERE run_id = ?").Bind(1, run_id).Run(); }

void UpdateRunConfig(Sqlite& db, int64_t run_id, const json& config) {
  db.Prepare("UPDATE brain_runs SET config = ? WHERE run_id = ?").Bind(1, config.dump()).Bind(2, run_id).Run();
}

void CheckBrainKey(const std::string& key) {
  bool ok = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
  for (char c : key) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok) throw InvalidArgument("brain key '" + key + "' is not a valid identifier (letters, digits and _, not starting with a digit)");
}

std::string UtcTimestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace fo::internal
