// fo demo: a guided tour that needs no data. Generates the shapes images,
// loads them, builds an image and a patch similarity index with the built-in
// descriptor on the default backend, and prints a query against each.
#include <chrono>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "output.h"
#include "similarity_results.h"
#include "fo/brain.h"
#include "fo/database.h"
#include "fo/demo.h"
#include "fo/error.h"

namespace fo::cli {

namespace {

constexpr const char* kImageKey = "img_sim";
constexpr const char* kPatchKey = "patch_sim";
constexpr const char* kPatchesField = "ground_truth";
constexpr size_t kTopK = 10;

// Prints "<what> ... <result> (<seconds>)" around one step, so that a slow
// step is visible while it runs.
template <typename Step>
auto Timed(const std::string& what, Step step) {
  std::cout << what << " ... " << std::flush;
  auto start = std::chrono::steady_clock::now();
  auto result = step();
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::cout << "done (" << FormatSeconds(elapsed.count()) << ")\n";
  return result;
}

std::unique_ptr<SimilarityIndex> BuildIndex(const Dataset& dataset, const std::string& key,
                                            const std::string& patches_field) {
  ComputeSimilarityOptions options;
  options.brain_key = key;
  options.patches_field = patches_field;
  return ComputeSimilarity(dataset.view(), options);
}

void PrintQuery(const Dataset& dataset, const std::string& key, const std::string& query_id) {
  SortBySimilarityOptions options;
  options.k = kTopK;
  options.brain_key = key;
  std::vector<ViewRow> rows = SortBySimilarity(dataset.view(), SimilarityQuery::ById(query_id), options).Rows();
  PrintSimilarityTable(CollectSimilarityResults(dataset, rows, /*reverse=*/false));
}

// Deletes an earlier demo dataset. Its runs' backend indexes are cleaned up
// first where possible, since deleting the dataset would orphan an external
// one (a Qdrant collection) that nothing could then find.
void DeleteDemoDataset(const std::shared_ptr<Database>& db, const std::string& name) {
  Dataset old = Dataset::Load(db, name);
  for (const std::string& key : ListBrainRuns(old)) {
    try {
      LoadBrainResults(old, key)->Cleanup();
    } catch (const std::exception& e) {
      Warn("could not clean up the index of brain run '" + key + "': " + e.what());
    }
  }
  Dataset::Delete(db, name);
  std::cout << "Deleted the existing dataset '" << name << "'\n";
}

void RunDemo(const std::string& name, bool overwrite) {
  std::shared_ptr<Database> db = Database::OpenDefault();
  if (Dataset::Exists(db, name)) {
    if (!overwrite) {
      throw AlreadyExists("dataset '" + name + "' already exists; delete it first (fo datasets delete " + name +
                          "), choose another with --name, or pass --overwrite");
    }
    DeleteDemoDataset(db, name);
  }
  std::filesystem::path media =
      std::filesystem::absolute(db->path()).parent_path() / "media" / name;

  std::vector<Sample> samples = Timed("Generating shapes images in " + media.string(),
                                      [&] { return GenerateShapes(media.string()); });
  Dataset dataset = Dataset::Create(db, name);
  try {
    Timed("Adding " + std::to_string(samples.size()) + " samples to dataset '" + name + "'",
          [&] { return dataset.AddSamples(std::move(samples)); });
    auto images = Timed("Computing image similarity run '" + std::string(kImageKey) + "'",
                        [&] { return BuildIndex(dataset, kImageKey, ""); });
    auto patches = Timed("Computing patch similarity run '" + std::string(kPatchKey) + "' on " + kPatchesField,
                         [&] { return BuildIndex(dataset, kPatchKey, kPatchesField); });
    std::cout << "Indexed " << images->total_index_size() << " images and " << patches->total_index_size()
              << " patches with backend " << images->config().backend << "\n";
  } catch (...) {
    // Half a demo is worse than none: a rerun would stop at "already exists".
    Dataset::Delete(db, name);
    throw;
  }

  Sample first = dataset.First();
  std::cout << "\nTop " << kTopK << " images most similar to the first sample, " << first.id << " ("
            << first.filepath << "):\n";
  PrintQuery(dataset, kImageKey, first.id);

  auto field = first.label_fields.find(kPatchesField);
  if (field == first.label_fields.end() || field->second.detections.empty()) return;
  const Detection& patch = field->second.detections.front();
  std::cout << "\nTop " << kTopK << " patches most similar to the first sample's " << patch.label << " "
            << patch.id << ":\n";
  PrintQuery(dataset, kPatchKey, patch.id);
  std::cout << "\nTry: fo brain sort-by-similarity " << name << " --brain-key " << kImageKey << " --query "
            << first.id << " --k 5\n";
}

}  // namespace

void AddDemoCommand(CLI::App& app) {
  struct Args {
    std::string name = "shapes";
    bool overwrite = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("demo", "Generate the shapes demo dataset, index it and query it");
  cmd->add_option("--name", args->name, "Dataset name")->capture_default_str();
  cmd->add_flag("--overwrite", args->overwrite, "Replace an existing dataset of that name");
  cmd->callback([args] { RunDemo(args->name, args->overwrite); });
}

}  // namespace fo::cli
