// The CPU rewrite of CUDA/fp16 TorchScript archives (src/torchscript/
// cpu_patch.cc), on the release-style tiny CLIP archive of ../shared/clip.
// This test includes torch's headers, so it is kept apart from the others.
#include <gtest/gtest.h>
#include <torch/script.h>

#include "test_support.h"
#include "torchscript/cpu_patch.h"

namespace fo::internal {
namespace {

std::string Clip(const std::string& name) { return testing::SharedDir() + "/clip/" + name; }

c10::IValue EncodeBlank(torch::jit::Module& m) {
  return m.get_method("encode_image")({torch::zeros({1, 3, 224, 224})});
}

TEST(CpuPatch, ReleaseStyleArchiveOnlyRunsAfterThePatch) {
  torch::jit::Module unpatched = torch::jit::load(Clip("tiny_clip_vit_release_style.pt"), torch::kCPU);
  EXPECT_THROW(EncodeBlank(unpatched), c10::Error);

  torch::jit::Module m = torch::jit::load(Clip("tiny_clip_vit_release_style.pt"), torch::kCPU);
  CpuPatchReport report = PatchForCpu(m);
  EXPECT_GT(report.device_constants, 0);
  EXPECT_EQ(report.half_casts, 38);        // the README's count of Half aten::to uses
  EXPECT_EQ(report.tensors_to_float, 35);  // the fp16 weights; LayerNorms etc. were fp32
  at::Tensor out = EncodeBlank(m).toTensor();
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_EQ(out.size(1), 32);
  // Integer buffers keep their type (Module::to(kFloat) would convert them).
  EXPECT_EQ(m.attr("input_resolution").toTensor().scalar_type(), torch::kLong);
}

TEST(CpuPatch, Float32CpuArchiveIsLeftAlone) {
  torch::jit::Module m = torch::jit::load(Clip("tiny_clip_vit.pt"), torch::kCPU);
  CpuPatchReport report = PatchForCpu(m);
  EXPECT_EQ(report.device_constants, 0);
  EXPECT_EQ(report.half_casts, 0);
  EXPECT_EQ(report.tensors_to_float, 0);
}

}  // namespace
}  // namespace fo::internal
