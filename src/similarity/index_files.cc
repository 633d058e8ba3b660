#include "similarity/index_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "core/os_error.h"
#include "fo/error.h"

namespace fo::internal {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'F', 'O', 'I', 'D', 'X', 'C', 'O', 'L'};
constexpr uint32_t kFormatVersion = 1;

// Column kinds, recorded in each header so that a file cannot be mistaken
// for another column.
enum : uint32_t { kVectors = 1, kNorms = 2, kSampleKeys = 3, kItemKeys = 4, kOids = 5, kCodes = 6, kQuantizer = 7 };

// The first bytes of the 4 KiB header, little-endian as the host writes it.
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t kind;
  uint64_t width;  // bytes per row
  uint32_t dim;
  uint32_t reserved;
  uint64_t rows;   // rows written (informational: the store's count is the truth)
};

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

void WriteAll(int fd, const void* data, size_t bytes, off_t offset, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (bytes > 0) {
    ssize_t n = ::pwrite(fd, p, bytes, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw OsError("cannot write", path, errno);
    p += n;
    bytes -= static_cast<size_t>(n);
    offset += n;
  }
}

void FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw OsError("cannot open", path, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw OsError("cannot sync", path, err);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

}  // namespace

Oid OidFromHex(const std::string& s) {
  Oid o{};
  for (size_t i = 0; i < 12; ++i) o[i] = static_cast<uint8_t>(HexDigit(s[2 * i]) << 4 | HexDigit(s[2 * i + 1]));
  return o;
}

std::string OidToHex(const uint8_t* oid) {
  static const char* kHex = "0123456789abcdef";
  std::string s(24, '0');
  for (size_t i = 0; i < 12; ++i) {
    s[2 * i] = kHex[oid[i] >> 4];
    s[2 * i + 1] = kHex[oid[i] & 15];
  }
  return s;
}

size_t OidHash::operator()(const Oid& o) const {
  // The last 8 bytes are the random part and the counter of an ObjectId.
  uint64_t tail;
  std::memcpy(&tail, o.data() + 4, 8);
  return static_cast<size_t>(tail * 0x9E3779B97F4A7C15ull);
}

// --- ColumnFile ---

ColumnFile::~ColumnFile() {
  Unmap();
  if (fd_ >= 0) ::close(fd_);
}

ColumnFile::ColumnFile(ColumnFile&& o) noexcept { *this = std::move(o); }

ColumnFile& ColumnFile::operator=(ColumnFile&& o) noexcept {
  if (this == &o) return *this;
  Unmap();
  if (fd_ >= 0) ::close(fd_);
  path_ = std::move(o.path_);
  fd_ = std::exchange(o.fd_, -1);
  width_ = o.width_;
  rows_ = o.rows_;
  map_ = std::exchange(o.map_, nullptr);
  map_bytes_ = std::exchange(o.map_bytes_, 0);
  return *this;
}

ColumnFile ColumnFile::Create(const std::string& path, uint32_t kind, size_t width, uint32_t dim) {
  ColumnFile f;
  f.path_ = path;
  f.width_ = width;
  f.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (f.fd_ < 0) throw OsError("cannot create", path, errno);
  std::vector<uint8_t> block(kHeaderBytes, 0);
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kFormatVersion;
  h.kind = kind;
  h.width = width;
  h.dim = dim;
  std::memcpy(block.data(), &h, sizeof(h));
  WriteAll(f.fd_, block.data(), block.size(), 0, path);
  f.Map(0);
  return f;
}

ColumnFile ColumnFile::Open(const std::string& path, uint32_t kind, size_t width, uint32_t dim, size_t rows) {
  ColumnFile f;
  f.path_ = path;
  f.width_ = width;
  f.fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  // A store on read-only media can still be searched.
  if (f.fd_ < 0 && (errno == EACCES || errno == EROFS)) f.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd_ < 0) throw Corruption(Errno("cannot open", path));
  struct stat st {};
  if (::fstat(f.fd_, &st) != 0) throw Corruption(Errno("cannot stat", path));
  Header h{};
  if (static_cast<size_t>(st.st_size) < kHeaderBytes || ::pread(f.fd_, &h, sizeof(h), 0) != sizeof(h) ||
      std::memcmp(h.magic, kMagic, 8) != 0)
    throw Corruption(path + " is not an fo index column file");
  if (h.version != kFormatVersion) throw Corruption(path + " has format version " + std::to_string(h.version) + ", not " + std::to_string(kFormatVersion));
  if (h.kind != kind || h.width != width || h.dim != dim) throw Corruption(path + " holds another column than expected");
  size_t held = (static_cast<size_t>(st.st_size) - kHeaderBytes) / width;
  if (held < rows)
    throw Corruption(path + " holds " + std::to_string(held) + " rows but the store expects " + std::to_string(rows) + " (truncated)");
  f.Map(rows);
  return f;
}

