// fo embeddings compute|text: run a model over a dataset (storing the
// vectors in a field) or over a text prompt.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "inputs.h"
#include "output.h"
#include "fo/database.h"
#include "fo/dataset.h"
#include "fo/embeddings.h"
#include "fo/error.h"
#include "fo/model.h"

namespace fo::cli {

namespace {

struct ModelArgs {
  std::string model;
  nlohmann::json kwargs = nlohmann::json::object();
};

void AddModelOptions(CLI::App& cmd, ModelArgs* args) {
  cmd.add_option("--model", args->model, "Model: a name (fo zoo models list) or a TorchScript file")->required();
  AddAssignmentOption(cmd, "--model-kwarg", &args->kwargs,
                      "Model option KEY=VALUE (image_size, mean, std, tokenizer_path, num_threads...)");
}

void AddCompute(CLI::App& embeddings) {
  struct Args {
    std::string dataset;
    ModelArgs model;
    ComputeEmbeddingsOptions options;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = embeddings.add_subcommand("compute", "Embed a dataset's images (or patches) into a field");
  ComputeEmbeddingsOptions& o = args->options;
  cmd->add_option("NAME", args->dataset, "Dataset name")->required();
  AddModelOptions(*cmd, &args->model);
  cmd->add_option("--field", o.embeddings_field, "Field receiving the vectors (with --patches-field, a detection attribute)")
      ->required();
  cmd->add_option("--patches-field", o.patches_field, "Detections field: embed each detection's crop");
  cmd->add_flag("--force-square", o.force_square, "Patches: grow each crop to a square");
  cmd->add_option_function<double>("--alpha", [args](double a) { args->options.alpha = a; },
                                   "Patches: pad each crop by this fraction of its size");
  cmd->add_option("--batch-size", o.batch_size, "Images per model call")->check(CLI::PositiveNumber);
  cmd->add_option("--num-workers", o.num_workers, "Image decoding threads (default: one per core)");
  cmd->add_flag("--skip-failures", o.skip_failures, "Skip unreadable images with a warning instead of failing");
  cmd->callback([args] {
    Dataset dataset = Dataset::Load(Database::OpenDefault(), args->dataset);
    std::unique_ptr<Model> model = LoadModel(args->model.model, args->model.kwargs);
    EmbeddingsResult r = ComputeEmbeddings(dataset.view(), *model, args->options);
    std::cout << "Stored " << r.embeddings.rows() << " embeddings of dimension " << model->dimension() << " ("
              << model->name() << ") in " << (args->options.patches_field.empty() ? "field '" : "attribute '")
              << args->options.embeddings_field << "' of dataset '" << dataset.name() << "'\n";
  });
}

void AddText(CLI::App& embeddings) {
  struct Args {
    ModelArgs model;
    std::vector<std::string> texts;
    bool tokens = false;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = embeddings.add_subcommand("text", "Embed text prompts (or show their token ids)");
  AddModelOptions(*cmd, &args->model);
  cmd->add_option("--text", args->texts, "Prompt; repeat for several")->required();
  cmd->add_flag("--tokens", args->tokens, "Print the token ids instead of the embedding");
  cmd->add_flag("--json", args->json, "Print JSON on stdout");
  cmd->callback([args] {
    std::unique_ptr<Model> model = LoadModel(args->model.model, args->model.kwargs);
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    if (args->tokens) {
      for (const auto& ids : model->TokenizePrompts(args->texts)) rows.push_back(ids);
    } else {
      Matrix m = model->EmbedPrompts(args->texts);
      for (size_t i = 0; i < m.rows(); ++i) rows.push_back(std::vector<float>(m.row(i).begin(), m.row(i).end()));
    }
    if (args->json) {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (size_t i = 0; i < rows.size(); ++i)
        out.push_back({{"text", args->texts[i]}, {args->tokens ? "tokens" : "embedding", rows[i]}});
      return PrintJson(out);
    }
    // One line per prompt, space-separated, for shell pipelines.
    for (const auto& row : rows) {
      std::string line;
      for (const auto& v : row) line += (line.empty() ? "" : " ") + v.dump();
      std::cout << line << '\n';
    }
  });
}

}  // namespace

void AddEmbeddingsCommands(CLI::App& app) {
  CLI::App* embeddings = app.add_subcommand("embeddings", "Compute embeddings with a model");
  embeddings->require_subcommand(1);
  AddCompute(*embeddings);
  AddText(*embeddings);
}

}  // namespace fo::cli
