// Brain run records in the store's brain_runs table.
#ifndef FO_BRAIN_RUN_STORE_H_
#define FO_BRAIN_RUN_STORE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite.h"

namespace fo::internal {

struct RunRecord {
  int64_t run_id = 0;
  std::string key;
  std::string type;
  std::string method;
  std::string version;
  std::string timestamp;
  nlohmann::json config;
};

std::optional<RunRecord> FindRun(Sqlite& db, int64_t dataset_id, const std::string& key);
std::vector<RunRecord> AllRuns(Sqlite& db, int64_t dataset_id);
// Inserts a record and returns its run id. REQUIRES: the key is free.
int64_t InsertRun(Sqlite& db, int64_t dataset_id, const RunRecord& run);
void UpdateRunConfig(Sqlite& db, int64_t run_id, const nlohmann::json& config);
// Deletes the record; the store's own index rows go with it (ON DELETE
// CASCADE), an external index (a Qdrant collection) stays.
void DeleteRun(Sqlite& db, int64_t run_id);

// Throws kInvalidArgument unless key is a valid identifier ([A-Za-z_][A-Za-z0-9_]*).
void CheckBrainKey(const std::string& key);
std::string UtcTimestamp();

}  // namespace fo::internal

#endif  // FO_BRAIN_RUN_STORE_H_