void ColumnFile::Map(size_t rows) {
  size_t need = kHeaderBytes + rows * width_;
  if (need > map_bytes_) {
    // Map ahead of the file's end so that appends rarely remap; pages past
    // the end are never touched.
    size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    size_t want = std::max(need, map_bytes_ * 2);
    want = (want + page - 1) / page * page;
    Unmap();
    void* p = ::mmap(nullptr, want, PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) throw IOError(Errno("cannot map", path_));
    map_ = static_cast<uint8_t*>(p);
    map_bytes_ = want;
  }
  rows_ = rows;
}

void ColumnFile::Unmap() {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
  map_ = nullptr;
  map_bytes_ = 0;
}

void ColumnFile::Read(size_t first, size_t count, void* out) const {
  auto* dst = static_cast<uint8_t*>(out);
  size_t bytes = count * width_;
  off_t offset = static_cast<off_t>(kHeaderBytes + first * width_);
  while (bytes > 0) {
    ssize_t got = ::pread(fd_, dst, bytes, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw OsError("cannot read", path_, errno);
    if (got == 0) throw Corruption(path_ + " is shorter than the " + std::to_string(rows_) + " rows the store expects (truncated)");
    dst += got;
    offset += got;
    bytes -= static_cast<size_t>(got);
  }
}

void ColumnFile::Append(const void* data, size_t n, size_t committed) {
  off_t end = static_cast<off_t>(kHeaderBytes + committed * width_);
  // Rows past the committed count belong to a write that never committed.
  if (::ftruncate(fd_, end) != 0) throw OsError("cannot truncate", path_, errno);
  WriteAll(fd_, data, n * width_, end, path_);
  uint64_t rows = committed + n;
  WriteAll(fd_, &rows, sizeof(rows), offsetof(Header, rows), path_);
  Map(committed + n);
}

void ColumnFile::Sync() {
  if (fd_ < 0) return;
  if (::fdatasync(fd_) != 0) throw OsError("cannot sync", path_, errno);
}

// --- RunFiles ---

namespace {
struct ColumnSpec {
  const char* name;
  uint32_t kind;
};
constexpr ColumnSpec kColumnSpecs[] = {
    {"vectors.f32", kVectors}, {"norms.f32", kNorms}, {"sample_keys.i64", kSampleKeys},
    {"item_keys.i64", kItemKeys}, {"oids.bin", kOids}};
constexpr const char* kQuantizerFile = "quantizer.f32";

size_t WidthOf(uint32_t kind, size_t dim) {
  switch (kind) {
    case kVectors: return dim * sizeof(float);
    case kNorms: return sizeof(float);
    case kOids: return 24;
    default: return sizeof(int64_t);
  }
}

// The codes column's file name: its precision is in the name, so that a
// directory listing says how the run is stored.
std::string CodesFile(VectorStorage storage) {
  return storage == VectorStorage::kFloat16 ? "codes.f16" : "codes.i8";
}

// The quantizer's flat parameters (2 * dim floats) as a one-row column file,
// so that it has the same header checks as the others.
void WriteQuantizer(const std::string& dir, const ScalarQuantizer& q) {
  std::vector<float> flat = q.ToFlat();
  ColumnFile f = ColumnFile::Create(dir + "/" + kQuantizerFile, kQuantizer, flat.size() * sizeof(float),
                                    static_cast<uint32_t>(q.dim()));
  f.Append(flat.data(), 1, 0);
  f.Sync();
}

ScalarQuantizer ReadQuantizer(const std::string& dir, size_t dim) {
  std::string path = dir + "/" + kQuantizerFile;
  ColumnFile f = ColumnFile::Open(path, kQuantizer, 2 * dim * sizeof(float), static_cast<uint32_t>(dim), 1);
  try {
    return ScalarQuantizer::FromFlat(reinterpret_cast<const float*>(f.data()), 2 * dim);
  } catch (const Error& e) {
    throw Corruption(path + ": " + e.what());
  }
}
}  // namespace

std::array<ColumnFile*, 6> RunFiles::all_files() {
  return {&vectors_, &norms_, &sample_keys_, &item_keys_, &oids_, &codes_};
}

std::unique_ptr<RunFiles> RunFiles::Create(const std::string& dir, size_t dim, CodeFormat format,
                                           std::optional<ScalarQuantizer> quantizer) {
  std::unique_ptr<RunFiles> f(new RunFiles());
  f->dir_ = dir;
  f->dim_ = dim;
  f->format_ = format;
  f->quantizer_ = std::move(quantizer);
  std::string root = fs::path(dir).parent_path().string();
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw OsError("cannot create the index directory", root, ec.value());
  if (::mkdir(dir.c_str(), 0755) != 0) throw OsError("cannot create the index directory", dir, errno);
  try {
    f->lock_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->lock_fd_ < 0 || ::flock(f->lock_fd_, LOCK_EX | LOCK_NB) != 0) throw OsError("cannot lock", dir, errno);
    auto cols = f->all_files();
    for (size_t i = 0; i < 5; ++i)
      *cols[i] = ColumnFile::Create(dir + "/" + kColumnSpecs[i].name, kColumnSpecs[i].kind,
                                    WidthOf(kColumnSpecs[i].kind, dim), static_cast<uint32_t>(dim));
    if (format.storage != VectorStorage::kFloat32)
      f->codes_ = ColumnFile::Create(dir + "/" + CodesFile(format.storage), kCodes, CodeBytesPerRow(format.storage, dim),
                                     static_cast<uint32_t>(dim));
    if (format.storage == VectorStorage::kInt8) WriteQuantizer(dir, f->quantizer_.value());
    // The new names must be durable before a commit refers to them.
    FsyncPath(dir);
    FsyncPath(root);
  } catch (...) {
    // Nothing refers to the directory yet, and half of one is of no use.
    RemoveDir(dir);
    throw;
  }
  return f;
}

