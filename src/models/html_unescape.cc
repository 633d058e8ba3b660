#include "models/html_unescape.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace fo::internal {
namespace {

struct Entity {
  std::string_view name;
  std::u32string_view value;
};

constexpr Entity kEntities[] = {
#include "models/html_entities.inc"
};

const Entity* FindEntity(std::string_view name) {
  auto it = std::lower_bound(std::begin(kEntities), std::end(kEntities), name,
                             [](const Entity& e, std::string_view n) { return e.name < n; });
  return it != std::end(kEntities) && it->name == name ? it : nullptr;
}

// Python's _invalid_charrefs for 0x80-0x9F: the windows-1252 reading that
// browsers apply, with the five bytes cp1252 leaves undefined kept as-is.
constexpr char32_t kWindows1252[32] = {
    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
    0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};

bool IsInvalidCodepoint(uint32_t c) {
  return (c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) ||
         (c >= 0x7F && c <= 0x9F) || (c >= 0xFDD0 && c <= 0xFDEF) ||
         (c & 0xFFFE) == 0xFFFE;
}

void AppendNumericReference(uint32_t num, std::u32string& out) {
  if (num == 0) {
    out += U'\uFFFD';
  } else if (num == 0x0D) {
    out += U'\r';
  } else if (num >= 0x80 && num <= 0x9F) {
    out += kWindows1252[num - 0x80];
  } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out += U'\uFFFD';
  } else if (!IsInvalidCodepoint(num)) {
    out += static_cast<char32_t>(num);
  }
}

int HexValue(char32_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses "#NN;?" or "#xHH;?" at text[i] (just after '&'). Returns the index
// after the reference, or i when there is none.
size_t ParseNumeric(const std::u32string& text, size_t i, std::u32string& out) {
  size_t j = i + 1;
  int base = 10;
  if (j < text.size() && (text[j] == 'x' || text[j] == 'X')) {
    base = 16;
    ++j;
  }
  size_t digits_begin = j;
  uint64_t num = 0;
  for (; j < text.size(); ++j) {
    int d = base == 16 ? HexValue(text[j]) : (text[j] >= '0' && text[j] <= '9' ? int(text[j] - '0') : -1);
    if (d < 0) break;
    // Saturate: any value above U+10FFFF maps to U+FFFD anyway.
    num = std::min<uint64_t>(num * base + d, 0x110000);
  }
  if (j == digits_begin) return i;
  if (j < text.size() && text[j] == ';') ++j;
  AppendNumericReference(static_cast<uint32_t>(num), out);
  return j;
}

bool IsNameChar(char32_t c) {
  return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';';
}

// Parses a named reference at text[i] (just after '&'); same contract as
// ParseNumeric. An unknown name is consumed and copied as it is, as Python
// does, so that scanning resumes after it.
size_t ParseNamed(const std::u32string& text, size_t i, std::u32string& out) {
  size_t j = i;
  while (j < text.size() && j - i < 32 && IsNameChar(text[j])) ++j;
  if (j == i) return i;
  if (j < text.size() && text[j] == ';') ++j;
  // Entity names are ASCII; a name with other characters can only match
  // through an ASCII prefix, so stop the lookup key at the first one.
  std::string key;
  for (size_t k = i; k < j && text[k] < 0x80; ++k) key += static_cast<char>(text[k]);
  const size_t length = j - i;
  if (key.size() == length) {
    if (const Entity* entity = FindEntity(key)) {
      out += entity->value;
      return j;
    }
  }
  // The longest prefix (at least 2 characters) that names a legacy entity.
  for (size_t x = std::min(length - 1, key.size()); x >= 2; --x) {
    if (const Entity* entity = FindEntity(std::string_view(key).substr(0, x))) {
      out += entity->value;
      out.append(text, i + x, length - x);
      return j;
    }
  }
  out += U'&';
  out.append(text, i, length);
  return j;
}

}  // namespace

std::u32string HtmlUnescape(const std::u32string& text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] != U'&') {
      out += text[i++];
      continue;
    }
    size_t next = i + 1;
    if (next < text.size() && text[next] == U'#') {
      next = ParseNumeric(text, i + 1, out);
    } else {
      next = ParseNamed(text, i + 1, out);
    }
    if (next == i + 1) out += text[i];  // not a reference: keep the '&'
    i = next;
  }
  return out;
}

}  // namespace fo::internal
