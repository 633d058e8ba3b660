// Reading FiftyOne's "FiftyOneDataset" export format (what
// `dataset.export(export_dir, dataset_type=fo.types.FiftyOneDataset)` writes
// and what the zoo's quickstart archive holds) into fo samples:
//
//   <dir>/metadata.json   the dataset document (media_type, version, classes...)
//   <dir>/samples.json    {"samples": [{filepath, tags, metadata, <fields>...}]}
//   <dir>/data/...        the media, referred to by relative filepaths
//
// Files are MongoDB extended JSON ({"$oid": ...}, {"$date": ...},
// {"$numberDouble": "NaN"}). The pre-0.8 "legacy" layout (no "version" in
// metadata.json) has the same samples.json and is read the same way.
//
// What is kept: filepath (made absolute against <dir>), tags, metadata
// width/height when present, Detections fields (label, bounding_box,
// confidence, and every other scalar or list attribute, including the old
// `attributes: {name: {"value": v}}` form), and scalar or list fields (e.g.
// `uniqueness`). Sample and label ids are not kept: the store's ids are
// unique across datasets, so an export can be imported more than once. What
// is skipped (other label types, dates, binary fields, dicts, masks) is
// reported, one line per field, not an error.
#ifndef FO_PYTHON_FIFTYONE_IMPORT_H_
#define FO_PYTHON_FIFTYONE_IMPORT_H_

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fo/sample.h"

namespace fo::py_bind {

struct FiftyOneExport {
  std::vector<Sample> samples;        // in file order
  std::vector<std::string> skipped;   // "field 'x' (Classification): not supported", sorted, unique
  std::vector<std::string> classes;   // metadata.json's default_classes, if any
};

// Reads the export in `dataset_dir` (at most max_samples samples, from the
// start). Throws kInvalidArgument when samples.json is missing, is not JSON
// or is not of this format (the message names the file and what is wrong),
// or when the export is not of images (media_type video, group, 3d...).
FiftyOneExport ReadFiftyOneDataset(const std::filesystem::path& dataset_dir,
                                   std::optional<size_t> max_samples = std::nullopt);

}  // namespace fo::py_bind

#endif  // FO_PYTHON_FIFTYONE_IMPORT_H_
