#include <map>
#include <mutex>

#include "fo/error.h"
#include "fo/similarity_backend.h"
#include "similarity/builtin_backends.h"

namespace fo {

namespace {

struct Entry {
  BackendCapabilities caps;
  BackendFactory factory;
};

std::mutex& RegistryMutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, Entry>& Registry() {
  static std::map<std::string, Entry> r;
  return r;
}

void EnsureBuiltins() {
  static std::once_flag once;
  std::call_once(once, internal::RegisterBuiltinBackends);
}

const Entry& Find(const std::string& name) {
  EnsureBuiltins();
  std::lock_guard lock(RegistryMutex());
  auto it = Registry().find(name);
  if (it != Registry().end()) return it->second;
  std::string names;
  for (const auto& [n, e] : Registry()) names += (names.empty() ? "" : ", ") + n;
  throw InvalidArgument("Unsupported backend '" + name + "'; available backends are [" + names + "]");
}

}  // namespace

namespace internal {
void RegisterBuiltinBackends() {
  RegisterSklearnBackend();
  RegisterQdrantBackend();
}
}  // namespace internal

void RegisterSimilarityBackend(const std::string& name, BackendCapabilities caps, BackendFactory factory) {
  std::lock_guard lock(RegistryMutex());
  Registry()[name] = Entry{std::move(caps), std::move(factory)};
}

std::unique_ptr<SimilarityBackend> CreateSimilarityBackend(const std::string& name, const BackendContext& context) {
  BackendFactory factory = Find(name).factory;
  return factory(context);
}

BackendCapabilities SimilarityBackendCapabilities(const std::string& name) { return Find(name).caps; }

std::vector<std::string> ListSimilarityBackends() {
  EnsureBuiltins();
  std::lock_guard lock(RegistryMutex());
  std::vector<std::string> names;
  for (const auto& [n, e] : Registry()) names.push_back(n);
  return names;
}

}  // namespace fo
