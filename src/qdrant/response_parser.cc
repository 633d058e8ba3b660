#include "qdrant/response_parser.h"

#include <charconv>
#include <cstring>
#include <string>

namespace fo::internal {
namespace {

using nlohmann::json;

// Marks a json::binary as a reference into ParsedResponse::vectors.
constexpr std::uint8_t kVectorRefSubtype = 0x76;
constexpr int kMaxDepth = 512;

// Where a value sits in a Qdrant response, as far as finding records goes.
enum class Context {
  kOther,
  kTop,      // the document
  kResult,   // the envelope's "result"
  kPoints,   // result."points" (scroll, query)
  kRecord,   // an element of a records array
};

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<std::vector<float>>& vectors)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), vectors_(vectors) {}

  json ParseDocument() {
    SkipSpace();
    json value = ParseValue(Context::kTop, 0);
    SkipSpace();
    if (p_ != end_) Fail("unexpected text after the document");
    return value;
  }

 private:
  // A number token's extent and kind, checked against JSON's grammar
  // (std::from_chars alone would also take "inf", "nan" and leading '+').
  struct NumberToken {
    const char* begin;
    const char* end;
    bool integer;  // no fraction, no exponent
  };

  [[noreturn]] void Fail(const std::string& what) const {
    throw JsonParseError(what, static_cast<size_t>(p_ - begin_));
  }

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  void Expect(char c) {
    if (p_ == end_ || *p_ != c) Fail(std::string("expected '") + c + "'");
    ++p_;
  }

  json ParseValue(Context context, int depth) {
    if (p_ == end_) Fail("unexpected end of input");
    switch (*p_) {
      case '{': return ParseObject(context, depth + 1);
      case '[': return ParseArray(context, depth + 1);
      case '"': return ParseString();
      case 't': return ParseLiteral("true", true);
      case 'f': return ParseLiteral("false", false);
      case 'n': return ParseLiteral("null", nullptr);
      default: return ParseNumber();
    }
  }

  json ParseLiteral(std::string_view word, json value) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      Fail("invalid literal");
    }
    p_ += word.size();
    return value;
  }

  json ParseObject(Context context, int depth) {
    if (depth > kMaxDepth) Fail("nesting too deep");
    ++p_;  // '{'
    json object(json::value_t::object);
    auto& members = object.get_ref<json::object_t&>();
    SkipSpace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return object;
    }
    for (;;) {
      SkipSpace();
      if (p_ == end_ || *p_ != '"') Fail("expected a member name");
      std::string key = ParseRawString();
      SkipSpace();
      Expect(':');
      SkipSpace();
      json value;
      if (context == Context::kRecord && key == "vector" && p_ != end_ && *p_ == '[') {
        value = ParseRecordVector(depth);
      } else {
        Context child = Context::kOther;
        if (context == Context::kTop && key == "result") child = Context::kResult;
        if (context == Context::kResult && key == "points") child = Context::kPoints;
        value = ParseValue(child, depth);
      }
      members[std::move(key)] = std::move(value);  // a repeated name: the last wins, as in nlohmann
      SkipSpace();
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      Expect('}');
      return object;
    }
  }

  json ParseArray(Context context, int depth) {
    if (depth > kMaxDepth) Fail("nesting too deep");
    ++p_;  // '['
    const Context child = context == Context::kResult || context == Context::kPoints ? Context::kRecord
                                                                                      : Context::kOther;
    json array(json::value_t::array);
    auto& elements = array.get_ref<json::array_t&>();
    SkipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return array;
    }
    for (;;) {
      SkipSpace();
      elements.push_back(ParseValue(child, depth));
      SkipSpace();
      if (p_ != end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      Expect(']');
      return array;
    }
  }

  // A record's "vector": a flat array of numbers goes to `vectors_` and is
  // replaced by a reference; any other shape (named, multi or sparse
  // vectors) is parsed as ordinary JSON.
  json ParseRecordVector(int depth) {
    const char* const start = p_;
    ++p_;  // '['
    std::vector<float> values;
    SkipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
    } else {
      for (;;) {
        SkipSpace();
        if (p_ == end_ || !(*p_ == '-' || (*p_ >= '0' && *p_ <= '9'))) {
          p_ = start;
          return ParseValue(Context::kOther, depth);
        }
        const NumberToken token = ScanNumber();
        float v;
        const auto [end, ec] = std::from_chars(token.begin, token.end, v);
        if (ec != std::errc() || end != token.end) Fail("a vector value is out of float range");
        values.push_back(v);
        SkipSpace();
        if (p_ != end_ && *p_ == ',') {
          ++p_;
          continue;
        }
        Expect(']');
        break;
      }
    }
    const uint64_t index = vectors_.size();
    vectors_.push_back(std::move(values));
    std::vector<std::uint8_t> bytes(sizeof(index));
    std::memcpy(bytes.data(), &index, sizeof(index));
    return json::binary(std::move(bytes), kVectorRefSubtype);
  }

  NumberToken ScanNumber() {
    NumberToken token{p_, p_, true};
    auto digits = [&] {
      const char* start = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      return p_ != start;
    };
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ != end_ && *p_ == '0') {
      ++p_;
    } else if (!digits()) {
      Fail("invalid value");
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      token.integer = false;
      if (!digits()) Fail("invalid number: no digits after '.'");
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      token.integer = false;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) Fail("invalid number: no exponent digits");
    }
    token.end = p_;
    return token;
  }

  json ParseNumber() {
    const NumberToken token = ScanNumber();
    if (token.integer) {
      if (*token.begin != '-') {
        uint64_t u;
        auto [end, ec] = std::from_chars(token.begin, token.end, u);
        if (ec == std::errc() && end == token.end) return u;
      } else {
        int64_t i;
        auto [end, ec] = std::from_chars(token.begin, token.end, i);
        if (ec == std::errc() && end == token.end) return i;
      }
      // Too large for 64 bits: a double, as nlohmann makes it.
    }
    double d;
    auto [end, ec] = std::from_chars(token.begin, token.end, d);
    if (ec != std::errc() || end != token.end) Fail("number out of range");
    return d;
  }

  json ParseString() { return ParseRawString(); }

  uint32_t ParseHex4() {
    if (end_ - p_ < 4) Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        Fail("invalid \\u escape");
      }
    }
    return v;
  }

  std::string ParseRawString() {
    ++p_;  // '"'
    std::string out;
    for (;;) {
      const char* run = p_;
      while (p_ != end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
      out.append(run, p_);
      if (p_ == end_) Fail("unterminated string");
      if (*p_ == '"') {
        ++p_;
        return out;
      }
      if (*p_ != '\\') Fail("control character in a string");
      ++p_;
      if (p_ == end_) Fail("unterminated string");
      switch (*p_++) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = ParseHex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') Fail("unpaired surrogate");
            p_ += 2;
            const uint32_t low = ParseHex4();
            if (low < 0xDC00 || low > 0xDFFF) Fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            Fail("unpaired surrogate");
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          Fail("invalid escape");
      }
    }
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
  std::vector<std::vector<float>>& vectors_;
};

}  // namespace

JsonParseError::JsonParseError(const std::string& what, size_t offset)
    : std::runtime_error(what + " at byte " + std::to_string(offset)), offset_(offset) {}

std::optional<size_t> ParsedResponse::VectorRef(const json& value) {
  if (!value.is_binary()) return std::nullopt;
  const json::binary_t& b = value.get_binary();
  if (!b.has_subtype() || b.subtype() != kVectorRefSubtype || b.size() != sizeof(uint64_t)) return std::nullopt;
  uint64_t index;
  std::memcpy(&index, b.data(), sizeof(index));
  return static_cast<size_t>(index);
}

ParsedResponse ParseResponseWithVectors(std::string_view text) {
  ParsedResponse response;
  Parser parser(text, response.vectors);
  response.doc = parser.ParseDocument();
  return response;
}

}  // namespace fo::internal
