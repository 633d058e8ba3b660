#include "thumbnails.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "fo/error.h"
#include "fo/image.h"

namespace fo::internal {

namespace fs = std::filesystem;

namespace {

constexpr int kJpegQuality = 85;
// Bumped when the way thumbnails are made changes, so old entries are not used.
constexpr const char* kFormatVersion = "thumb-v1";

// FNV-1a, 64 bits: stable across runs and builds (std::hash is not), and
// collisions are irrelevant at the scale of one user's thumbnails.
uint64_t Fnv1a(const std::string& data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// A JPEG decodes at 1/2, 1/4 or 1/8 scale far faster than at full size;
// pick the largest reduction that still leaves the longest side at least
// the thumbnail's, when the sample's size is known.
int Reduction(const ThumbnailSource& source) {
  if (!source.width || !source.height) return 1;
  int longest = std::max(*source.width, *source.height);
  if (longest >= 8 * kThumbnailMaxSide) return 8;
  if (longest >= 4 * kThumbnailMaxSide) return 4;
  if (longest >= 2 * kThumbnailMaxSide) return 2;
  return 1;
}

Image DecodeWhole(const ThumbnailSource& source) {
  try {
    return LoadImagePreview(source.filepath, Reduction(source));
  } catch (const Error& e) {
    throw IOError(e.what());
  }
}

// The crop goes through the library's LoadImage + CropPatch, so that the
// patch shown is exactly the one that was embedded.
Image DecodeCrop(const ThumbnailSource& source) {
  try {
    Image crop = CropPatch(LoadImage(source.filepath), *source.box);
    crop.alpha.clear();
    return crop;
  } catch (const Error& e) {
    throw IOError(e.what());
  }
}

Image FitToThumbnail(Image image) {
  int longest = std::max(image.width, image.height);
  if (longest <= kThumbnailMaxSide) return image;
  double scale = static_cast<double>(kThumbnailMaxSide) / longest;
  Image out;
  out.width = std::max(1, static_cast<int>(std::lround(image.width * scale)));
  out.height = std::max(1, static_cast<int>(std::lround(image.height * scale)));
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  cv::Mat from(image.height, image.width, CV_8UC3, image.rgb.data());
  cv::Mat to(out.height, out.width, CV_8UC3, out.rgb.data());  // resize writes into out.rgb
  cv::resize(from, to, to.size(), 0, 0, cv::INTER_AREA);
  return out;
}

// Writes `bytes` to `path` through a temporary file in the same directory and
// a rename, which is atomic on POSIX file systems.
void WriteAtomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) throw IOError("cannot write thumbnail " + tmp);
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  std::error_code ec;
  if (ok) fs::rename(tmp, path, ec);
  if (!ok || ec) {
    fs::remove(tmp, ec);
    throw IOError("cannot write thumbnail " + path);
  }
}

// Refreshes a served entry's mtime, which Prune reads as its last use; at
// most hourly, so that a warm cache costs no write per request.
void MarkUsed(const std::string& path) {
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  auto mtime = fs::last_write_time(path, ec);
  if (!ec && now - mtime > std::chrono::hours(1)) fs::last_write_time(path, now, ec);
}

}  // namespace

ThumbnailCache::ThumbnailCache(std::string directory, uint64_t max_bytes)
    : directory_(std::move(directory)), max_bytes_(max_bytes) {
  Prune();
}

uint64_t ThumbnailCache::Prune() const {
  if (max_bytes_ == 0) return 0;
  std::lock_guard lock(prune_mutex_);
  struct Entry {
    fs::file_time_type used;
    uint64_t bytes;
    fs::path path;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(directory_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code e;
    if (!it->is_regular_file(e) || it->path().extension() != ".jpg") continue;
    uint64_t bytes = it->file_size(e);
    fs::file_time_type used = it->last_write_time(e);
    if (e) continue;
    entries.push_back({used, bytes, it->path()});
    total += bytes;
  }
  if (total <= max_bytes_) return 0;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.used < b.used; });
  const uint64_t target = max_bytes_ / 10 * 9;
  uint64_t deleted = 0;
  for (const Entry& e : entries) {
    if (total - deleted <= target) break;
    std::error_code rm;
    if (fs::remove(e.path, rm)) deleted += e.bytes;
  }
  return deleted;
}

std::string ThumbnailCache::Key(const ThumbnailSource& source) const {
  std::error_code ec;
  auto size = fs::file_size(source.filepath, ec);
  if (ec) throw NotFound("media file not found: " + source.filepath);
  auto mtime = fs::last_write_time(source.filepath, ec);
  if (ec) throw NotFound("media file not found: " + source.filepath);
  std::string identity = std::string(kFormatVersion) + '\0' + source.filepath + '\0' + std::to_string(size) + '\0' +
                         std::to_string(mtime.time_since_epoch().count()) + '\0' + source.label_id;
  if (source.box) {
    for (double v : *source.box) identity += '\0' + std::to_string(v);
  }
  // Two differently seeded hashes: 128 bits, for file names nobody can make collide by accident.
  return Hex(Fnv1a(identity, 14695981039346656037ull)) + Hex(Fnv1a(identity, 0x9e3779b97f4a7c15ull));
}

std::string ThumbnailCache::PathOf(const std::string& key) const {
  // A two-character fan-out keeps directories small for large datasets.
  return (fs::path(directory_) / key.substr(0, 2) / (key + ".jpg")).string();
}

std::string ThumbnailCache::Get(const ThumbnailSource& source, const std::string& key) const {
  std::string path = PathOf(key);
  std::error_code ec;
  if (fs::exists(path, ec)) {
    MarkUsed(path);
    return path;
  }
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) throw IOError("cannot create the thumbnail directory " + fs::path(path).parent_path().string() + ": " + ec.message());
  Generate(source, path);
  if (++written_ % kPruneEvery == 0) Prune();
  return path;
}

void ThumbnailCache::Generate(const ThumbnailSource& source, const std::string& path) const {
  Image image = FitToThumbnail(source.box ? DecodeCrop(source) : DecodeWhole(source));
  std::vector<uint8_t> jpeg;
  try {
    jpeg = EncodeJpeg(image, kJpegQuality);
  } catch (const Error& e) {
    throw IOError("cannot encode the thumbnail of " + source.filepath + ": " + e.what());
  }
  WriteAtomically(path, jpeg);
}

}  // namespace fo::internal
