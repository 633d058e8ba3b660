// Turning command-line inputs into library arguments: embeddings files, id
// lists and PARAM=VALUE assignments. Bad input throws fo::Error
// (kInvalidArgument) naming the file or the argument.
#ifndef FO_CLI_INPUTS_H_
#define FO_CLI_INPUTS_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "fo/matrix.h"

namespace fo::cli {

// One id per line, in row order. Surrounding blanks and trailing empty lines
// are ignored, since editors and `echo` add them.
std::vector<std::string> ReadIdsFile(const std::string& path);

// The .npy matrix and its row ids; throws if the counts differ.
struct IdentifiedEmbeddings {
  Matrix embeddings;
  std::vector<std::string> ids;
};
IdentifiedEmbeddings ReadEmbeddingsWithIds(const std::string& npy_path, const std::string& ids_path);

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitCommaList(const std::string& text);

// Applies "name=value" to `target`: the value is parsed as FiftyOne parses
// environment values (fo::ParseEnvValue) and a dotted name makes nested
// objects ("hnsw_config.m=32" -> {"hnsw_config": {"m": 32}}).
void ApplyAssignment(const std::string& assignment, nlohmann::json* target);

// Registers a repeatable `flag` taking PARAM=VALUE, applied to `target` as
// it is parsed. `target` must outlive parsing.
CLI::Option* AddAssignmentOption(CLI::App& command, const std::string& flag, nlohmann::json* target,
                                 const std::string& help);

// Registers `flag` taking one string stored verbatim as target[param] (a
// metric, a URL, a collection name: values that must not be reinterpreted
// as numbers).
CLI::Option* AddParamOption(CLI::App& command, const std::string& flag, const std::string& param,
                            nlohmann::json* target, const std::string& help);

// Registers --url and --api-key, stored as credentials["url"] and
// credentials["api_key"] for loading a run of a remote backend.
void AddCredentialOptions(CLI::App& command, std::map<std::string, std::string>* credentials);

}  // namespace fo::cli

#endif  // FO_CLI_INPUTS_H_
