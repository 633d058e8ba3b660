#include "core/plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "fo/error.h"

namespace fo::internal {
namespace {

namespace fs = std::filesystem;

// The directory of the file this function was loaded from: libfo.so.
fs::path OwnDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&OwnDirectory), &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  fs::path self = fs::canonical(info.dli_fname, ec);
  return ec ? fs::path(info.dli_fname).parent_path() : self.parent_path();
}

}  // namespace

void* LoadPluginEntry(const std::string& file, const char* entry, const std::string& purpose, const char* env_override) {
  const char* env = std::getenv(env_override);
  const fs::path path = env != nullptr && *env != '\0' ? fs::path(env) : OwnDirectory() / file;
  auto fail = [&](const std::string& why) {
    return FailedPrecondition(purpose + " needs fo's plugin " + file + ", which could not be loaded from " + path.string() +
                              " (" + why + "); rebuild or reinstall fo, or set " + env_override + " to its path");
  };
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    throw fail(err ? err : "dlopen failed");
  }
  void* symbol = dlsym(handle, entry);
  if (symbol == nullptr) throw fail(std::string("it has no ") + entry + ": a plugin of another fo version");
  return symbol;
}

}  // namespace fo::internal
