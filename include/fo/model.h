// fo::Model: an embedding model, i.e. a function from images (and, for some
// models, text prompts) to fixed-size float vectors. Models are created by
// name through the registry; a model is one source file that implements this
// interface and registers a factory (see docs/architecture.md).
// A Model is not required to be thread-safe (PrepareImage excepted): use one
// per thread.
#ifndef FO_MODEL_H_
#define FO_MODEL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fo/image.h"
#include "fo/matrix.h"

namespace fo {

class Model {
 public:
  virtual ~Model() = default;
  virtual const std::string& name() const = 0;
  virtual size_t dimension() const = 0;
  virtual bool supports_prompts() const { return false; }
  // The model's own image preprocessing (resize, crop...), split out so that
  // compute_embeddings can run it on worker threads while the previous batch
  // is in the model. Must be thread-safe and idempotent: EmbedImages accepts
  // prepared and unprepared images alike. Default: the image unchanged.
  virtual Image PrepareImage(const Image& image) const { return image; }
  // One row per image, dimension() columns.
  virtual Matrix EmbedImages(const std::vector<Image>& images) = 0;
  // One row per prompt. Default: throws kUnimplemented.
  virtual Matrix EmbedPrompts(const std::vector<std::string>& prompts);
  // The token ids EmbedPrompts feeds the model for each prompt (CLIP: start
  // and end tokens, zero padding to the context length). Default: throws
  // kUnimplemented.
  virtual std::vector<std::vector<int64_t>> TokenizePrompts(const std::vector<std::string>& prompts);
};

struct ModelInfo {
  std::string name;
  std::string description;
  size_t dimension = 0;
  bool supports_prompts = false;
};

using ModelFactory = std::function<std::unique_ptr<Model>(const nlohmann::json& kwargs)>;

// Registers a model under `name` (replacing any earlier one).
void RegisterModel(const ModelInfo& info, ModelFactory factory);
// Throws kNotFound listing the known names for an unknown one,
// kInvalidArgument for bad kwargs.
std::unique_ptr<Model> LoadModel(const std::string& name, const nlohmann::json& kwargs = nlohmann::json::object());
std::vector<ModelInfo> ListModels();
bool HasModel(const std::string& name);

// The built-in weightless descriptor's registry name.
inline constexpr const char* kColorGradientDescriptor = "color-gradient-descriptor";

}  // namespace fo

#endif  // FO_MODEL_H_
