// fo zoo models list|download|info.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "output.h"
#include "fo/error.h"
#include "fo/zoo.h"

namespace fo::cli {

namespace {

namespace fs = std::filesystem;

// The download size, or nullopt when a file's size is not in the manifest.
std::optional<uint64_t> TotalSize(const ZooModelInfo& info) {
  uint64_t total = 0;
  for (const ZooFile& f : info.files) {
    if (f.size == 0) return std::nullopt;
    total += f.size;
  }
  return total;
}

std::string FormatSize(std::optional<uint64_t> bytes) {
  if (!bytes) return "unknown";
  if (*bytes == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(*bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string DownloadedText(const ZooModelInfo& info) {
  if (info.files.empty()) return "built-in";
  return IsZooModelDownloaded(info.name) ? "yes" : "no";
}

// The manifest entry plus what this machine has of it.
nlohmann::ordered_json ModelJson(const ZooModelInfo& info) {
  nlohmann::ordered_json j = ZooModelInfoToJson(info);
  j["builtin"] = info.files.empty();
  j["downloaded"] = IsZooModelDownloaded(info.name);
  std::optional<uint64_t> size = TotalSize(info);
  j["size"] = size ? nlohmann::ordered_json(*size) : nlohmann::ordered_json(nullptr);
  for (size_t i = 0; i < info.files.size(); ++i) {
    fs::path path = ZooModelPath(info.name, info.files[i].filename);
    std::error_code ec;
    j["files"][i]["path"] = path.string();
    j["files"][i]["present"] = fs::is_regular_file(path, ec);
  }
  return j;
}

ZooModelInfo RequireModel(const std::string& name) {
  if (std::optional<ZooModelInfo> info = FindZooModel(name)) return *info;
  std::string known;
  for (const ZooModelInfo& m : ListZooModels()) known += (known.empty() ? "" : ", ") + m.name;
  throw NotFound("unknown zoo model '" + name + "'; known models: " + known);
}

void AddList(CLI::App& models) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = models.add_subcommand("list", "List the models of the zoo and whether they are downloaded");
  cmd->add_flag("--json", *json, "Print a JSON array of models on stdout");
  cmd->callback([json] {
    std::vector<ZooModelInfo> models = ListZooModels();
    if (*json) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const ZooModelInfo& m : models) list.push_back(ModelJson(m));
      return PrintJson(list);
    }
    std::vector<std::vector<std::string>> rows = {{"NAME", "DIM", "PROMPTS", "DOWNLOADED", "SIZE", "DESCRIPTION"}};
    for (const ZooModelInfo& m : models) {
      rows.push_back({m.name, std::to_string(m.dimension), m.supports_prompts ? "yes" : "no", DownloadedText(m),
                      FormatSize(TotalSize(m)), m.description});
    }
    PrintAligned(rows);
  });
}

void AddDownload(CLI::App& models) {
  struct Args {
    std::string name;
    bool overwrite = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = models.add_subcommand("download", "Download a model's files into the zoo cache");
  cmd->add_option("NAME", args->name, "Model name (see `fo zoo models list`)")->required();
  cmd->add_flag("--overwrite", args->overwrite, "Download again even if the files are present");
  cmd->callback([args] {
    RequireModel(args->name);  // a clear error before any network access
    ZooDownloadOptions options;
    options.overwrite = args->overwrite;
    for (const fs::path& path : DownloadZooModel(args->name, options)) std::cout << path.string() << '\n';
  });
}

void PrintInfo(const nlohmann::ordered_json& j) {
  std::cout << "name:        " << j["name"].get<std::string>() << '\n'
            << "description: " << j["description"].get<std::string>() << '\n'
            << "dimension:   " << j["dimension"] << '\n'
            << "prompts:     " << (j["supports_prompts"].get<bool>() ? "yes" : "no") << '\n'
            << "license:     " << j["license"].get<std::string>() << '\n'
            << "downloaded:  " << (j["builtin"].get<bool>() ? "built-in" : j["downloaded"].get<bool>() ? "yes" : "no")
            << '\n'
            << "preprocessing: " << j["preprocessing"].dump() << '\n'
            << "files:" << (j["files"].empty() ? " none (built-in)" : "") << '\n';
  for (const nlohmann::ordered_json& f : j["files"]) {
    std::cout << "  " << f["filename"].get<std::string>() << '\n';
    PrintAligned({{"url:", f["url"].get<std::string>()},
                  {"sha256:", f["sha256"].get<std::string>()},
                  {"size:", f["size"].get<uint64_t>() == 0 ? "unknown (the sha256 is checked)"
                                                           : std::to_string(f["size"].get<uint64_t>()) + " bytes"},
                  {"path:", f["path"].get<std::string>() + (f["present"].get<bool>() ? "" : " (missing)")}},
                 "    ");
  }
}

void AddInfo(CLI::App& models) {
  struct Args {
    std::string name;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = models.add_subcommand("info", "Show a model's files, URLs, checksums, cache paths and preprocessing");
  cmd->add_option("NAME", args->name, "Model name")->required();
  cmd->add_flag("--json", args->json, "Print JSON on stdout");
  cmd->callback([args] {
    nlohmann::ordered_json info = ModelJson(RequireModel(args->name));
    if (args->json) return PrintJson(info);
    PrintInfo(info);
  });
}

}  // namespace

void AddZooCommands(CLI::App& app) {
  CLI::App* zoo = app.add_subcommand("zoo", "The model zoo: models that can be downloaded by name");
  zoo->require_subcommand(1);
  CLI::App* models = zoo->add_subcommand("models", "List, inspect and download zoo models");
  models->require_subcommand(1);
  AddList(*models);
  AddDownload(*models);
  AddInfo(*models);
}

}  // namespace fo::cli