std::unique_ptr<RunFiles> RunFiles::Open(const std::string& dir, size_t dim, size_t rows, CodeFormat format) {
  std::unique_ptr<RunFiles> f(new RunFiles());
  f->dir_ = dir;
  f->dim_ = dim;
  f->format_ = format;
  auto cols = f->all_files();
  for (size_t i = 0; i < 5; ++i)
    *cols[i] = ColumnFile::Open(dir + "/" + kColumnSpecs[i].name, kColumnSpecs[i].kind,
                                WidthOf(kColumnSpecs[i].kind, dim), static_cast<uint32_t>(dim), rows);
  if (format.storage != VectorStorage::kFloat32)
    f->codes_ = ColumnFile::Open(dir + "/" + CodesFile(format.storage), kCodes, CodeBytesPerRow(format.storage, dim),
                                 static_cast<uint32_t>(dim), rows);
  if (format.storage == VectorStorage::kInt8) f->quantizer_ = ReadQuantizer(dir, dim);
  return f;
}

RunFiles::~RunFiles() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void RunFiles::Scanned(bool in_place, double seconds) {
  ScanState& st = scans_;
  if (!in_place) {
    ++st.copied;
    if (seconds >= 0) st.last_copy_seconds = seconds;
    if (st.copies_owed > 0) --st.copies_owed;
    return;
  }
  // The first in-place scan pays for the faults: not comparable.
  if (!std::exchange(st.faulted, true) || seconds < 0 || st.last_copy_seconds < 0) return;
  if (seconds > 2 * st.last_copy_seconds) {
    st.copies_owed = st.copies_after_slow_scan;
    st.copies_after_slow_scan = std::min(2 * st.copies_after_slow_scan, 1024);
  } else {
    st.copies_after_slow_scan = kCopiesAfterSlowScan;
  }
}

void RunFiles::Append(const RowBatch& b, size_t committed) {
  if (b.rows == 0) return;
  scans_ = ScanState();  // the appended rows are cold
  dirty_ = true;
  vectors_.Append(b.vectors, b.rows, committed);
  norms_.Append(b.norms, b.rows, committed);
  sample_keys_.Append(b.sample_keys, b.rows, committed);
  item_keys_.Append(b.item_keys, b.rows, committed);
  oids_.Append(b.oids, b.rows, committed);
  if (format_.storage != VectorStorage::kFloat32) {
    std::vector<uint8_t> codes(b.rows * CodeBytesPerRow(format_.storage, dim_));
    EncodeRows(format_.storage, quantizer_ ? &*quantizer_ : nullptr, format_.metric, b.vectors, b.rows, dim_,
               codes.data());
    codes_.Append(codes.data(), b.rows, committed);
  }
}

void RunFiles::Sync() {
  if (!dirty_) return;
  for (ColumnFile* c : all_files()) c->Sync();
  dirty_ = false;
}

Columns RunFiles::columns() const {
  Columns c;
  c.rows = vectors_.rows();
  c.dim = dim_;
  c.vectors = reinterpret_cast<const float*>(vectors_.data());
  c.norms = reinterpret_cast<const float*>(norms_.data());
  c.sample_keys = reinterpret_cast<const int64_t*>(sample_keys_.data());
  c.item_keys = reinterpret_cast<const int64_t*>(item_keys_.data());
  c.oids = oids_.data();
  return c;
}

CodeMatrix RunFiles::codes() const {
  CodeMatrix m;
  m.storage = format_.storage;
  m.n = vectors_.rows();
  m.d = dim_;
  m.codes = format_.storage == VectorStorage::kFloat32 ? nullptr : codes_.data();
  m.quantizer = quantizer_ ? &*quantizer_ : nullptr;
  return m;
}

std::vector<std::string> ListGenerationDirs(const std::string& files_root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(files_root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind("run-", 0) == 0 && it->is_directory(ec)) out.push_back(name);
  }
  return out;
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

void RemoveUnreferencedDirs(const std::string& files_root, const std::vector<std::string>& referenced) {
  std::set<std::string> keep(referenced.begin(), referenced.end());
  for (const auto& name : ListGenerationDirs(files_root)) {
    if (keep.count(name)) continue;
    std::string dir = files_root + "/" + name;
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    // A writer that has not committed yet holds the lock; skip its directory.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) RemoveDir(dir);
    ::close(fd);
  }
}

}  // namespace fo::internal
