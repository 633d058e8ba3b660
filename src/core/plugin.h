// Parts of fo that pull in heavy libraries (libtorch, OpenCV's image codecs
// with their hundred dependencies) are plugins: shared libraries beside
// libfo.so, opened with dlopen the first time they are needed, so that a
// process which never needs them never pays their start-up cost
// (docs/architecture.md, "Plugins").
#ifndef FO_CORE_PLUGIN_H_
#define FO_CORE_PLUGIN_H_

#include <string>

namespace fo::internal {

// Opens the plugin `file` (looked for beside libfo.so, or at the path in
// the environment variable `env_override` if set) and returns its exported
// symbol `entry`. Never closed. Throws kFailedPrecondition with one line
// naming the file, `purpose` and the fix if it cannot be loaded.
void* LoadPluginEntry(const std::string& file, const char* entry, const std::string& purpose, const char* env_override);

}  // namespace fo::internal

#endif  // FO_CORE_PLUGIN_H_
