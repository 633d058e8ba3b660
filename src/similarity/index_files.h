// The on-disk layout of a saved sklearn index: one generation directory per
// run under `<store path>.files/`, holding append-only column files that are
// memory-mapped read-only and searched in place (docs/storage.md).
//
//   vectors.f32      dim float32 per row (the data starts 4 KiB-aligned)
//   norms.f32        |x| per row
//   sample_keys.i64  samples.seq of the row's sample
//   item_keys.i64    samples.seq (image index) or labels.seq (patch index)
//   oids.bin         12-byte ObjectId of the item, then of the sample
//   codes.f16        (storage float16) the rows as binary16, unit rows for cosine
//   codes.i8         (storage int8) the rows as ScalarQuantizer codes, and
//   quantizer.f32    one row: that quantizer's offsets then scales
//
// Each file is a 4 KiB header (magic, format version, column kind, row width,
// dim, rows written) followed by fixed-width rows. The store's index_files
// row says how many rows are committed; bytes past that count (a write whose
// transaction never committed) are ignored and cut off by the next append.
//
// Opening maps the files and checks their sizes: O(1), no per-row work.
// Not thread-safe; a RunFiles belongs to one backend object.
#ifndef FO_SIMILARITY_INDEX_FILES_H_
#define FO_SIMILARITY_INDEX_FILES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "similarity/quantized_knn.h"

namespace fo::internal {

using Oid = std::array<uint8_t, 12>;

// "5f1a..." (24 hex digits, either case) -> 12 bytes. REQUIRES IsObjectId(s).
Oid OidFromHex(const std::string& s);
// 12 bytes -> 24 lowercase hex digits.
std::string OidToHex(const uint8_t* oid);

struct OidHash {
  size_t operator()(const Oid& o) const;
};

// Raw pointers to the columns of `rows` rows (into mappings or memory).
struct Columns {
  size_t rows = 0;
  size_t dim = 0;
  const float* vectors = nullptr;     // rows x dim
  const float* norms = nullptr;       // rows
  const int64_t* sample_keys = nullptr;
  const int64_t* item_keys = nullptr;
  const uint8_t* oids = nullptr;      // rows x 24: item ObjectId, sample ObjectId

  const uint8_t* item_oid(size_t r) const { return oids + r * 24; }
  const uint8_t* sample_oid(size_t r) const { return oids + r * 24 + 12; }
};

// Rows to append; the same layout as Columns.
using RowBatch = Columns;

// One column file, mapped read-only.
class ColumnFile {
 public:
  ColumnFile() = default;
  ~ColumnFile();
  ColumnFile(ColumnFile&& o) noexcept;
  ColumnFile& operator=(ColumnFile&& o) noexcept;
  ColumnFile(const ColumnFile&) = delete;
  ColumnFile& operator=(const ColumnFile&) = delete;

  // Creates `path` (which must not exist) with a header and no rows.
  static ColumnFile Create(const std::string& path, uint32_t kind, size_t width, uint32_t dim);
  // Opens an existing file and maps `rows` rows. Throws kCorruption naming
  // the file if it is missing, has a bad header, or holds fewer rows.
  static ColumnFile Open(const std::string& path, uint32_t kind, size_t width, uint32_t dim, size_t rows);

  // Cuts the file to `committed` rows, writes n rows after them and maps
  // them. Not durable until Sync().
  void Append(const void* data, size_t n, size_t committed);
  // fdatasync: the rows written are on disk. Does nothing for a file never
  // created or opened.
  void Sync();

  const uint8_t* data() const { return map_ == nullptr ? nullptr : map_ + kHeaderBytes; }
  size_t rows() const { return rows_; }

  // Copies rows [first, first + count) of the mapped ones with pread(),
  // without touching the mapping. Throws kIOError (kCorruption if the file
  // got shorter).
  void Read(size_t first, size_t count, void* out) const;

  static constexpr size_t kHeaderBytes = 4096;

 private:
  void Map(size_t rows);
  void Unmap();

