// The .npy format: a 6-byte magic, a version, a header length, then a Python
// dict literal giving dtype, memory order and shape, then the raw array.
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#include "fo/npy.h"

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/os_error.h"
#include "fo/error.h"

namespace fo {
namespace {

// The data is copied to and from float buffers byte for byte.
static_assert(std::endian::native == std::endian::little, "npy.cc assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// Far above any real header (numpy itself refuses > 10000 bytes by default);
// it keeps a corrupt length from allocating gigabytes.
constexpr uint32_t kMaxHeaderSize = 1 << 20;

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

[[noreturn]] void Fail(const std::string& path, const std::string& problem) {
  throw InvalidArgument(path + ": " + problem +
                        "; expected a 2-D little-endian float32 or float64 array in C order");
}

[[noreturn]] void FailIO(const std::string& path, const std::string& what, int err) {
  if (err == ENOSPC) throw internal::DiskFull(path);
  throw IOError(path + ": " + what + ": " + std::strerror(err));
}

// A failed write: the file cut short (a full disk) is removed, since half an
// array is worse than none; anything but a regular file (/dev/full) is left.
[[noreturn]] void FailWrite(const std::string& path, int err) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) std::remove(path.c_str());
  FailIO(path, "cannot write", err);
}

// A value of the Python literal subset numpy writes in headers.
struct PyValue {
  enum class Kind { kString, kBool, kNone, kInt, kSequence } kind = Kind::kNone;
  std::string str;
  bool boolean = false;
  int64_t integer = 0;
  std::vector<PyValue> items;
};

// Parses the header dict. Lenient about whitespace, quotes and trailing
// commas, since writers other than numpy (and numpy under Python 2, with its
// 3L ints) produce all of these.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  std::map<std::string, PyValue> ParseDict() {
    std::map<std::string, PyValue> dict;
    Expect('{');
    while (!Consume('}')) {
      PyValue key = ParseValue();
      if (key.kind != PyValue::Kind::kString) Malformed("a key is not a string");
      Expect(':');
      dict[key.str] = ParseValue();
      if (!Consume(',')) {
        Expect('}');
        break;
      }
    }
    SkipSpace();
    if (pos_ != text_.size()) Malformed("text after the dict");
    return dict;
  }

 private:
  PyValue ParseValue() {
    SkipSpace();
    if (pos_ >= text_.size()) Malformed("unexpected end");
    char c = text_[pos_];
    PyValue v;
    if (c == '\'' || c == '"') {
      v.kind = PyValue::Kind::kString;
      v.str = ParseString(c);
    } else if (c == '(' || c == '[') {
      v.kind = PyValue::Kind::kSequence;
      const char close = c == '(' ? ')' : ']';
      ++pos_;
      while (!Consume(close)) {
        v.items.push_back(ParseValue());
        if (!Consume(',')) {
          Expect(close);
          break;
        }
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = PyValue::Kind::kInt;
      v.integer = ParseInt();
    } else if (ConsumeWord("True")) {
      v.kind = PyValue::Kind::kBool;
      v.boolean = true;
    } else if (ConsumeWord("False")) {
      v.kind = PyValue::Kind::kBool;
    } else if (ConsumeWord("None")) {
      v.kind = PyValue::Kind::kNone;
    } else {
      Malformed("unexpected character '" + std::string(1, c) + "'");
    }
    return v;
  }

  std::string ParseString(char quote) {
    std::string s;
    for (++pos_; pos_ < text_.size() && text_[pos_] != quote; ++pos_) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      s += text_[pos_];
    }
    if (pos_ >= text_.size()) Malformed("unterminated string");
    ++pos_;
    return s;
  }

  int64_t ParseInt() {
    bool negative = Consume('-');
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9') Malformed("bad integer");
    int64_t n = 0;
    for (; pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_) {
      if (n > (INT64_MAX - 9) / 10) Malformed("integer too large");
      n = n * 10 + (text_[pos_] - '0');
    }
    Consume('L');
    return negative ? -n : n;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  void Expect(char c) {
    if (!Consume(c)) Malformed(std::string("expected '") + c + "'");
  }
  [[noreturn]] void Malformed(const std::string& why) {
    Fail(path_, "malformed header (" + why + " at offset " + std::to_string(pos_) + ")");
  }

  std::string_view text_;
  const std::string& path_;
  size_t pos_ = 0;
};

struct Layout {
  size_t rows = 0;
  size_t cols = 0;
  size_t item_size = 0;  // 4 or 8
};

