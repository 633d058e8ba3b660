// Loads libfo_torch.so (see torch_runtime.h) through core/plugin.h.
#include "core/plugin.h"
#include "torchscript/torch_runtime.h"

namespace fo::internal {

TorchRuntime& GetTorchRuntime() {
  return LoadedPlugin<TorchRuntime>(kTorchPluginFile, kTorchPluginEntry, "a TorchScript model", "FO_TORCH_PLUGIN");
}

}  // namespace fo::internal
