// Importing a directory of images as samples.
#ifndef FO_IMPORT_H_
#define FO_IMPORT_H_

#include <string>
#include <vector>

#include "fo/sample.h"

namespace fo {

// Samples for every image file (.jpg .jpeg .png .bmp .webp) under
// `directory`, recursively, sorted by path, with absolute filepaths and the
// width and height read from each file. Unreadable files are not returned:
// each is appended to `skipped` as "<path>: <reason>". Throws
// kInvalidArgument if `directory` is not a readable directory.
std::vector<Sample> ScanImageDirectory(const std::string& directory, std::vector<std::string>* skipped);

}  // namespace fo

#endif  // FO_IMPORT_H_
