#include "qdrant/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace fo::internal {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Bytes `c` takes inside a JSON string. The two-character escapes JSON has are
// used where they exist so the output reads like any other JSON encoder's.
size_t EscapedLength(unsigned char c) {
  switch (c) {
    case '"': case '\\': case '\b': case '\f': case '\n': case '\r': case '\t':
      return 2;
    default:
      return c < 0x20 ? 6 : 1;
  }
}

char* WriteEscaped(char* p, unsigned char c) {
  switch (c) {
    case '"': *p++ = '\\'; *p++ = '"'; return p;
    case '\\': *p++ = '\\'; *p++ = '\\'; return p;
    case '\b': *p++ = '\\'; *p++ = 'b'; return p;
    case '\f': *p++ = '\\'; *p++ = 'f'; return p;
    case '\n': *p++ = '\\'; *p++ = 'n'; return p;
    case '\r': *p++ = '\\'; *p++ = 'r'; return p;
    case '\t': *p++ = '\\'; *p++ = 't'; return p;
    default:
      if (c < 0x20) {
        std::memcpy(p, "\\u00", 4);
        p[4] = kHex[c >> 4];
        p[5] = kHex[c & 0xF];
        return p + 6;
      }
      *p++ = static_cast<char>(c);
      return p;
  }
}

// Shortest round-trip form, except that -0 is written "-0.0": parsers read
// "-0" as the integer 0 and the sign would be lost.
char* WriteFloat(char* p, char* limit, float v) {
  if (v == 0.0f && std::signbit(v)) {
    std::memcpy(p, "-0.0", 4);
    return p + 4;
  }
  return std::to_chars(p, limit, v).ptr;
}

size_t UnsignedLength(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// Below this many values per thread, starting a thread costs more than it
// saves (64k floats take a few milliseconds to format).
constexpr size_t kMinValuesPerThread = 1 << 16;
constexpr size_t kMaxThreads = 8;

size_t ChunkCount(size_t rows, size_t cols) {
  const size_t by_size = rows * cols / kMinValuesPerThread;
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max<size_t>(1, std::min({by_size, cores, kMaxThreads, rows}));
}

// Runs part(c, begin, end) over `chunks` contiguous row ranges of [0, rows),
// chunk 0 on the calling thread. An exception from any part is rethrown
// here, after every thread has finished.
template <typename Part>
void RunChunked(size_t rows, size_t chunks, Part part) {
  std::vector<std::exception_ptr> errors(chunks);
  auto guarded = [&](size_t c) {
    try {
      part(c, rows * c / chunks, rows * (c + 1) / chunks);
    } catch (...) {
      errors[c] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  for (size_t c = 1; c < chunks; ++c) {
    try {
      threads.emplace_back(guarded, c);
    } catch (const std::system_error&) {
      guarded(c);  // no thread to be had: do it here
    }
  }
  guarded(0);
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

constexpr size_t kNoBadRow = static_cast<size_t>(-1);

std::optional<size_t> FirstBadRow(const std::vector<size_t>& bad_rows) {
  const size_t first = *std::min_element(bad_rows.begin(), bad_rows.end());
  if (first == kNoBadRow) return std::nullopt;
  return first;
}

}  // namespace

bool IsCanonicalUnsigned(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}

JsonWriter::JsonWriter(size_t size_hint) { buf_.resize(size_hint); }

char* JsonWriter::Reserve(size_t n) {
  if (pos_ + n > buf_.size()) buf_.resize(std::max(buf_.size() * 2, pos_ + n));
  return buf_.data() + pos_;
}

void JsonWriter::Raw(std::string_view s) {
  char* p = Reserve(s.size());
  std::memcpy(p, s.data(), s.size());
  Commit(p + s.size());
}

void JsonWriter::Char(char c) {
  char* p = Reserve(1);
  *p = c;
  Commit(p + 1);
}

void JsonWriter::Unsigned(uint64_t v) {
  char* p = Reserve(20);
  Commit(std::to_chars(p, p + 20, v).ptr);
}

void JsonWriter::String(std::string_view s) {
  char* p = Reserve(s.size() * 6 + 2);
  *p++ = '"';
  for (char c : s) p = WriteEscaped(p, static_cast<unsigned char>(c));
  *p++ = '"';
  Commit(p);
}

void JsonWriter::PointId(std::string_view id) {
  if (IsCanonicalUnsigned(id)) {
    Raw(id);
  } else {
    String(id);
  }
}

bool JsonWriter::FloatArray(std::span<const float> values) {
  // One reservation per array keeps the per-float work to the conversion.
  char* p = Reserve(values.size() * (kMaxFloatChars + 1) + 2);
  char* const limit = p + values.size() * (kMaxFloatChars + 1) + 2;
  *p++ = '[';
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) return false;
    if (i > 0) *p++ = ',';
    p = WriteFloat(p, limit, values[i]);
  }
  *p++ = ']';
  Commit(p);
  return true;
}

std::optional<size_t> JsonWriter::FloatRows(const float* data, size_t rows, size_t cols) {
  // Rows [begin, end) into `w`, comma-separated; the first bad row or kNoBadRow.
  auto write = [&](JsonWriter& w, size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      if (r > begin) w.Char(',');
      if (!w.FloatArray({data + r * cols, cols})) return r;
    }
    return kNoBadRow;
  };
  const size_t chunks = ChunkCount(rows, cols);
  if (chunks == 1) {
    const size_t bad = write(*this, 0, rows);
    return bad == kNoBadRow ? std::nullopt : std::optional<size_t>(bad);
  }
  // Chunk 0 goes straight into this writer, the others into their own
  // buffers, appended in order afterwards.
  std::vector<JsonWriter> parts(chunks);
  std::vector<size_t> bad_rows(chunks, kNoBadRow);
  RunChunked(rows, chunks, [&](size_t c, size_t begin, size_t end) {
    JsonWriter& w = c == 0 ? *this : parts[c];
    if (c > 0) w.Reserve((end - begin) * (cols * (kMaxFloatChars + 1) + 2));
    bad_rows[c] = write(w, begin, end);
  });
  if (auto bad = FirstBadRow(bad_rows)) return bad;
  for (size_t c = 1; c < chunks; ++c) {
    if (parts[c].size() == 0) continue;
    Char(',');
    Raw(std::string_view(parts[c].buf_.data(), parts[c].pos_));
  }
  return std::nullopt;
}

