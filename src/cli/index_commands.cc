// fo brain add-to-index | remove-from-index | get-embeddings | index-info,
// and fo qdrant collections: the SimilarityIndex and client operations of
// FiftyOne's integration pages, from the command line.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "fo/brain.h"
#include "fo/brain_config.h"
#include "fo/database.h"
#include "fo/error.h"
#include "fo/npy.h"
#include "fo/qdrant_backend.h"
#include "fo/qdrant_client.h"
#include "inputs.h"
#include "output.h"

namespace fo::cli {

namespace {

struct IndexArgs {
  std::string dataset, key;
  std::map<std::string, std::string> credentials;
};

std::unique_ptr<SimilarityIndex> LoadIndex(const IndexArgs& a) {
  Dataset dataset = Dataset::Load(Database::OpenDefault(), a.dataset);
  nlohmann::json credentials = nlohmann::json::object();
  for (const auto& [k, v] : a.credentials) credentials[k] = v;
  return LoadBrainResults(dataset, a.key, credentials);
}

CLI::App* AddIndexCommand(CLI::App& brain, const std::string& name, const std::string& help, IndexArgs& args) {
  CLI::App* cmd = brain.add_subcommand(name, help);
  cmd->add_option("NAME", args.dataset, "Dataset name")->required();
  cmd->add_option("KEY", args.key, "Brain key of a similarity run")->required();
  AddCredentialOptions(*cmd, &args.credentials);
  return cmd;
}

void AddAddToIndex(CLI::App& brain) {
  struct Args : IndexArgs {
    std::string embeddings, ids, label_ids;
    bool no_overwrite = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = AddIndexCommand(brain, "add-to-index", "Add (or replace) vectors in a similarity index", *args);
  cmd->add_option("--embeddings", args->embeddings, "N x D .npy of vectors")->required();
  cmd->add_option("--ids", args->ids, "Text file: the sample id of each row")->required();
  cmd->add_option("--label-ids", args->label_ids, "Text file: the label id of each row (patch indexes)");
  cmd->add_flag("--no-overwrite", args->no_overwrite, "Skip ids already in the index");
  cmd->callback([args] {
    IdentifiedEmbeddings input = ReadEmbeddingsWithIds(args->embeddings, args->ids);
    std::vector<std::string> label_ids;
    if (!args->label_ids.empty()) label_ids = ReadEmbeddingsWithIds(args->embeddings, args->label_ids).ids;
    auto index = LoadIndex(*args);
    AddToIndexOptions options;
    options.overwrite = !args->no_overwrite;
    index->AddToIndex(input.embeddings, input.ids, label_ids, options);
    std::cout << "total_index_size " << index->total_index_size() << '\n';
  });
}

void AddRemoveFromIndex(CLI::App& brain) {
  struct Args : IndexArgs {
    std::string ids, label_ids;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = AddIndexCommand(brain, "remove-from-index", "Remove vectors from a similarity index", *args);
  cmd->add_option("--ids", args->ids, "Sample ids, comma-separated (all patches of them for a patch index)");
  cmd->add_option("--label-ids", args->label_ids, "Label ids, comma-separated (patch indexes)");
  cmd->callback([args] {
    if (args->ids.empty() && args->label_ids.empty()) throw InvalidArgument("give --ids or --label-ids");
    auto index = LoadIndex(*args);
    index->RemoveFromIndex(SplitCommaList(args->ids), SplitCommaList(args->label_ids));
    std::cout << "total_index_size " << index->total_index_size() << '\n';
  });
}

void AddGetEmbeddings(CLI::App& brain) {
  struct Args : IndexArgs {
    std::string ids, label_ids, output;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = AddIndexCommand(brain, "get-embeddings", "Read vectors back from a similarity index", *args);
  cmd->add_option("--ids", args->ids, "Sample ids, comma-separated (default: the whole index)");
  cmd->add_option("--label-ids", args->label_ids, "Label ids, comma-separated (patch indexes)");
  cmd->add_option("--output", args->output, "Write the vectors to this .npy file");
  cmd->add_flag("--json", args->json, "Print the shape and ids as JSON");
  cmd->callback([args] {
    auto index = LoadIndex(*args);
    IndexedEmbeddings e = index->GetEmbeddings(SplitCommaList(args->ids), SplitCommaList(args->label_ids));
    if (!args->output.empty()) WriteNpy(e.embeddings, args->output);
    nlohmann::ordered_json j = {{"shape", {e.embeddings.rows(), e.embeddings.cols()}},
                                {"sample_ids", e.sample_ids}};
    if (!e.label_ids.empty()) j["label_ids"] = e.label_ids;
    if (args->json) {
      PrintJson(j);
    } else {
      std::cout << "embeddings (" << e.embeddings.rows() << ", " << e.embeddings.cols() << ")\n";
    }
  });
}

void AddIndexInfo(CLI::App& brain) {
  struct Args : IndexArgs {
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = AddIndexCommand(brain, "index-info", "Sizes of a similarity index (and its Qdrant collection)", *args);
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] {
    auto index = LoadIndex(*args);
    nlohmann::ordered_json j = {{"key", args->key},
                                {"backend", index->config().backend},
                                {"total_index_size", index->total_index_size()},
                                {"index_size", index->index_size()}};
    auto missing = index->missing_size();
    j["missing_size"] = missing ? nlohmann::ordered_json(*missing) : nlohmann::ordered_json(nullptr);
    if (index->config().backend == "qdrant") j["collection_name"] = QdrantCollectionOf(*index);
    if (args->json) {
      PrintJson(j);
    } else {
      for (const auto& [k, v] : j.items()) std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << '\n';
    }
  });
}

void AddQdrantCollections(CLI::App& app) {
  struct Args {
    std::map<std::string, std::string> credentials;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* qdrant = app.add_subcommand("qdrant", "Talk to a Qdrant server directly");
  qdrant->require_subcommand(1);
  CLI::App* cmd = qdrant->add_subcommand("collections", "List the server's collections (like client.get_collections())");
  AddCredentialOptions(*cmd, &args->credentials);
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] {
    // The same url / api_key resolution as a qdrant brain run: flags, then
    // FIFTYONE_BRAIN_SIMILARITY_QDRANT_*, then brain_config.json.
    nlohmann::json params = BrainConfig::Load().SimilarityBackendParams("qdrant");
    for (const auto& [k, v] : args->credentials) params[k] = v;
    QdrantClientOptions options;
    if (params.contains("url") && params["url"].is_string()) options.url = params["url"].get<std::string>();
    if (params.contains("api_key") && params["api_key"].is_string()) options.api_key = params["api_key"].get<std::string>();
    QdrantClient client(options);
    std::vector<std::string> names = client.ListCollections();
    if (args->json) {
      PrintJson(nlohmann::ordered_json(names));
    } else {
      for (const auto& n : names) std::cout << n << '\n';
    }
  });
}

}  // namespace

void AddIndexCommands(CLI::App& app, CLI::App& brain) {
  AddAddToIndex(brain);
  AddRemoveFromIndex(brain);
  AddGetEmbeddings(brain);
  AddIndexInfo(brain);
  AddQdrantCollections(app);
}

}  // namespace fo::cli
