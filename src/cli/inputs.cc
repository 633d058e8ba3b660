#include "inputs.h"

#include <fstream>
#include <sstream>

#include "fo/brain_config.h"
#include "fo/error.h"
#include "fo/npy.h"

namespace fo::cli {

namespace {

std::string Trim(const std::string& s) {
  const char* kBlanks = " \t\r\n";
  size_t begin = s.find_first_not_of(kBlanks);
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(kBlanks) - begin + 1);
}

}  // namespace

std::vector<std::string> ReadIdsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgument("cannot read ids file '" + path + "'");
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) ids.push_back(Trim(line));
  while (!ids.empty() && ids.back().empty()) ids.pop_back();
  return ids;
}

IdentifiedEmbeddings ReadEmbeddingsWithIds(const std::string& npy_path, const std::string& ids_path) {
  IdentifiedEmbeddings result{ReadNpy(npy_path), ReadIdsFile(ids_path)};
  if (result.ids.size() != result.embeddings.rows()) {
    throw InvalidArgument("ids file '" + ids_path + "' has " + std::to_string(result.ids.size()) +
                          " ids but embeddings file '" + npy_path + "' has " +
                          std::to_string(result.embeddings.rows()) + " rows");
  }
  return result;
}

std::vector<std::string> SplitCommaList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = Trim(item);
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

void ApplyAssignment(const std::string& assignment, nlohmann::json* target) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InvalidArgument("expected PARAM=VALUE, got '" + assignment + "'");
  }
  std::string name = assignment.substr(0, eq);
  nlohmann::json* node = target;
  size_t begin = 0;
  while (true) {
    size_t dot = name.find('.', begin);
    std::string part = name.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
    if (part.empty()) throw InvalidArgument("invalid parameter name '" + name + "' in '" + assignment + "'");
    if (!node->is_object()) {
      throw InvalidArgument("parameter '" + name + "' conflicts with a non-object value set earlier");
    }
    node = &(*node)[part];
    if (dot == std::string::npos) break;
    begin = dot + 1;
    if (node->is_null()) *node = nlohmann::json::object();
  }
  *node = ParseEnvValue(assignment.substr(eq + 1));
}

CLI::Option* AddAssignmentOption(CLI::App& command, const std::string& flag, nlohmann::json* target,
                                 const std::string& help) {
  return command
      .add_option_function<std::vector<std::string>>(
          flag,
          [target](const std::vector<std::string>& assignments) {
            for (const std::string& a : assignments) ApplyAssignment(a, target);
          },
          help)
      ->type_name("PARAM=VALUE")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

CLI::Option* AddParamOption(CLI::App& command, const std::string& flag, const std::string& param,
                            nlohmann::json* target, const std::string& help) {
  return command.add_option_function<std::string>(
      flag, [target, param](const std::string& value) { (*target)[param] = value; }, help);
}

void AddCredentialOptions(CLI::App& command, std::map<std::string, std::string>* credentials) {
  command.add_option_function<std::string>(
      "--url", [credentials](const std::string& v) { (*credentials)["url"] = v; },
      "Server URL of a remote backend (default: env / brain config)");
  command.add_option_function<std::string>(
      "--api-key", [credentials](const std::string& v) { (*credentials)["api_key"] = v; },
      "API key of a remote backend (default: env / brain config)");
}

}  // namespace fo::cli
