// Makes a TorchScript archive traced on CUDA in half precision (as OpenAI
// released CLIP) run on the CPU: the rewrite openai/CLIP's clip.load does
// (patch_device, patch_float, .float()), in C++. Included only by the files
// that run torch (heavy headers).
#ifndef FO_TORCHSCRIPT_CPU_PATCH_H_
#define FO_TORCHSCRIPT_CPU_PATCH_H_

#include <torch/script.h>

namespace fo::internal {

struct CpuPatchReport {
  int device_constants = 0;  // "cuda..." device constants rewritten to "cpu"
  int half_casts = 0;        // aten::to casts to Half turned into casts to Float
  int tensors_to_float = 0;  // floating parameters and buffers converted to float32
};

// Must run after torch::jit::load(path, torch::kCPU) and before any method
// is first called (a graph is compiled on its first run). A no-op for an
// archive already made for the CPU in float32.
CpuPatchReport PatchForCpu(torch::jit::Module& module);

}  // namespace fo::internal

#endif  // FO_TORCHSCRIPT_CPU_PATCH_H_
