// The model registry: name -> (info, factory), filled with the built-in
// models on first use and guarded by a mutex, so it may be used from any
// thread.
#include <map>
#include <mutex>
#include <utility>

#include "fo/error.h"
#include "fo/model.h"
#include "models/builtin_models.h"
#include "torchscript/torch_models.h"

namespace fo {
namespace internal {

void RegisterBuiltinModels() {
  RegisterColorGradientDescriptor();
  RegisterTorchModels();
}

}  // namespace internal

namespace {

struct Entry {
  ModelInfo info;
  ModelFactory factory;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Entry> entries;  // sorted, so listings are stable
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // never destroyed: safe at exit
  return *registry;
}

// Set while the built-ins register, because they call RegisterModel, which
// would otherwise wait on the once_flag its own thread holds.
thread_local bool registering_builtins = false;

void EnsureBuiltins() {
  static std::once_flag once;
  if (registering_builtins) return;
  std::call_once(once, [] {
    struct Flag {
      Flag() { registering_builtins = true; }
      ~Flag() { registering_builtins = false; }
    } flag;
    internal::RegisterBuiltinModels();
  });
}

}  // namespace

Matrix Model::EmbedPrompts(const std::vector<std::string>& prompts) {
  throw Unimplemented("model '" + name() + "' does not support prompts");
}

std::vector<std::vector<int64_t>> Model::TokenizePrompts(const std::vector<std::string>& prompts) {
  throw Unimplemented("model '" + name() + "' does not support prompts");
}

void RegisterModel(const ModelInfo& info, ModelFactory factory) {
  if (info.name.empty()) throw InvalidArgument("a model needs a name");
  if (!factory) throw InvalidArgument("model '" + info.name + "' has no factory");
  // Built-ins go in first, so a user's model of the same name replaces them
  // rather than being overwritten by them later.
  EnsureBuiltins();
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.entries[info.name] = Entry{info, std::move(factory)};
}

std::unique_ptr<Model> LoadModel(const std::string& name, const nlohmann::json& kwargs) {
  EnsureBuiltins();
  ModelFactory factory;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.entries.find(name);
    if (it == r.entries.end() && internal::IsTorchScriptPath(name)) {
      // Bring your own model: a TorchScript file given by path.
      factory = [name](const nlohmann::json& kwargs) { return internal::LoadTorchScriptModel(name, kwargs, name); };
    } else if (it == r.entries.end()) {
      std::string names;
      for (const auto& [known, entry] : r.entries) names += (names.empty() ? "" : ", ") + known;
      throw NotFound("unknown model '" + name + "'; available models are [" + names +
                     "], or give the path of a TorchScript file");
    } else {
      factory = it->second.factory;
    }
  }
  // Outside the lock: a factory may be slow (loading weights) or may itself
  // consult the registry.
  std::unique_ptr<Model> model = factory(kwargs);
  if (!model) throw Internal("the factory of model '" + name + "' returned no model");
  return model;
}

std::vector<ModelInfo> ListModels() {
  EnsureBuiltins();
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<ModelInfo> infos;
  for (const auto& [name, entry] : r.entries) infos.push_back(entry.info);
  return infos;
}

bool HasModel(const std::string& name) {
  EnsureBuiltins();
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.entries.count(name) > 0;
}

}  // namespace fo
