// The zoo's manifest entries: those compiled in, and the JSON form used by
// $FIFTYONE_CPP_MODEL_ZOO_MANIFEST files.
#ifndef FO_ZOO_MANIFEST_H_
#define FO_ZOO_MANIFEST_H_

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fo/zoo.h"

namespace fo::internal {

// The models every build knows, in no particular order.
std::vector<ZooModelInfo> BuiltinZooModels();

// Throws kInvalidArgument when a name or file name could escape its
// directory (they become paths in the cache) or is empty.
void ValidateZooModelInfo(const ZooModelInfo& info);

// A JSON array of objects with the ZooModelInfo fields ("name" required,
// the rest optional). Throws kInvalidArgument naming `source` on a
// malformed entry.
std::vector<ZooModelInfo> ParseZooManifest(const nlohmann::json& manifest, const std::string& source);
// Reads and parses a manifest file; kInvalidArgument naming the file when
// it cannot be read or parsed.
std::vector<ZooModelInfo> LoadZooManifestFile(const std::filesystem::path& path);

}  // namespace fo::internal

#endif  // FO_ZOO_MANIFEST_H_
