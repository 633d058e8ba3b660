// The App's thumbnails: JPEGs with the longest side at most kThumbnailMaxSide
// pixels (aspect kept, never enlarged), of a whole image or of a detection's
// crop (fo::CropPatch, FiftyOne's crop math), generated on first request and
// cached on disk.
//
// The cache key hashes the source file's path, size and modification time
// with the crop, so an edited image gets a new thumbnail and a stale one is
// never served. The cache is bounded: beyond `max_bytes` the least recently
// used entries are deleted (a served entry's mtime is refreshed at most
// hourly, so mtime orders by use), when the cache is created and after every
// kPruneEvery new entries. Entries are written to a temporary file and
// renamed into place, so concurrent requests (or processes) never see half a
// JPEG. Thread-safe.
#ifndef FO_APP_THUMBNAILS_H_
#define FO_APP_THUMBNAILS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace fo::internal {

inline constexpr int kThumbnailMaxSide = 256;
inline constexpr int kPruneEvery = 256;

struct ThumbnailSource {
  std::string filepath;
  std::optional<int> width;   // the sample's metadata, a decoding hint only
  std::optional<int> height;
  // A detection's crop instead of the whole image.
  std::string label_id;
  std::optional<std::array<double, 4>> box;
};

class ThumbnailCache {
 public:
  // `directory` is created on first write. max_bytes 0: no limit.
  explicit ThumbnailCache(std::string directory, uint64_t max_bytes = 0);

  // The cache key (hex) of the source's current file. Throws kNotFound if the
  // file does not exist.
  std::string Key(const ThumbnailSource& source) const;
  // The path of the cached JPEG for `key`, generated from `source` if it is
  // not there yet. Throws kIOError if the image cannot be decoded or the
  // cache cannot be written.
  std::string Get(const ThumbnailSource& source, const std::string& key) const;

  const std::string& directory() const { return directory_; }

  // Deletes the least recently used entries until the cache is at most 90%
  // of max_bytes (nothing without a limit or below it). Returns the bytes
  // deleted. Files that vanish meanwhile (another process pruning) are
  // skipped.
  uint64_t Prune() const;

 private:
  std::string PathOf(const std::string& key) const;
  void Generate(const ThumbnailSource& source, const std::string& path) const;

  std::string directory_;
  uint64_t max_bytes_;
  mutable std::atomic<uint64_t> written_{0};
  mutable std::mutex prune_mutex_;
};

}  // namespace fo::internal

#endif  // FO_APP_THUMBNAILS_H_
