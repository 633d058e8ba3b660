// Parts of fo that pull in heavy libraries (libtorch, OpenCV's image codecs
// with their hundred dependencies) are plugins: shared libraries beside
// libfo.so, opened with dlopen the first time they are needed, so that a
// process which never needs them never pays their start-up cost
// (docs/architecture.md, "Plugins").
#ifndef FO_CORE_PLUGIN_H_
#define FO_CORE_PLUGIN_H_

#include <mutex>
#include <string>

#include "fo/error.h"

namespace fo::internal {

// Opens the plugin `file` (looked for beside libfo.so, or at the path in
// the environment variable `env_override` if set) and returns its exported
// symbol `entry`. Never closed. Throws kFailedPrecondition with one line
// naming the file, `purpose` and the fix if it cannot be loaded.
void* LoadPluginEntry(const std::string& file, const char* entry, const std::string& purpose, const char* env_override);

// The object a plugin's entry point (`extern "C" Interface* entry()`)
// returns, loaded on the first call in the process (thread-safe; a failed
// load throws and the next call tries again). One per Interface.
template <typename Interface>
Interface& LoadedPlugin(const std::string& file, const char* entry, const std::string& purpose,
                        const char* env_override) {
  static Interface* object = nullptr;
  static std::once_flag once;
  std::call_once(once, [&] {
    auto make = reinterpret_cast<Interface* (*)()>(LoadPluginEntry(file, entry, purpose, env_override));
    Interface* made = make();
    if (made == nullptr) throw FailedPrecondition(file + "'s entry point " + entry + " returned nothing");
    object = made;
  });
  return *object;
}

}  // namespace fo::internal

#endif  // FO_CORE_PLUGIN_H_
