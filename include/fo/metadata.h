// Image metadata, as FiftyOne's ImageMetadata and compute_metadata(): the
// file's size and the image's MIME type, width, height and channel count,
// read from the file's header (no pixel is decoded).
#ifndef FO_METADATA_H_
#define FO_METADATA_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fo/view.h"

namespace fo {

struct ImageMetadata {
  int64_t size_bytes = 0;
  std::string mime_type;  // "image/jpeg", "image/png", "image/bmp", "image/webp", "image/gif"
  int width = 0;
  int height = 0;
  // As PIL's bands: 1 grey or palette, 2 grey + alpha, 3 colour, 4 colour + alpha (or CMYK).
  int num_channels = 0;
};

// Reads the header of the image at `path` (JPEG, PNG, BMP, WebP, GIF; the
// format from the bytes, not the name). Throws kIOError if the file cannot
// be read, kInvalidArgument if it is not one of these formats or its header
// is cut short.
ImageMetadata ReadImageMetadata(const std::string& path);

struct ComputeMetadataOptions {
  // Also recompute samples whose metadata is complete. Default: only samples
  // missing some of it.
  bool overwrite = false;
  // Threads reading headers; 0 = one per core.
  size_t num_workers = 0;
  // A file that cannot be read leaves its sample's metadata as it was and is
  // listed in the result; false: the first such file fails the whole call
  // (nothing written).
  bool skip_failures = true;
  // Progress bar on stderr; default: when stderr is a terminal.
  std::optional<bool> progress;
};

struct ComputeMetadataResult {
  size_t computed = 0;                // samples written
  std::vector<std::string> failures;  // "<filepath>: <reason>", in view order
};

// Fills width, height, size_bytes, mime_type and num_channels of the view's
// samples from their files' headers, read in parallel, then writes them in
// one transaction.
ComputeMetadataResult ComputeMetadata(const View& view, const ComputeMetadataOptions& options = {});

}  // namespace fo

#endif  // FO_METADATA_H_
