// fo brain compute-similarity and fo brain sort-by-similarity.
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "inputs.h"
#include "output.h"
#include "similarity_results.h"
#include "fo/brain.h"
#include "fo/database.h"
#include "fo/error.h"
#include "fo/npy.h"

namespace fo::cli {

namespace {

struct ComputeArgs {
  std::string dataset;
  std::string embeddings_path;
  std::string ids_path;
  // Flags that map straight onto options (brain key, backend, params...) are
  // bound here directly, so adding one is one line in AddComputeSimilarity.
  ComputeSimilarityOptions options;
};

void RunComputeSimilarity(ComputeArgs& args) {
  Dataset dataset = Dataset::Load(Database::OpenDefault(), args.dataset);
  if (!args.embeddings_path.empty()) {
    IdentifiedEmbeddings input = ReadEmbeddingsWithIds(args.embeddings_path, args.ids_path);
    args.options.embeddings = std::move(input.embeddings);
    args.options.ids = std::move(input.ids);
  }
  std::unique_ptr<SimilarityIndex> index = ComputeSimilarity(dataset.view(), args.options);
  const SimilarityConfig& config = index->config();
  std::cout << "Computed similarity run '" << index->brain_key() << "' on dataset '" << dataset.name()
            << "': backend " << config.backend << ", metric " << config.metric << ", "
            << index->total_index_size() << (index->is_patch_index() ? " patches" : " samples") << " indexed\n";
}

void AddComputeSimilarity(CLI::App& brain) {
  auto args = std::make_shared<ComputeArgs>();
  CLI::App* cmd = brain.add_subcommand("compute-similarity", "Build a similarity index and register it as a brain run");
  ComputeSimilarityOptions& o = args->options;
  cmd->add_option("NAME", args->dataset, "Dataset name")->required();
  cmd->add_option("--brain-key", o.brain_key, "Key to register the run under")->required();
  cmd->add_option("--backend", o.backend, "Similarity backend (default: the brain config's)");
  cmd->add_option("--model", o.model, "Embedding model: a name (fo zoo models list) or a TorchScript file");
  AddAssignmentOption(*cmd, "--model-kwarg", &o.model_kwargs,
                      "Model option KEY=VALUE, recorded in the run (image_size, mean, std, tokenizer_path...)");
  cmd->add_option("--batch-size", o.batch_size, "Images per model call")->check(CLI::PositiveNumber);
  cmd->add_option("--num-workers", o.num_workers, "Image decoding threads (default: one per core)");
  CLI::Option* embeddings = cmd->add_option("--embeddings", args->embeddings_path, "N x D .npy of vectors");
  CLI::Option* ids = cmd->add_option("--ids", args->ids_path, "Text file, one id per row of --embeddings");
  CLI::Option* field =
      cmd->add_option("--embeddings-field", o.embeddings_field, "Field holding (or receiving) vectors");
  CLI::Option* none = cmd->add_flag("--no-embeddings", o.no_embeddings, "Create an empty index");
  embeddings->needs(ids);
  ids->needs(embeddings);
  embeddings->excludes(field)->excludes(none);
  field->excludes(none);
  cmd->add_option("--patches-field", o.patches_field, "Detections field: index one vector per detection");
  // Backend flags are one AddParamOption line each.
  AddParamOption(*cmd, "--metric", "metric", &o.params, "Distance metric (cosine, euclidean, dotproduct...)");
  AddParamOption(*cmd, "--url", "url", &o.params, "Server URL of a remote backend (e.g. http://localhost:6333)");
  AddParamOption(*cmd, "--api-key", "api_key", &o.params, "API key of a remote backend (never stored)");
  AddParamOption(*cmd, "--collection-name", "collection_name", &o.params, "Qdrant collection to create or connect to");
  AddAssignmentOption(*cmd, "--set", &o.params, "Backend parameter; dotted names nest (hnsw_config.m=32)");
  cmd->callback([args] { RunComputeSimilarity(*args); });
}

struct SortArgs {
  std::string dataset;
  std::string brain_key;
  std::string vector_path;
  std::optional<int64_t> k;
  bool reverse = false;
  bool json = false;
  SimilarityQuery query;
  std::map<std::string, std::string> credentials;
  // The view to search in (default: the whole dataset).
  std::string match_tags;
  std::optional<size_t> take;
  uint64_t seed = 51;
};

View SearchView(const Dataset& dataset, const SortArgs& args) {
  View view = dataset.view();
  if (!args.match_tags.empty()) view = view.MatchTags(SplitCommaList(args.match_tags));
  if (args.take) view = view.Take(*args.take, args.seed);
  return view;
}

void RunSortBySimilarity(SortArgs& args) {
  if (args.k && *args.k <= 0) throw InvalidArgument("--k must be a positive integer, got " + std::to_string(*args.k));
  if (!args.vector_path.empty()) args.query.vectors = ReadNpy(args.vector_path);
  if (args.query.ids.empty() && args.query.vectors.empty() && args.query.text.empty()) {
    throw InvalidArgument("the query is empty: give at least one id or vector, or a non-empty --text");
  }
  Dataset dataset = Dataset::Load(Database::OpenDefault(), args.dataset);
  SortBySimilarityOptions options;
  if (args.k) options.k = static_cast<size_t>(*args.k);
  options.reverse = args.reverse;
  options.brain_key = args.brain_key;
  options.credentials = args.credentials;
  std::vector<ViewRow> rows = SortBySimilarity(SearchView(dataset, args), args.query, options).Rows();
  SimilarityResults results = CollectSimilarityResults(dataset, rows, args.reverse);
  if (args.json) {
    PrintJson(SimilarityResultsToJson(results));
  } else {
    PrintSimilarityTable(results);
  }
}

void AddSortBySimilarity(CLI::App& brain) {
  auto args = std::make_shared<SortArgs>();
  CLI::App* cmd = brain.add_subcommand("sort-by-similarity", "Rank samples (or patches) by similarity to a query");
  cmd->add_option("NAME", args->dataset, "Dataset name")->required();
  cmd->add_option("--brain-key", args->brain_key, "Similarity run (default: the only one that fits)");
  CLI::Option_group* query = cmd->add_option_group("query", "What to search for (exactly one)");
  query->add_option_function<std::string>(
      "--query", [args](const std::string& ids) { args->query.ids = SplitCommaList(ids); },
      "Sample or label id, or comma-separated ids (their vectors are averaged)");
  query->add_option("--vector", args->vector_path, ".npy with one or more query vectors (averaged)");
  query->add_option("--text", args->query.text, "Text prompt (needs a run whose model supports prompts, e.g. CLIP)");
  query->require_option(1);
  cmd->add_option_function<int64_t>(
      "-k,--k", [args](int64_t k) { args->k = k; }, "Number of results (default: all indexed)");
  cmd->add_flag("--reverse", args->reverse, "Least similar first");
  cmd->add_flag("--json", args->json, "Print JSON on stdout");
  AddCredentialOptions(*cmd, &args->credentials);
  cmd->add_option("--match-tags", args->match_tags, "Search only samples with any of these tags (comma-separated)");
  cmd->add_option_function<size_t>(
      "--take", [args](size_t n) { args->take = n; }, "Search only N random samples (a view, like dataset.take(N))");
  cmd->add_option("--seed", args->seed, "Seed of --take");
  cmd->callback([args] { RunSortBySimilarity(*args); });
}

}  // namespace

void AddSimilarityCommands(CLI::App& brain) {
  AddComputeSimilarity(brain);
  AddSortBySimilarity(brain);
}

}  // namespace fo::cli
