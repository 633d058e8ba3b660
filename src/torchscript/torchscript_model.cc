// TorchScriptModel: any TorchScript archive with an image method (and
// optionally a text method) as an fo::Model, with CLIP's preprocessing and
// tokenizer by default. This file and cpu_patch.cc are the only ones that
// include torch's headers; they make the plugin libfo_torch.so, which fo
// loads on first use (torch_runtime.h).
#include <ATen/Parallel.h>
#include <torch/script.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/version.h>

#include <filesystem>
#include <mutex>
#include <optional>

#include "fo/error.h"
#include "fo/zoo.h"
#include "image/resize.h"
#include "models/clip_tokenizer.h"
#include "torchscript/cpu_patch.h"
#include "torchscript/torch_models.h"
#include "torchscript/torch_runtime.h"
#include "torchscript/torchscript_options.h"

namespace fo::internal {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// c10::Error messages run to dozens of lines (a TorchScript stack); the
// first line says what went wrong.
std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::optional<int64_t> IntBuffer(const torch::jit::Module& m, const char* name) {
  if (!m.hasattr(name)) return std::nullopt;
  c10::IValue v = m.attr(name);
  if (v.isTensor() && v.toTensor().numel() == 1) return v.toTensor().item<int64_t>();
  if (v.isInt()) return v.toInt();
  return std::nullopt;
}

// Torch's own default: on x86 half the logical CPUs, i.e. one thread per
// physical core, taking the other half to be SMT siblings. Measured on our
// 2-vCPU machines (docs/performance.md), 1 thread runs ViT-B/32 about 1.4x
// faster than 2, for PyTorch and for us alike.
int IntraOpDefaultThreads() { return std::max(1, at::intraop_default_num_threads()); }

// at::set_num_threads sets OpenMP's count for the calling thread only, so
// it is applied on the thread that runs each forward pass.
void UseThreads(int n) {
  if (at::get_num_threads() != n) at::set_num_threads(n);
}

class TorchScriptModel : public Model {
 public:
  TorchScriptModel(std::string name, std::string path, TorchScriptOptions options)
      : name_(std::move(name)), path_(std::move(path)), options_(std::move(options)) {
    threads_ = options_.num_threads.value_or(IntraOpDefaultThreads());
    UseThreads(threads_);
    LoadModule();
    size_ = options_.image_size.value_or(static_cast<int>(IntBuffer(module_, "input_resolution").value_or(224)));
    context_length_ = options_.context_length.value_or(
        static_cast<int>(IntBuffer(module_, "context_length").value_or(ClipTokenizer::kContextLength)));
    ResolveMethods();
    dimension_ = ProbeDimension();
  }

  const std::string& name() const override { return name_; }
  size_t dimension() const override { return dimension_; }
  bool supports_prompts() const override { return !text_method_.empty(); }

  Image PrepareImage(const Image& image) const override {
    if (IsPrepared(image)) return image;
    return options_.resize == ResizeMode::kStretch ? ResizeStretch(image, size_)
                                                   : ResizeShorterSideAndCenterCrop(image, size_);
  }

  Matrix EmbedImages(const std::vector<Image>& images) override {
    if (images.empty()) return Matrix(0, dimension_);
    const int64_t plane = static_cast<int64_t>(size_) * size_;
    at::Tensor batch = torch::empty({static_cast<int64_t>(images.size()), 3, size_, size_}, torch::kFloat);
    float* out = batch.data_ptr<float>();
    for (size_t i = 0; i < images.size(); ++i) {
      // Prepared images (the usual case, from ComputeEmbeddings) are not copied.
      const Image& image = images[i];
      NormalizeToChw(IsPrepared(image) ? image : PrepareImage(image), options_.mean, options_.std, out + i * 3 * plane);
    }
    return Run(image_method_, batch, images.size());
  }

  Matrix EmbedPrompts(const std::vector<std::string>& prompts) override {
    std::vector<std::vector<int64_t>> tokens = TokenizePrompts(prompts);
    if (prompts.empty()) return Matrix(0, dimension_);
    at::Tensor ids = torch::empty({static_cast<int64_t>(prompts.size()), context_length_}, torch::kLong);
    int64_t* out = ids.data_ptr<int64_t>();
    for (size_t i = 0; i < tokens.size(); ++i) std::copy(tokens[i].begin(), tokens[i].end(), out + i * context_length_);
    return Run(text_method_, ids, prompts.size());
  }

  std::vector<std::vector<int64_t>> TokenizePrompts(const std::vector<std::string>& prompts) override {
    if (text_method_.empty())
      throw Unimplemented("model '" + name_ + "' does not support prompts: " + path_ + " has no method " +
                          (options_.text_method.empty() ? std::string("encode_text") : options_.text_method));
    const ClipTokenizer& tokenizer = Tokenizer();
    std::vector<std::vector<int64_t>> out;
    for (const std::string& prompt : prompts) {
      std::vector<int32_t> ids = tokenizer.Tokenize(prompt, static_cast<size_t>(context_length_));
      out.emplace_back(ids.begin(), ids.end());
    }
    return out;
  }

 private:
  // Already the model's input: resizing an opaque image_size square is the
  // identity in either resize mode.
  bool IsPrepared(const Image& image) const {
    return image.width == size_ && image.height == size_ && image.alpha.empty();
  }

