// How a TorchScript file is run as an fo::Model: the model kwargs a user
// passes (FiftyOne's model_kwargs), parsed and checked without libtorch so
// that bad kwargs fail before any weights are read.
#ifndef FO_TORCHSCRIPT_TORCHSCRIPT_OPTIONS_H_
#define FO_TORCHSCRIPT_TORCHSCRIPT_OPTIONS_H_

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace fo::internal {

// CLIP's reference normalisation (openai/CLIP clip.py _transform).
inline constexpr std::array<float, 3> kClipMean = {0.48145466f, 0.4578275f, 0.40821073f};
inline constexpr std::array<float, 3> kClipStd = {0.26862954f, 0.26130258f, 0.27577711f};

enum class ResizeMode {
  kShorterSideCenterCrop,  // CLIP: shorter side to image_size (PIL bicubic), centre crop
  kStretch,                // PIL bicubic to image_size x image_size, aspect not kept
};

struct TorchScriptOptions {
  // Unset: the archive's `input_resolution` buffer if it has one, else 224.
  std::optional<int> image_size;
  ResizeMode resize = ResizeMode::kShorterSideCenterCrop;
  std::array<float, 3> mean = kClipMean;
  std::array<float, 3> std = kClipStd;
  std::string image_method = "encode_image";
  // Empty: "encode_text" when the archive has it (then prompts are supported).
  std::string text_method;
  // CLIP's BPE merges file. Empty: bpe_simple_vocab_16e6.txt.gz beside the
  // model file, else the copy in the zoo cache of clip-vit-base32-torch.
  std::string tokenizer_path;
  // Unset: the archive's `context_length` buffer if it has one, else 77.
  std::optional<int> context_length;
  // Torch intra-op threads. Unset: torch's default, one per physical core
  // (half the logical CPUs on x86), which measured fastest here.
  std::optional<int> num_threads;
  // L2-normalise every embedding (CLIP's logits do; raw is the reference's
  // encode_image/encode_text output and the default).
  bool normalize = false;
};

// The accepted keys are the fields above, with resize "shorter-bicubic-crop"
// or "stretch". Throws kInvalidArgument naming the key and what is expected.
TorchScriptOptions ParseTorchScriptOptions(const nlohmann::json& kwargs);

// The kwargs keys ParseTorchScriptOptions accepts, for messages and docs.
const char* TorchScriptOptionKeys();

}  // namespace fo::internal

#endif  // FO_TORCHSCRIPT_TORCHSCRIPT_OPTIONS_H_
