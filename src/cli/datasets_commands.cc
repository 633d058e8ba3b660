// fo datasets create|list|info|delete|head.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "output.h"
#include "fo/brain.h"
#include "fo/database.h"
#include "fo/summary.h"
#include "fo/error.h"
#include "fo/import.h"

namespace fo::cli {

namespace {

void AddCreate(CLI::App& datasets) {
  struct Args {
    std::string name, images;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = datasets.add_subcommand("create", "Create a dataset from a directory of images");
  cmd->add_option("NAME", args->name, "Dataset name")->required();
  cmd->add_option("--images", args->images, "Directory scanned recursively for images")->required();
  cmd->callback([args] {
    std::shared_ptr<Database> db = Database::OpenDefault();
    // Fail on the name before scanning what may be a large directory.
    if (Dataset::Exists(db, args->name)) throw AlreadyExists("dataset '" + args->name + "' already exists");
    std::vector<std::string> skipped;
    std::vector<Sample> samples = ScanImageDirectory(args->images, &skipped);
    for (const std::string& s : skipped) std::cerr << "skipped " << OneLine(s) << '\n';
    if (samples.empty()) Warn("no images found in '" + args->images + "'; the dataset is empty");
    // One transaction: a failure (a full disk) or a crash leaves no dataset,
    // so the same command can simply be run again.
    Dataset dataset = Dataset::Create(db, args->name, std::move(samples));
    std::cout << "Created dataset '" << dataset.name() << "' with " << dataset.Count() << " samples\n";
  });
}

void AddList(CLI::App& datasets) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = datasets.add_subcommand("list", "List the datasets in the store");
  cmd->add_flag("--json", *json, "Print a JSON array of names on stdout");
  cmd->callback([json] {
    std::vector<std::string> names = Dataset::List(Database::OpenDefault());
    if (*json) return PrintJson(names);
    for (const std::string& name : names) std::cout << name << '\n';
  });
}

nlohmann::ordered_json DatasetInfoJson(const Dataset& dataset) {
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (const FieldInfo& f : dataset.Fields()) fields[f.name] = f.type;
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const std::string& key : ListBrainRuns(dataset)) {
    BrainInfo info = GetBrainInfo(dataset, key);
    std::string patches = PatchesFieldOf(info);
    runs.push_back({{"key", key},
                    {"type", info.type},
                    {"backend", BackendOf(info)},
                    {"patches_field", patches.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(patches)}});
  }
  return {{"name", dataset.name()}, {"count", dataset.Count()}, {"fields", fields}, {"brain_runs", runs}};
}

void AddInfo(CLI::App& datasets) {
  struct Args {
    std::string name;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = datasets.add_subcommand("info", "Show a dataset's summary, as FiftyOne prints a dataset");
  cmd->add_option("NAME", args->name, "Dataset name")->required();
  cmd->add_flag("--json", args->json, "Print JSON (size, fields, brain runs) on stdout");
  cmd->callback([args] {
    Dataset dataset = Dataset::Load(Database::OpenDefault(), args->name);
    if (args->json) return PrintJson(DatasetInfoJson(dataset));
    std::cout << DatasetSummary(dataset) << '\n';
  });
}

void AddDelete(CLI::App& datasets) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = datasets.add_subcommand("delete", "Delete a dataset with its samples and brain runs");
  cmd->add_option("NAME", *name, "Dataset name")->required();
  cmd->callback([name] {
    Dataset::Delete(Database::OpenDefault(), *name);
    std::cout << "Deleted dataset '" << *name << "'\n";
  });
}

void AddHead(CLI::App& datasets) {
  struct Args {
    std::string name;
    int64_t n = 3;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = datasets.add_subcommand("head", "Show the first samples of a dataset");
  cmd->add_option("NAME", args->name, "Dataset name")->required();
  cmd->add_option("-n,--n", args->n, "Number of samples")->capture_default_str();
  cmd->add_flag("--json", args->json, "Print a JSON array of samples on stdout");
  cmd->callback([args] {
    if (args->n < 0) throw InvalidArgument("--n must not be negative, got " + std::to_string(args->n));
    Dataset dataset = Dataset::Load(Database::OpenDefault(), args->name);
    std::vector<Sample> samples = dataset.view().Page(0, static_cast<size_t>(args->n));
    if (args->json) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const Sample& s : samples) out.push_back(SampleToJson(s));
      return PrintJson(out);
    }
    for (size_t i = 0; i < samples.size(); ++i) std::cout << (i ? "\n" : "") << DescribeSample(samples[i]);
  });
}

}  // namespace

void AddDatasetsCommands(CLI::App& app) {
  CLI::App* datasets = app.add_subcommand("datasets", "Create, inspect and delete datasets");
  datasets->require_subcommand(1);
  AddCreate(*datasets);
  AddList(*datasets);
  AddInfo(*datasets);
  AddDelete(*datasets);
  AddHead(*datasets);
  AddDatasetEditCommands(*datasets);
}

}  // namespace fo::cli
