#include "image/codecs.h"

#include "core/plugin.h"

namespace fo::internal {

ImageCodecs& GetImageCodecs() {
  return LoadedPlugin<ImageCodecs>(kImageCodecsPluginFile, kImageCodecsPluginEntry, "decoding or encoding images",
                                   "FO_IMGCODECS_PLUGIN");
}

}  // namespace fo::internal
