// TorchScript models on libtorch, seen from the rest of fo without torch's
// headers (which cost seconds per translation unit to compile). The calls
// that run torch load the plugin libfo_torch.so on first use
// (torch_runtime.h); registering and naming models does not.
#ifndef FO_TORCHSCRIPT_TORCH_MODELS_H_
#define FO_TORCHSCRIPT_TORCH_MODELS_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "fo/model.h"

namespace fo::internal {

// Registry name of OpenAI's CLIP ViT-B/32, as in FiftyOne's zoo.
inline constexpr const char* kClipVitBase32 = "clip-vit-base32-torch";
// CLIP's BPE merges file, as the zoo ships it.
inline constexpr const char* kClipVocabFile = "bpe_simple_vocab_16e6.txt.gz";

// Registers the zoo's TorchScript models (clip-vit-base32-torch) in the
// model registry; their files are downloaded on first load.
void RegisterTorchModels();

// True if `name` should be read as a TorchScript file: an existing regular
// file, or a name ending in .pt, .pth or .torchscript (so a missing file
// gets "no such file" rather than "unknown model").
bool IsTorchScriptPath(const std::string& name);

// Loads any TorchScript archive with an image method (encode_image by
// default) and, optionally, a text method. `name` is what the model reports
// (the path, or the zoo name). Throws kInvalidArgument for a missing or
// unreadable file, a missing method or bad kwargs (see torchscript_options.h);
// kFailedPrecondition if the torch plugin cannot be loaded.
std::unique_ptr<Model> LoadTorchScriptModel(const std::string& path, const nlohmann::json& kwargs,
                                            const std::string& name);

// The torch library's intra-op thread count, and a description of the torch
// build (version, CPU capability) for benchmarks and `fo` diagnostics.
int TorchNumThreads();
// The intra-op thread count a model uses without a num_threads kwarg.
int TorchDefaultThreads();
std::string TorchDescription();

}  // namespace fo::internal

#endif  // FO_TORCHSCRIPT_TORCH_MODELS_H_
