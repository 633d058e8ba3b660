#include <algorithm>
#include <cctype>
#include <map>

#include "static_assets.h"

namespace fo::internal {

std::string ContentTypeOf(std::string_view name) {
  static const std::map<std::string, std::string> kTypes = {
      {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"}, {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},   {"json", "application/json"},
      {"txt", "text/plain; charset=utf-8"}, {"svg", "image/svg+xml"},
      {"png", "image/png"},                 {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},               {"gif", "image/gif"},
      {"bmp", "image/bmp"},                 {"webp", "image/webp"},
      {"tif", "image/tiff"},                {"tiff", "image/tiff"},
      {"ico", "image/x-icon"},              {"woff2", "font/woff2"},
      {"woff", "font/woff"},                {"map", "application/json"},
  };
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string ext(name.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

}  // namespace fo::internal
