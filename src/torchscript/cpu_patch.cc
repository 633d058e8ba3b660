#include "torchscript/cpu_patch.h"

#include <functional>

namespace fo::internal {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

constexpr int64_t kHalf = static_cast<int64_t>(c10::ScalarType::Half);
constexpr int64_t kFloat = static_cast<int64_t>(c10::ScalarType::Float);

void ForEachNode(Block* block, const std::function<void(Node*)>& visit) {
  for (Node* node : block->nodes()) {
    visit(node);
    for (Block* sub : node->blocks()) ForEachNode(sub, visit);
  }
}

bool IsConstant(const Value* v) { return v->node()->kind() == c10::prim::Constant; }

bool IsCudaDeviceConstant(Node* node) {
  if (node->kind() != c10::prim::Constant || node->outputs().size() != 1) return false;
  if (node->output()->type()->kind() != c10::TypeKind::DeviceObjType) return false;
  if (!node->hasAttribute(c10::attr::value) || node->kindOf(c10::attr::value) != torch::jit::AttributeKind::s)
    return false;
  return node->s(c10::attr::value).rfind("cuda", 0) == 0;
}

bool IsHalfConstant(const Value* v) {
  if (!IsConstant(v) || v->type()->kind() != c10::TypeKind::IntType) return false;
  const Node* c = v->node();
  return c->hasAttribute(c10::attr::value) && c->kindOf(c10::attr::value) == torch::jit::AttributeKind::i &&
         c->i(c10::attr::value) == kHalf;
}

// Equal constants are pooled per graph, so the Half constant feeding a cast
// may also feed unrelated ops (a size of 5, say). clip.py rewrites the
// pooled node in place; we give the cast its own Float constant instead, so
// nothing but the cast changes.
int PatchHalfCasts(Graph& graph) {
  int patched = 0;
  ForEachNode(graph.block(), [&](Node* node) {
    if (node->kind() != c10::aten::to) return;
    // to(x, dtype, ...) or to(x, device, dtype, ...): the dtype is input 1 or 2.
    for (size_t i = 1; i <= 2 && i < node->inputs().size(); ++i) {
      if (!IsHalfConstant(node->input(i))) continue;
      torch::jit::WithInsertPoint guard(node);
      node->replaceInput(i, graph.insertConstant(kFloat));
      ++patched;
    }
  });
  return patched;
}

int PatchDeviceConstants(Graph& graph) {
  int patched = 0;
  ForEachNode(graph.block(), [&](Node* node) {
    if (!IsCudaDeviceConstant(node)) return;
    node->s_(c10::attr::value, "cpu");
    ++patched;
  });
  return patched;
}

// Module::to(kFloat) would also turn the int64 buffers (input_resolution...)
// into floats, so convert only the floating tensors, in place.
int ConvertFloatingTensors(torch::jit::Module& module) {
  int converted = 0;
  auto convert = [&](at::Tensor t) {
    if (!t.is_floating_point() || t.scalar_type() == torch::kFloat) return;
    t.set_data(t.to(torch::kFloat));
    ++converted;
  };
  for (const at::Tensor& p : module.parameters(/*recurse=*/true)) convert(p);
  for (const at::Tensor& b : module.buffers(/*recurse=*/true)) convert(b);
  return converted;
}

}  // namespace

CpuPatchReport PatchForCpu(torch::jit::Module& module) {
  CpuPatchReport report;
  for (const torch::jit::Module& sub : module.modules()) {
    for (const torch::jit::Method& method : sub.get_methods()) {
      std::shared_ptr<Graph> graph = method.graph();
      report.device_constants += PatchDeviceConstants(*graph);
      report.half_casts += PatchHalfCasts(*graph);
    }
  }
  report.tensors_to_float = ConvertFloatingTensors(module);
  return report;
}

}  // namespace fo::internal
