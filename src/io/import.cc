// Importing a directory tree of images as samples.
#include "fo/import.h"

#include <algorithm>
#include <filesystem>

#include "fo/error.h"
#include "fo/image.h"

namespace fo {

namespace fs = std::filesystem;

std::vector<Sample> ScanImageDirectory(const std::string& directory, std::vector<std::string>* skipped) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    throw InvalidArgument("not a directory: " + directory);
  }
  fs::path root = fs::absolute(directory, ec).lexically_normal();
  if (!root.has_filename() && root.has_relative_path()) root = root.parent_path();  // "dir/" -> "dir"
  std::vector<std::string> paths;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw InvalidArgument("cannot read directory " + directory + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw IOError("cannot list " + root.string() + ": " + ec.message());
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && IsImageFile(it->path().string())) paths.push_back(it->path().string());
  }
  if (ec) throw IOError("cannot list " + root.string() + ": " + ec.message());
  std::sort(paths.begin(), paths.end());

  std::vector<Sample> samples;
  samples.reserve(paths.size());
  for (const std::string& path : paths) {
    try {
      auto [width, height] = ReadImageSize(path);
      Sample sample;
      sample.filepath = path;
      sample.width = width;
      sample.height = height;
      samples.push_back(std::move(sample));
    } catch (const Error& e) {
      if (!skipped) continue;
      // ReadImageSize already names the file; keep only its reason.
      std::string reason = e.what();
      const std::string prefix = "cannot decode image " + path + ": ";
      if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
      skipped->push_back(path + ": " + reason);
    }
  }
  return samples;
}

}  // namespace fo
