// The files of app/web/, compiled into the binary (embed_assets.cmake writes
// static_assets.cc at build time), so `fo app launch` needs no install step
// and serves exactly the page it was built with.
#ifndef FO_APP_STATIC_ASSETS_H_
#define FO_APP_STATIC_ASSETS_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace fo::internal {

struct StaticAsset {
  std::string_view name;  // file name, e.g. "index.html"
  std::string_view data;
};

// The asset of that file name, or nullptr.
const StaticAsset* FindStaticAsset(std::string_view name);

// The Content-Type for a file name's extension (text types in UTF-8);
// application/octet-stream when unknown.
std::string ContentTypeOf(std::string_view name);

}  // namespace fo::internal

#endif  // FO_APP_STATIC_ASSETS_H_
