// The models compiled into fo. fo is a static library, so a model's .cc file
// cannot register itself from a static initialiser (the linker drops object
// files nothing refers to). Instead each built-in model exposes a
// registration function, and the registry calls them all on first use.
#ifndef FO_MODELS_BUILTIN_MODELS_H_
#define FO_MODELS_BUILTIN_MODELS_H_

namespace fo::internal {

// Calls every Register*() below; called once, by the registry, on first use.
// To add a model: declare its function here and call it from
// RegisterBuiltinModels() in model_registry.cc.
void RegisterBuiltinModels();

// color_gradient_descriptor.cc: "color-gradient-descriptor".
void RegisterColorGradientDescriptor();

// torchscript/torchscript_model.cc: "clip-vit-base32-torch" (declared in
// torchscript/torch_models.h, which keeps torch's headers out of this one).

}  // namespace fo::internal

#endif  // FO_MODELS_BUILTIN_MODELS_H_
