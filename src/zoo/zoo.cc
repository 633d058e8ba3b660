// The zoo's registry (compiled-in manifest, manifest file, registered
// models), its cache paths, and model-level downloads.
#include <cstdlib>
#include <map>
#include <mutex>
#include <system_error>

#include "fo/error.h"
#include "fo/zoo.h"
#include "zoo/download.h"
#include "zoo/manifest.h"

namespace fo {
namespace {

namespace fs = std::filesystem;

constexpr const char* kZooDirEnv = "FIFTYONE_CPP_MODEL_ZOO_DIR";
constexpr const char* kManifestEnv = "FIFTYONE_CPP_MODEL_ZOO_MANIFEST";

struct Registered {
  std::mutex mu;
  std::map<std::string, ZooModelInfo> models;
};

Registered& RegisteredModels() {
  static Registered* registered = new Registered;  // never destroyed: usable from static destructors
  return *registered;
}

const char* Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// Later sources replace earlier ones. The manifest file is read on every
// call: it is small, and a test or a user may point the variable elsewhere
// while the process runs.
std::map<std::string, ZooModelInfo> AllModels() {
  std::map<std::string, ZooModelInfo> all;
  for (ZooModelInfo& m : internal::BuiltinZooModels()) all[m.name] = std::move(m);
  if (const char* manifest = Env(kManifestEnv)) {
    for (ZooModelInfo& m : internal::LoadZooManifestFile(manifest)) all[m.name] = std::move(m);
  }
  Registered& registered = RegisteredModels();
  std::lock_guard lock(registered.mu);
  for (const auto& [name, m] : registered.models) all[name] = m;
  return all;
}

ZooModelInfo RequireModel(const std::string& name) {
  std::map<std::string, ZooModelInfo> all = AllModels();
  auto it = all.find(name);
  if (it != all.end()) return it->second;
  std::string known;
  for (const auto& [n, m] : all) known += (known.empty() ? "" : ", ") + n;
  throw NotFound("unknown zoo model '" + name + "'; known models: " + known);
}

bool IsPresent(const fs::path& path, uint64_t size) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  return size == 0 || fs::file_size(path, ec) == size;
}

// The one line a user needs when a download fails: what, from where, why,
// and how to put the file in place by hand.
std::string DownloadFailureMessage(const ZooModelInfo& info, const ZooFile& file, const fs::path& path,
                                   const std::string& reason, bool suggest_cli) {
  std::string message = "cannot download model '" + info.name + "' file " + file.filename + " from " + file.url +
                        " (" + reason + "): download it yourself to " + path.string();
  if (!file.sha256.empty()) message += " (sha256 " + file.sha256 + ")";
  if (suggest_cli) message += ", or run `fo zoo models download " + info.name + "` when online";
  return message;
}

std::vector<fs::path> Download(const std::string& name, const ZooDownloadOptions& options, bool suggest_cli) {
  const ZooModelInfo info = RequireModel(name);
  std::vector<fs::path> paths;
  for (const ZooFile& file : info.files) {
    fs::path path = ZooModelPath(info.name, file.filename);
    if (options.overwrite || !IsPresent(path, file.size)) {
      if (auto failure = internal::TryDownloadFile(file.url, path, file.sha256, file.size, options)) {
        // The model is known; that its file is not found at the URL (or the
        // server is out of reach) is the same problem to a caller.
        const ErrorCode code =
            failure->code == ErrorCode::kCorruption ? ErrorCode::kCorruption : ErrorCode::kUnavailable;
        throw Error(code, DownloadFailureMessage(info, file, path, failure->reason, suggest_cli));
      }
    }
    paths.push_back(std::move(path));
  }
  return paths;
}

}  // namespace

std::vector<ZooModelInfo> ListZooModels() {
  std::vector<ZooModelInfo> models;
  for (auto& [name, m] : AllModels()) models.push_back(std::move(m));
  return models;
}

std::optional<ZooModelInfo> FindZooModel(const std::string& name) {
  std::map<std::string, ZooModelInfo> all = AllModels();
  auto it = all.find(name);
  if (it == all.end()) return std::nullopt;
  return it->second;
}

void RegisterZooModel(const ZooModelInfo& info) {
  internal::ValidateZooModelInfo(info);
  Registered& registered = RegisteredModels();
  std::lock_guard lock(registered.mu);
  registered.models[info.name] = info;
}

fs::path ModelZooDir() {
  if (const char* dir = Env(kZooDirEnv)) return dir;
  if (const char* home = Env("HOME")) return fs::path(home) / ".fiftyone" / "cpp" / "models";
  throw FailedPrecondition(std::string("cannot locate the model zoo: set $") + kZooDirEnv + " or $HOME");
}

fs::path ZooModelPath(const std::string& name, const std::string& filename) {
  return ModelZooDir() / name / filename;
}

bool IsZooModelDownloaded(const std::string& name) {
  const ZooModelInfo info = RequireModel(name);
  for (const ZooFile& file : info.files) {
    if (!IsPresent(ZooModelPath(info.name, file.filename), file.size)) return false;
  }
  return true;
}

std::vector<fs::path> DownloadZooModel(const std::string& name, const ZooDownloadOptions& options) {
  return Download(name, options, /*suggest_cli=*/false);
}

std::vector<fs::path> EnsureZooModel(const std::string& name) {
  return Download(name, ZooDownloadOptions{}, /*suggest_cli=*/true);
}

}  // namespace fo
