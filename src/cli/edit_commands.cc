// fo datasets compute-metadata|clone: edits of a dataset from the command
// line, through fo/metadata.h and fo/edits.h.
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "output.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/edits.h"
#include "fo/error.h"
#include "fo/metadata.h"

namespace fo::cli {

namespace {

void AddComputeMetadata(CLI::App& datasets) {
  struct Args {
    std::string name;
    bool overwrite = false;
    bool strict = false;
    int64_t num_workers = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = datasets.add_subcommand(
      "compute-metadata", "Read each image's size, type, width, height and channels from its header into the samples");
  cmd->add_option("NAME", args->name, "Dataset name")->required();
  cmd->add_flag("--overwrite", args->overwrite, "Also recompute samples whose metadata is complete");
  cmd->add_option("--num-workers", args->num_workers, "Threads reading headers (0: one per core)")->capture_default_str();
  cmd->add_flag("--strict", args->strict, "Fail (writing nothing) on the first image that cannot be read");
  cmd->callback([args] {
    if (args->num_workers < 0) throw InvalidArgument("--num-workers must not be negative, got " + std::to_string(args->num_workers));
    Dataset dataset = Dataset::Load(Database::OpenDefault(), args->name);
    ComputeMetadataOptions o;
    o.overwrite = args->overwrite;
    o.num_workers = static_cast<size_t>(args->num_workers);
    o.skip_failures = !args->strict;
    ComputeMetadataResult r = ComputeMetadata(dataset.view(), o);
    for (const std::string& f : r.failures) std::cerr << "skipped " << OneLine(f) << '\n';
    std::cout << "Computed metadata of " << r.computed << " samples of '" << dataset.name() << "'";
    if (!r.failures.empty()) std::cout << " (" << r.failures.size() << " could not be read)";
    std::cout << '\n';
  });
}

void AddClone(CLI::App& datasets) {
  struct Args {
    std::string name, new_name;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = datasets.add_subcommand("clone", "Copy a dataset's samples into a new dataset (new ids, no brain runs)");
  cmd->add_option("NAME", args->name, "Dataset name")->required();
  cmd->add_option("NEW_NAME", args->new_name, "Name of the copy")->required();
  cmd->callback([args] {
    Dataset copy = Clone(Dataset::Load(Database::OpenDefault(), args->name).view(), args->new_name);
    std::cout << "Cloned '" << args->name << "' into '" << copy.name() << "' (" << copy.Count() << " samples)\n";
  });
}

}  // namespace

void AddDatasetEditCommands(CLI::App& datasets) {
  AddComputeMetadata(datasets);
  AddClone(datasets);
}

}  // namespace fo::cli