  std::string path_;
  int fd_ = -1;
  size_t width_ = 0;
  size_t rows_ = 0;
  uint8_t* map_ = nullptr;
  size_t map_bytes_ = 0;  // mapped length, may run past the file's end
};

// How a generation keeps reduced-precision codes of its rows beside the
// float32 ones (quantized_knn.h): none for kFloat32. The metric matters
// because the codes of a cosine run are of unit-normalised rows.
struct CodeFormat {
  VectorStorage storage = VectorStorage::kFloat32;
  Metric metric = Metric::kCosine;
};

// The columns of one generation directory: the five of every run, plus the
// codes (and, for int8, the quantizer) of a run stored at lower precision.
class RunFiles {
 public:
  // Creates `dir` and its empty columns, holding an exclusive flock on the
  // directory for the life of this object, so that the garbage collector
  // of another handle never deletes it before the transaction that
  // references it commits. REQUIRES: `quantizer` (of dimension dim) iff
  // format.storage is kInt8; it is written (and synced) with the directory,
  // and encodes every row appended later. Throws kIOError (the disk-full
  // line for ENOSPC), leaving no directory behind.
  static std::unique_ptr<RunFiles> Create(const std::string& dir, size_t dim, CodeFormat format,
                                          std::optional<ScalarQuantizer> quantizer = std::nullopt);
  // Maps an existing directory's first `rows` rows; throws kCorruption.
  static std::unique_ptr<RunFiles> Open(const std::string& dir, size_t dim, size_t rows, CodeFormat format);
  ~RunFiles();

  // Appends rows after the `committed` ones (encoding their codes), not yet
  // durable: Sync() before a commit that references them.
  void Append(const RowBatch& batch, size_t committed);
  // fdatasync of every column appended to since the last Sync (none: no-op).
  // Throws kIOError.
  void Sync();

  Columns columns() const;
  // The codes of the mapped rows; codes == nullptr for kFloat32.
  CodeMatrix codes() const;

  // --- Scanning a cold mapping ---
  // A handle's first full scan reads the scanned column (the codes, or the
  // float32 rows without codes) through pread rather than faulting its
  // mapping in (exact_knn.h's RowSource says why): a process that queries
  // once (the CLI) never pays for the faults. Later scans read the mapping in
  // place; the first of them faults the pages in as it goes (one pass, no
  // separate populating), and later ones find them mapped.
  //
  // In place is not always faster: on virtual machines with shadow paging,
  // a loaded host drops the page-table entries of a large mapping, and every
  // scan faults again (measured: 0.8-1.6 s per GB in place against 0.1 s per
  // GB through pread). So scans over every row are timed: an in-place scan
  // (after the faulting one) slower than twice the last copying one sends
  // the next kCopiesAfterSlowScan scans back to pread before in place is
  // tried again, twice as many after each further slow try (up to 1024),
  // back to kCopiesAfterSlowScan after a fast one. Appended rows are cold
  // again: appending starts over.
  static constexpr int kCopiesAfterSlowScan = 8;
  bool ScanInPlace() const { return scans_.copied > 0 && scans_.copies_owed == 0; }
  // Reports a scan: whether it read in place, and for a scan of every row
  // (no view filter) its time in seconds (< 0: not comparable, not timed).
  void Scanned(bool in_place, double seconds);
  // Copies float32 rows / code rows with pread (see ColumnFile::Read).
  void ReadVectors(size_t first, size_t count, void* out) const { vectors_.Read(first, count, out); }
  void ReadCodes(size_t first, size_t count, void* out) const { codes_.Read(first, count, out); }
  const std::string& dir() const { return dir_; }

 private:
  RunFiles() = default;
  // Every column, codes_ last (unopened for kFloat32).
  std::array<ColumnFile*, 6> all_files();

  std::string dir_;
  size_t dim_ = 0;
  CodeFormat format_;
  std::optional<ScalarQuantizer> quantizer_;
  int lock_fd_ = -1;
  bool dirty_ = false;  // appended to since the last Sync
  ColumnFile vectors_, norms_, sample_keys_, item_keys_, oids_, codes_;
  struct ScanState {
    int copied = 0;                  // scans through pread
    bool faulted = false;            // an in-place scan has faulted the mapping in
    int copies_owed = 0;             // copying scans to run before in place is tried again
    int copies_after_slow_scan = kCopiesAfterSlowScan;
    double last_copy_seconds = -1;   // of a full copying scan; < 0: none yet
  } scans_;
};

// Deletes `dir` and everything in it; errors are ignored (garbage collection
// retries). REQUIRES: no committed index_files row refers to it.
void RemoveDir(const std::string& dir);
// Deletes the generation directories under `files_root` whose names are not
// in `referenced` and that no process holds (flock, non-blocking). Errors
// are ignored: garbage is retried on the next open.
void RemoveUnreferencedDirs(const std::string& files_root, const std::vector<std::string>& referenced);
// Names of the generation directories ("run-*") under `files_root`.
std::vector<std::string> ListGenerationDirs(const std::string& files_root);

}  // namespace fo::internal

#endif  // FO_SIMILARITY_INDEX_FILES_H_