// Checks the parsed header against what fo can load.
Layout CheckHeader(const std::map<std::string, PyValue>& dict, const std::string& path) {
  auto get = [&](const char* key) -> const PyValue& {
    auto it = dict.find(key);
    if (it == dict.end()) Fail(path, std::string("header has no '") + key + "'");
    return it->second;
  };
  const PyValue& descr = get("descr");
  const PyValue& fortran = get("fortran_order");
  const PyValue& shape = get("shape");

  Layout layout;
  if (descr.kind != PyValue::Kind::kString) Fail(path, "structured dtype");
  if (descr.str == "<f4") {
    layout.item_size = 4;
  } else if (descr.str == "<f8") {
    layout.item_size = 8;
  } else if (!descr.str.empty() && descr.str[0] == '>') {
    Fail(path, "big-endian dtype '" + descr.str + "'");
  } else {
    Fail(path, "unsupported dtype '" + descr.str + "'");
  }

  if (fortran.kind != PyValue::Kind::kBool) Fail(path, "'fortran_order' is not True or False");
  if (fortran.boolean) Fail(path, "Fortran-ordered array");

  if (shape.kind != PyValue::Kind::kSequence) Fail(path, "'shape' is not a tuple");
  std::vector<size_t> dims;
  for (const PyValue& d : shape.items) {
    if (d.kind != PyValue::Kind::kInt || d.integer < 0) Fail(path, "'shape' holds something other than sizes");
    dims.push_back(static_cast<size_t>(d.integer));
  }
  if (dims.size() == 1) {
    layout.rows = 1;
    layout.cols = dims[0];
  } else if (dims.size() == 2) {
    layout.rows = dims[0];
    layout.cols = dims[1];
  } else {
    Fail(path, std::to_string(dims.size()) + "-D array");
  }
  return layout;
}

uint32_t ReadLE(const unsigned char* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

Matrix ReadNpy(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) FailIO(path, "cannot open", errno);
  struct stat st;
  if (fstat(fileno(file.get()), &st) != 0) FailIO(path, "cannot stat", errno);
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);

  // Magic, version, and a header length of 2 (v1) or 4 (v2, v3) bytes.
  unsigned char prefix[12];
  size_t got = std::fread(prefix, 1, sizeof(prefix), file.get());
  if (got < kMagicSize || std::memcmp(prefix, kMagic, kMagicSize) != 0) Fail(path, "not a .npy file (bad magic)");
  if (got < 8) Fail(path, "truncated header");
  const int major = prefix[6], minor = prefix[7];
  if (minor != 0 || major < 1 || major > 3) {
    Fail(path, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (got < 8 + len_bytes) Fail(path, "truncated header");
  const uint32_t header_size = ReadLE(prefix + 8, static_cast<int>(len_bytes));
  const uint64_t data_offset = 8 + len_bytes + uint64_t{header_size};
  if (header_size > kMaxHeaderSize || data_offset > file_size) Fail(path, "truncated header");

  std::string header(header_size, '\0');
  if (std::fseek(file.get(), static_cast<long>(8 + len_bytes), SEEK_SET) != 0 ||
      std::fread(header.data(), 1, header_size, file.get()) != header_size) {
    FailIO(path, "cannot read the header", errno);
  }
  const Layout layout = CheckHeader(HeaderParser(header, path).ParseDict(), path);

  // rows * cols * item_size, refusing sizes that overflow.
  const uint64_t count = uint64_t{layout.rows} * layout.cols;
  if (layout.cols != 0 && count / layout.cols != layout.rows) Fail(path, "shape too large");
  if (count > (file_size - data_offset) / layout.item_size) {
    Fail(path, "truncated data (the shape holds " + std::to_string(count) + " values of " +
                   std::to_string(layout.item_size) + " bytes, the file " + std::to_string(file_size - data_offset) +
                   " bytes of data)");
  }

  Matrix matrix(layout.rows, layout.cols);
  float* out = matrix.data();
  if (layout.item_size == 4) {
    if (std::fread(out, 4, count, file.get()) != count) FailIO(path, "cannot read the data", errno);
  } else {
    // float64 goes through a small buffer so the peak memory is the float32
    // matrix, not a float64 copy twice its size.
    std::vector<double> chunk(size_t{1} << 16);
    for (uint64_t done = 0; done < count;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), count - done));
      if (std::fread(chunk.data(), 8, n, file.get()) != n) FailIO(path, "cannot read the data", errno);
      for (size_t i = 0; i < n; ++i) out[done + i] = static_cast<float>(chunk[i]);
      done += n;
    }
  }
  return matrix;
}

void WriteNpy(const Matrix& matrix, const std::string& path) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(matrix.rows()) +
                       ", " + std::to_string(matrix.cols()) + "), }";
  // numpy pads the header with spaces and a newline so the data starts on a
  // 64-byte boundary; readers may rely on that alignment for memory mapping.
  const size_t unpadded = kMagicSize + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  File file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) FailIO(path, "cannot create", errno);
  const unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                    static_cast<unsigned char>(header.size() & 0xFF),
                                    static_cast<unsigned char>(header.size() >> 8)};
  const size_t count = matrix.rows() * matrix.cols();
  if (std::fwrite(prefix, 1, sizeof(prefix), file.get()) != sizeof(prefix) ||
      std::fwrite(header.data(), 1, header.size(), file.get()) != header.size() ||
      std::fwrite(matrix.data(), 4, count, file.get()) != count) {
    int err = errno;
    file.reset();
    FailWrite(path, err);
  }
  // fclose flushes the buffered tail; a full disk shows up only here.
  if (std::fclose(file.release()) != 0) FailWrite(path, errno);
}

}  // namespace fo
