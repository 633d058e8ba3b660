// Loads libfo_torch.so (see torch_runtime.h) through core/plugin.h.
#include <atomic>
#include <mutex>

#include "core/plugin.h"
#include "fo/error.h"
#include "torchscript/torch_runtime.h"

namespace fo::internal {
namespace {

std::atomic<TorchRuntime*> loaded_runtime{nullptr};

TorchRuntime* Load() {
  auto entry = reinterpret_cast<TorchPluginEntry>(
      LoadPluginEntry(kTorchPluginFile, kTorchPluginEntry, "a TorchScript model", "FO_TORCH_PLUGIN"));
  TorchRuntime* runtime = entry();
  if (runtime == nullptr) throw Internal(std::string(kTorchPluginFile) + "'s entry point returned nothing");
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
