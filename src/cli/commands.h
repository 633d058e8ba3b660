// The `fo` command tree. Each Add*Commands function registers one group of
// subcommands on the given CLI11 app; a subcommand does its work in its
// callback, which runs inside CLI::App::parse and reports failure by
// throwing (fo::Error or std::exception), for main() to turn into one line.
#ifndef FO_CLI_COMMANDS_H_
#define FO_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace fo::cli {

// fo datasets create|list|info|delete|head|compute-metadata|clone
void AddDatasetsCommands(CLI::App& app);
// fo datasets compute-metadata|clone (called by AddDatasetsCommands)
void AddDatasetEditCommands(CLI::App& datasets);
// fo brain list|info|rename|delete
void AddBrainRunCommands(CLI::App& brain);
// fo brain compute-similarity|sort-by-similarity
void AddSimilarityCommands(CLI::App& brain);
// fo demo
void AddDemoCommand(CLI::App& app);
// fo brain add-to-index|remove-from-index|get-embeddings|index-info, fo qdrant collections
void AddIndexCommands(CLI::App& app, CLI::App& brain);
// fo embeddings compute|text
void AddEmbeddingsCommands(CLI::App& app);
// fo zoo models list|download|info
void AddZooCommands(CLI::App& app);
// fo app launch
void AddAppCommands(CLI::App& app);

}  // namespace fo::cli

#endif  // FO_CLI_COMMANDS_H_
