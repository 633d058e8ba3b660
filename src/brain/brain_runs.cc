#include <iostream>

#include "brain/run_store.h"
#include "fo/brain.h"
#include "fo/brain_config.h"
#include "fo/database.h"
#include "fo/error.h"

namespace fo {

using internal::RunRecord;
using nlohmann::json;

// FO_VERSION is CMakeLists.txt's project(fo VERSION ...), the one version of
// the library, the CLI and the Python package (setup.py reads it too).
const char* Version() { return FO_VERSION; }

namespace {

internal::Sqlite& Sql(const Dataset& d) { return d.database()->sqlite(); }

RunRecord MustFindRun(const Dataset& dataset, const std::string& key) {
  std::lock_guard lock(Sql(dataset).mutex());
  auto run = internal::FindRun(Sql(dataset), dataset.id(), key);
  if (run) return *run;
  std::string keys;
  for (const auto& r : internal::AllRuns(Sql(dataset), dataset.id())) keys += (keys.empty() ? "" : ", ") + r.key;
  throw NotFound("dataset '" + dataset.name() + "' has no brain run '" + key + "'; its runs are [" + keys + "]");
}

bool Matches(const RunRecord& run, const BrainRunFilter& filter) {
  if (!filter.type.empty() && run.type != filter.type) return false;
  if (!filter.method.empty() && run.method != filter.method) return false;
  for (const auto& [k, want] : filter.config) {
    json have = run.config.contains(k) ? run.config[k] : json(nullptr);
    if (have != want) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> ListBrainRuns(const Dataset& dataset, const BrainRunFilter& filter) {
  std::lock_guard lock(Sql(dataset).mutex());
  std::vector<std::string> keys;
  for (const auto& run : internal::AllRuns(Sql(dataset), dataset.id()))
    if (Matches(run, filter)) keys.push_back(run.key);
  return keys;
}

bool HasBrainRun(const Dataset& dataset, const std::string& key) {
  std::lock_guard lock(Sql(dataset).mutex());
  return internal::FindRun(Sql(dataset), dataset.id(), key).has_value();
}

BrainInfo GetBrainInfo(const Dataset& dataset, const std::string& key) {
  RunRecord run = MustFindRun(dataset, key);
  return {run.key, run.version, run.timestamp, run.type, run.config};
}

std::unique_ptr<SimilarityIndex> LoadBrainResults(const Dataset& dataset, const std::string& key, const json& credentials) {
  RunRecord run = MustFindRun(dataset, key);
  if (run.type != "similarity") throw InvalidArgument("brain run '" + key + "' is a " + run.type + " run, not a similarity run");
  SimilarityConfig config = SimilarityConfig::FromJson(run.config);
  // Persisted fields come from the record; credentials from the call, else
  // from the brain config (env, then file), re-read on every load.
  json configured = BrainConfig::Load().SimilarityBackendParams(config.backend);
  for (const auto& [k, v] : configured.items())
    if (IsCredentialParam(k)) config.params[k] = v;
  if (!credentials.is_null())
    for (const auto& [k, v] : credentials.items())
      if (!v.is_null()) config.params[k] = v;
  BackendContext ctx;
  ctx.db = dataset.database();
  ctx.run_id = run.run_id;
  ctx.dataset_name = dataset.name();
  ctx.metric = config.metric;
  ctx.patches = !config.patches_field.empty();
  ctx.params = config.params;
  return std::make_unique<SimilarityIndex>(dataset.view(), key, std::move(config), std::move(ctx));
}

void RenameBrainRun(const Dataset& dataset, const std::string& key, const std::string& new_key) {
  internal::CheckBrainKey(new_key);
  internal::Transaction txn(Sql(dataset));
  RunRecord run = MustFindRun(dataset, key);
  if (internal::FindRun(Sql(dataset), dataset.id(), new_key))
    throw AlreadyExists("brain run '" + new_key + "' already exists on dataset '" + dataset.name() + "'");
  Sql(dataset).Prepare("UPDATE brain_runs SET key = ? WHERE run_id = ?").Bind(1, new_key).Bind(2, run.run_id).Run();
  txn.Commit();
}

void DeleteBrainRun(const Dataset& dataset, const std::string& key) {
  internal::Transaction txn(Sql(dataset));
  RunRecord run = MustFindRun(dataset, key);
  internal::DeleteRun(Sql(dataset), run.run_id);
  txn.Commit();
}

void DeleteBrainRuns(const Dataset& dataset) {
  internal::Transaction txn(Sql(dataset));
  Sql(dataset).Prepare("DELETE FROM brain_runs WHERE dataset_id = ?").Bind(1, dataset.id()).Run();
  txn.Commit();
}

std::string ResolveSimilarityKey(const Dataset& dataset, bool prompt) {
  BrainRunFilter filter;
  filter.type = "similarity";
  if (prompt) filter.config["supports_prompts"] = true;
  BrainRunFilter images = filter;
  images.config["patches_field"] = nullptr;
  std::vector<std::string> keys = ListBrainRuns(dataset, images);
  if (keys.empty()) keys = ListBrainRuns(dataset, filter);
  if (keys.empty())
    throw NotFound("dataset '" + dataset.name() + "' has no compatible similarity run" +
                   (prompt ? " that supports prompts" : "") + "; run compute-similarity first");
  if (keys.size() > 1) std::cerr << "warning: multiple similarity runs found; using '" << keys.front() << "'\n";
  return keys.front();
}

}  // namespace fo
