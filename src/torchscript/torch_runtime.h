// The seam between fo and libtorch. Everything that includes torch's headers
// is built into a plugin, libfo_torch.so, which libfo.so loads with dlopen
// the first time a TorchScript model is used: linking libtorch (hundreds of
// MB, thousands of relocations and static initialisers) into every fo
// process cost about 0.8 s at start-up, which every CLI command and every
// `import fo` paid whether or not it ran a model (docs/architecture.md).
//
// This header has no torch types, so both sides include it.
#ifndef FO_TORCHSCRIPT_TORCH_RUNTIME_H_
#define FO_TORCHSCRIPT_TORCH_RUNTIME_H_

#include <memory>
#include <string>

#include "fo/model.h"
#include "torchscript/torchscript_options.h"

namespace fo::internal {

// What the plugin provides. One instance per process, never destroyed.
class TorchRuntime {
 public:
  virtual ~TorchRuntime() = default;
  // See LoadTorchScriptModel in torch_models.h; `options` are already parsed.
  virtual std::unique_ptr<Model> LoadModel(const std::string& path, const TorchScriptOptions& options,
                                           const std::string& name) = 0;
  virtual int NumThreads() = 0;
  virtual int DefaultThreads() = 0;
  virtual std::string Description() = 0;
};

// The plugin's file name, looked for beside libfo.so unless $FO_TORCH_PLUGIN
// names the file.
inline constexpr const char* kTorchPluginFile = "libfo_torch.so";
// The plugin exports `extern "C" TorchRuntime* fo_torch_runtime_v1()`; the
// version changes whenever TorchRuntime does, so a stale plugin is refused
// by name rather than called through a mismatched vtable.
inline constexpr const char* kTorchPluginEntry = "fo_torch_runtime_v1";

// Loads the plugin on first call (core/plugin.h). Throws kFailedPrecondition
// with one line naming the file and the fix if it cannot be loaded.
TorchRuntime& GetTorchRuntime();

}  // namespace fo::internal

#endif  // FO_TORCHSCRIPT_TORCH_RUNTIME_H_
