// Writing JSON request bodies straight into a string, for the bodies that
// carry vectors (an upsert of 1000 x 512 floats is ~5 MB): building an
// nlohmann tree first would cost an allocation per float. Floats are written
// in the shortest form that reads back as the same float32 (std::to_chars).
//
// JsonSizeCounter has the same interface and only adds up lengths, so a body
// generator templated on the writer gives the exact size of the body it would
// write (QdrantClient::UpsertBodySize) from the same code path.
#ifndef FO_QDRANT_JSON_WRITER_H_
#define FO_QDRANT_JSON_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fo::internal {

// The longest float32 as written: "-1.17549435e-38" is 15 chars.
inline constexpr size_t kMaxFloatChars = 15;

// True for the decimal form of a uint64 as JSON writes numbers (no sign, no
// leading zero): such a point id is sent as a JSON number, since Qdrant
// rejects "42" as a string id.
bool IsCanonicalUnsigned(std::string_view s);

class JsonWriter {
 public:
  // `size_hint`: bytes to allocate up front (the body grows past it if needed).
  explicit JsonWriter(size_t size_hint = 0);

  void Raw(std::string_view s);
  void Char(char c);
  void Bool(bool b) { Raw(b ? "true" : "false"); }
  void Unsigned(uint64_t v);
  // A quoted string; '"', '\\' and control characters escaped, other bytes
  // passed through (the input is expected to be UTF-8).
  void String(std::string_view s);
  // A point id: a number if IsCanonicalUnsigned, else a string.
  void PointId(std::string_view id);
  // "[v0,v1,...]". Returns false, leaving the output unspecified, if a value
  // is NaN or infinite (JSON has no spelling for them).
  bool FloatArray(std::span<const float> values);
  // "[row0],[row1],..." for a row-major rows x cols block. Large blocks are
  // formatted on several threads (float formatting is most of an upsert's
  // serialisation cost). Returns the first row holding a NaN or infinite
  // value, leaving the output unspecified, or nullopt.
  std::optional<size_t> FloatRows(const float* data, size_t rows, size_t cols);
  // Any JSON value, compactly. Throws nlohmann::json::type_error for strings
  // that are not valid UTF-8.
  void Json(const nlohmann::json& value);

  size_t size() const { return pos_; }
  // The text written so far; the writer is empty afterwards.
  std::string Take();

 private:
  // A pointer to at least n writable bytes at the end of the output.
  char* Reserve(size_t n);
  void Commit(const char* end) { pos_ = static_cast<size_t>(end - buf_.data()); }

  std::string buf_;  // [0, pos_) is the output; the rest is scratch space
  size_t pos_ = 0;
};

class JsonSizeCounter {
 public:
  void Raw(std::string_view s) { size_ += s.size(); }
  void Char(char) { ++size_; }
  void Bool(bool b) { size_ += b ? 4 : 5; }
  void Unsigned(uint64_t v);
  void String(std::string_view s);
  void PointId(std::string_view id);
  bool FloatArray(std::span<const float> values);
  std::optional<size_t> FloatRows(const float* data, size_t rows, size_t cols);
  void Json(const nlohmann::json& value) { size_ += value.dump().size(); }

  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

}  // namespace fo::internal

#endif  // FO_QDRANT_JSON_WRITER_H_
