#include "image/codecs.h"

#include <mutex>

#include "core/plugin.h"
#include "fo/error.h"

namespace fo::internal {

ImageCodecs& GetImageCodecs() {
  static ImageCodecs* codecs = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    using Entry = ImageCodecs* (*)();
    auto entry = reinterpret_cast<Entry>(
        LoadPluginEntry(kImageCodecsPluginFile, kImageCodecsPluginEntry, "decoding or encoding images", "FO_IMGCODECS_PLUGIN"));
    codecs = entry();
    if (codecs == nullptr) throw Internal(std::string(kImageCodecsPluginFile) + "'s entry point returned nothing");
  });
  return *codecs;
}

}  // namespace fo::internal