void JsonWriter::Json(const nlohmann::json& value) { Raw(value.dump()); }

std::string JsonWriter::Take() {
  buf_.resize(pos_);
  pos_ = 0;
  return std::move(buf_);
}

void JsonSizeCounter::Unsigned(uint64_t v) { size_ += UnsignedLength(v); }

void JsonSizeCounter::String(std::string_view s) {
  size_ += 2;
  for (char c : s) size_ += EscapedLength(static_cast<unsigned char>(c));
}

void JsonSizeCounter::PointId(std::string_view id) {
  if (IsCanonicalUnsigned(id)) {
    size_ += id.size();
  } else {
    String(id);
  }
}

bool JsonSizeCounter::FloatArray(std::span<const float> values) {
  char scratch[kMaxFloatChars + 1];
  size_ += 2 + (values.empty() ? 0 : values.size() - 1);
  for (float v : values) {
    if (!std::isfinite(v)) return false;
    size_ += static_cast<size_t>(WriteFloat(scratch, scratch + sizeof(scratch), v) - scratch);
  }
  return true;
}

std::optional<size_t> JsonSizeCounter::FloatRows(const float* data, size_t rows, size_t cols) {
  // Same chunks as JsonWriter::FloatRows, so the cost is split the same way.
  const size_t chunks = ChunkCount(rows, cols);
  std::vector<size_t> sizes(chunks, 0);
  std::vector<size_t> bad_rows(chunks, kNoBadRow);
  RunChunked(rows, chunks, [&](size_t c, size_t begin, size_t end) {
    JsonSizeCounter counter;
    for (size_t r = begin; r < end; ++r) {
      if (!counter.FloatArray({data + r * cols, cols})) {
        bad_rows[c] = r;
        return;
      }
    }
    sizes[c] = counter.size();
  });
  if (auto bad = FirstBadRow(bad_rows)) return bad;
  // The arrays plus one comma between consecutive rows.
  for (size_t s : sizes) size_ += s;
  if (rows > 1) size_ += rows - 1;
  return std::nullopt;
}

}  // namespace fo::internal
