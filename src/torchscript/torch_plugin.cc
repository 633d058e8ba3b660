// Finds and loads libfo_torch.so (see torch_runtime.h).
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <atomic>
#include <mutex>

#include "fo/error.h"
#include "torchscript/torch_runtime.h"

namespace fo::internal {
namespace {

namespace fs = std::filesystem;

std::atomic<TorchRuntime*> loaded_runtime{nullptr};

// The directory of the file this function was loaded from: libfo.so, or the
// executable when fo is linked statically.
fs::path OwnDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&OwnDirectory), &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  fs::path self = fs::canonical(info.dli_fname, ec);
  return ec ? fs::path(info.dli_fname).parent_path() : self.parent_path();
}

fs::path PluginPath() {
  if (const char* env = std::getenv("FO_TORCH_PLUGIN"); env != nullptr && *env != '\0') return env;
  return OwnDirectory() / kTorchPluginFile;
}

[[noreturn]] void CannotLoad(const fs::path& path, const std::string& why) {
  throw FailedPrecondition("TorchScript models need fo's torch plugin, which could not be loaded from " + path.string() +
                           " (" + why + "); rebuild or reinstall fo, or set FO_TORCH_PLUGIN to the path of " +
                           kTorchPluginFile);
}

TorchRuntime* Load() {
  const fs::path path = PluginPath();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    CannotLoad(path, err ? err : "dlopen failed");
  }
  // Never dlclose'd: models and torch's own threads outlive any caller.
  auto entry = reinterpret_cast<TorchPluginEntry>(dlsym(handle, kTorchPluginEntry));
  if (entry == nullptr) CannotLoad(path, std::string("it has no ") + kTorchPluginEntry + ": a plugin of another fo version");
  TorchRuntime* runtime = entry();
  if (runtime == nullptr) CannotLoad(path, "its entry point returned nothing");
  return runtime;
}

}  // namespace

TorchRuntime& GetTorchRuntime() {
  static std::once_flag once;
  std::call_once(once, [] { loaded_runtime = Load(); });  // a throw leaves the flag unset: the next call retries
  return *loaded_runtime.load();
}

bool TorchRuntimeLoaded() { return loaded_runtime != nullptr; }

}  // namespace fo::internal