  void LoadModule() {
    std::error_code ec;
    if (!fs::is_regular_file(path_, ec))
      throw InvalidArgument("cannot load TorchScript model " + path_ + ": no such file");
    try {
      // kCPU: an archive saved from CUDA would otherwise try to allocate
      // its weights on a GPU this build does not have.
      module_ = torch::jit::load(path_, torch::kCPU);
      PatchForCpu(module_);
      module_.eval();
    } catch (const c10::Error& e) {
      throw InvalidArgument("cannot load TorchScript model " + path_ + ": " + FirstLine(e.what_without_backtrace()));
    }
  }

  void ResolveMethods() {
    if (!module_.find_method(options_.image_method))
      throw InvalidArgument("TorchScript model " + path_ + " has no method '" + options_.image_method +
                            "' (set model kwarg image_method)");
    image_method_ = options_.image_method;
    if (!options_.text_method.empty()) {
      if (!module_.find_method(options_.text_method))
        throw InvalidArgument("TorchScript model " + path_ + " has no method '" + options_.text_method + "'");
      text_method_ = options_.text_method;
    } else if (module_.find_method("encode_text")) {
      text_method_ = "encode_text";
    }
  }

  // The embedding size is whatever the image method returns; one forward
  // pass on a blank image also proves, at load time, that the archive runs.
  // It runs unoptimised so that TorchScript's profiling executor does not
  // specialise the graph for this batch of one before the real batches come.
  size_t ProbeDimension() {
    torch::jit::GraphOptimizerEnabledGuard unoptimised(false);
    at::Tensor blank = torch::zeros({1, 3, size_, size_}, torch::kFloat);
    return Run(image_method_, blank, 1).cols();
  }

  Matrix Run(const std::string& method, const at::Tensor& input, size_t rows) {
    UseThreads(threads_);
    at::Tensor result;
    try {
      c10::InferenceMode inference;
      c10::IValue out = module_.get_method(method)({input});
      if (out.isTuple()) out = out.toTupleRef().elements().at(0);
      if (!out.isTensor()) throw InvalidArgument("method '" + method + "' of " + path_ + " did not return a tensor");
      result = out.toTensor().to(torch::kFloat).contiguous();
    } catch (const c10::Error& e) {
      throw InvalidArgument("model '" + name_ + "' failed in " + method + ": " + FirstLine(e.what_without_backtrace()));
    }
    if (result.dim() != 2 || result.size(0) != static_cast<int64_t>(rows))
      throw InvalidArgument("method '" + method + "' of " + path_ + " returned shape " +
                            c10::str(result.sizes()) + ", expected [" + std::to_string(rows) + ", D]");
    if (options_.normalize) result = result / result.norm(2, 1, true).clamp_min(1e-12);
    const size_t cols = static_cast<size_t>(result.size(1));
    const float* p = result.data_ptr<float>();
    return Matrix(rows, cols, std::vector<float>(p, p + rows * cols));
  }

  std::string TokenizerPath() const {
    if (!options_.tokenizer_path.empty()) return options_.tokenizer_path;
    std::error_code ec;
    fs::path beside = fs::path(path_).parent_path() / kClipVocabFile;
    if (fs::is_regular_file(beside, ec)) return beside.string();
    fs::path cached = ZooModelPath(kClipVitBase32, kClipVocabFile);
    if (fs::is_regular_file(cached, ec)) return cached.string();
    throw FailedPrecondition("model '" + name_ + "' has no tokenizer vocabulary: pass model kwarg tokenizer_path=" +
                             "PATH to CLIP's " + kClipVocabFile + ", put it beside " + path_ +
                             ", or run `fo zoo models download " + kClipVitBase32 + "`");
  }

  const ClipTokenizer& Tokenizer() {
    std::call_once(tokenizer_once_, [this] { tokenizer_.emplace(ClipTokenizer::Load(TokenizerPath())); });
    return *tokenizer_;
  }

  std::string name_;
  std::string path_;
  TorchScriptOptions options_;
  torch::jit::Module module_;
  std::string image_method_;
  std::string text_method_;
  int threads_ = 1;
  int size_ = 224;
  int context_length_ = 77;
  size_t dimension_ = 0;
  std::once_flag tokenizer_once_;
  std::optional<ClipTokenizer> tokenizer_;
};

// The plugin's side of the seam: what fo calls through TorchRuntime.
class LibTorchRuntime : public TorchRuntime {
 public:
  std::unique_ptr<Model> LoadModel(const std::string& path, const TorchScriptOptions& options,
                                   const std::string& name) override {
    return std::make_unique<TorchScriptModel>(name, path, options);
  }
  int NumThreads() override { return at::get_num_threads(); }
  int DefaultThreads() override { return IntraOpDefaultThreads(); }
  std::string Description() override {
    return "libtorch " TORCH_VERSION ", " + std::to_string(at::get_num_threads()) + " intra-op threads on this thread (" +
           std::to_string(IntraOpDefaultThreads()) + " by default), " + std::to_string(at::get_num_interop_threads()) +
           " inter-op threads";
  }
};

}  // namespace
}  // namespace fo::internal

// The plugin's one exported entry point (torch_runtime.h, kTorchPluginEntry).
extern "C" __attribute__((visibility("default"))) fo::internal::TorchRuntime* fo_torch_runtime_v1() {
  static auto* runtime = new fo::internal::LibTorchRuntime();  // never destroyed: torch outlives static destructors
  return runtime;
}
