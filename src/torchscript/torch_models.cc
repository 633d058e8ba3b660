// The TorchScript models as fo sees them: the zoo's CLIP entry, models given
// by path and the thread settings, all without torch's headers. Each call
// that needs torch goes to the plugin (torch_runtime.h), loaded on first use.
#include "torchscript/torch_models.h"

#include <filesystem>
#include <optional>

#include "fo/error.h"
#include "fo/zoo.h"
#include "torchscript/torch_runtime.h"
#include "torchscript/torchscript_options.h"

namespace fo::internal {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The zoo entry's files and preprocessing, overridden by the user's kwargs.
std::unique_ptr<Model> LoadZooClip(const json& kwargs) {
  std::optional<ZooModelInfo> info = FindZooModel(kClipVitBase32);
  if (!info) throw Internal(std::string("the zoo has no entry for ") + kClipVitBase32);
  std::vector<fs::path> files = EnsureZooModel(kClipVitBase32);
  json merged = info->preprocessing.is_object() ? info->preprocessing : json::object();
  fs::path weights;
  for (const fs::path& f : files) {
    if (f.filename() == kClipVocabFile) merged["tokenizer_path"] = f.string();
    else weights = f;
  }
  if (kwargs.is_object()) merged.update(kwargs);
  return LoadTorchScriptModel(weights.string(), merged, kClipVitBase32);
}

}  // namespace

bool IsTorchScriptPath(const std::string& name) {
  std::error_code ec;
  if (fs::is_regular_file(name, ec)) return true;
  std::string ext = fs::path(name).extension().string();
  return ext == ".pt" || ext == ".pth" || ext == ".torchscript";
}

std::unique_ptr<Model> LoadTorchScriptModel(const std::string& path, const json& kwargs, const std::string& name) {
  // Bad kwargs and a missing file fail here, before libtorch is loaded.
  TorchScriptOptions options = ParseTorchScriptOptions(kwargs);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InvalidArgument("cannot load TorchScript model " + path + ": no such file");
  return GetTorchRuntime().LoadModel(path, options, name);
}

void RegisterTorchModels() {
  ModelInfo info;
  info.name = kClipVitBase32;
  info.description = "OpenAI CLIP ViT-B/32 (TorchScript on libtorch, CPU); image and text embeddings";
  info.dimension = 512;
  info.supports_prompts = true;
  RegisterModel(info, LoadZooClip);
}

int TorchNumThreads() { return GetTorchRuntime().NumThreads(); }

int TorchDefaultThreads() { return GetTorchRuntime().DefaultThreads(); }

std::string TorchDescription() { return GetTorchRuntime().Description(); }

}  // namespace fo::internal
