// fo brain list|info|rename|delete: managing the runs registered on a dataset.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "inputs.h"
#include "output.h"
#include "fo/brain.h"
#include "fo/database.h"
#include "fo/run_info.h"

namespace fo::cli {

namespace {

Dataset LoadDataset(const std::string& name) { return Dataset::Load(Database::OpenDefault(), name); }

nlohmann::ordered_json InfoToJson(const BrainInfo& info) {
  return {{"key", info.key}, {"version", info.version}, {"timestamp", info.timestamp},
          {"type", info.type}, {"config", info.config}};
}

void AddList(CLI::App& brain) {
  struct Args {
    std::string dataset, type;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = brain.add_subcommand("list", "List the brain runs of a dataset");
  cmd->add_option("NAME", args->dataset, "Dataset name")->required();
  cmd->add_option("--type", args->type, "Only runs of this type, e.g. similarity");
  cmd->add_flag("--json", args->json, "Print a JSON array of keys on stdout");
  cmd->callback([args] {
    Dataset dataset = LoadDataset(args->dataset);
    BrainRunFilter filter;
    filter.type = args->type;
    std::vector<std::string> keys = ListBrainRuns(dataset, filter);
    if (args->json) return PrintJson(keys);
    std::vector<std::vector<std::string>> rows;
    for (const std::string& key : keys) {
      BrainInfo info = GetBrainInfo(dataset, key);
      std::string patches = PatchesFieldOf(info);
      rows.push_back({key, info.type, BackendOf(info), info.timestamp, patches.empty() ? "" : "patches: " + patches});
    }
    PrintAligned(rows);
  });
}

void AddInfo(CLI::App& brain) {
  struct Args {
    std::string dataset, key;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = brain.add_subcommand("info", "Show a brain run's record and configuration, as FiftyOne prints it");
  cmd->add_option("NAME", args->dataset, "Dataset name")->required();
  cmd->add_option("KEY", args->key, "Brain key")->required();
  cmd->add_flag("--json", args->json, "Print JSON on stdout");
  cmd->callback([args] {
    BrainInfo info = GetBrainInfo(LoadDataset(args->dataset), args->key);
    if (args->json) return PrintJson(InfoToJson(info));
    // The text Python's print(dataset.get_brain_info(key)) shows.
    std::cout << FormatRunJson(BrainInfoJson(info)) << '\n';
  });
}

void AddRename(CLI::App& brain) {
  struct Args {
    std::string dataset, old_key, new_key;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = brain.add_subcommand("rename", "Rename a brain run");
  cmd->add_option("NAME", args->dataset, "Dataset name")->required();
  cmd->add_option("OLD", args->old_key, "Current brain key")->required();
  cmd->add_option("NEW", args->new_key, "New brain key")->required();
  cmd->callback([args] {
    RenameBrainRun(LoadDataset(args->dataset), args->old_key, args->new_key);
    std::cout << "Renamed brain run '" << args->old_key << "' to '" << args->new_key << "'\n";
  });
}

void AddDelete(CLI::App& brain) {
  struct Args {
    std::string dataset, key;
    bool cleanup = false;
    std::map<std::string, std::string> credentials;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = brain.add_subcommand("delete", "Delete a brain run");
  cmd->add_option("NAME", args->dataset, "Dataset name")->required();
  cmd->add_option("KEY", args->key, "Brain key")->required();
  cmd->add_flag("--cleanup", args->cleanup, "Also delete the backend's index (e.g. a Qdrant collection)");
  AddCredentialOptions(*cmd, &args->credentials);
  cmd->callback([args] {
    Dataset dataset = LoadDataset(args->dataset);
    // Deleting the record does not touch an external index, and once the
    // record is gone nothing knows where the index lives: clean up first.
    if (args->cleanup) {
      nlohmann::json credentials = nlohmann::json::object();
      for (const auto& [k, v] : args->credentials) credentials[k] = v;
      LoadBrainResults(dataset, args->key, credentials)->Cleanup();
    }
    DeleteBrainRun(dataset, args->key);
    std::cout << "Deleted brain run '" << args->key << "'" << (args->cleanup ? " and its index" : "") << '\n';
  });
}

}  // namespace

void AddBrainRunCommands(CLI::App& brain) {
  AddList(brain);
  AddInfo(brain);
  AddRename(brain);
  AddDelete(brain);
}

}  // namespace fo::cli
