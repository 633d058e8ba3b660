#include "models/clip_tokenizer.h"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>
#include <zlib.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <mutex>
#include <string_view>

#include "fo/error.h"
#include "models/html_unescape.h"

namespace fo::internal {
namespace {

// Merges used by CLIP: lines 1..48894 of the file (line 0 is a header), so
// that the vocabulary is exactly 49408 = 2 * 256 + 48894 + 2 ids.
constexpr size_t kNumMerges = 49152 - 256 - 2;
constexpr std::string_view kEndOfWord = "</w>";
constexpr std::u32string_view kSpecialTokens[] = {U"<|startoftext|>", U"<|endoftext|>"};

std::string ReadGzipFile(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw IOError("cannot open CLIP BPE vocabulary '" + path + "': " + std::strerror(errno));
  }
  std::string data;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0) data.append(buffer, n);
  int err = Z_OK;
  std::string message = n < 0 ? gzerror(file, &err) : "";
  gzclose(file);
  if (n < 0) throw IOError("cannot read CLIP BPE vocabulary '" + path + "': " + message);
  return data;
}

void AppendUtf8(char32_t c, std::string& out) {
  char buf[U8_MAX_LENGTH];
  int32_t len = 0;
  U8_APPEND_UNSAFE(buf, len, static_cast<UChar32>(c));
  out.append(buf, len);
}

std::u32string DecodeUtf8(const std::string& text) {
  if (text.size() > static_cast<size_t>(INT32_MAX)) throw InvalidArgument("text too long to tokenize");
  const int32_t length = static_cast<int32_t>(text.size());
  std::u32string out;
  out.reserve(text.size());
  for (int32_t i = 0; i < length;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(text.data(), i, length, c);
    if (c < 0) {
      throw InvalidArgument("text to tokenize is not valid UTF-8 (at byte " + std::to_string(start) + ")");
    }
    out += static_cast<char32_t>(c);
  }
  return out;
}

// The `regex` module's \s: the Unicode White_Space property.
bool IsRegexSpace(char32_t c) { return u_isUWhiteSpace(static_cast<UChar32>(c)); }

// Python's str.isspace, used by str.strip: White_Space plus the separators
// U+001C..U+001F (bidi class B/S), which \s does not match.
bool IsPythonSpace(char32_t c) { return IsRegexSpace(c) || (c >= 0x1C && c <= 0x1F); }

bool IsLetter(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_L_MASK) != 0; }
bool IsNumber(char32_t c) { return (U_GET_GC_MASK(static_cast<UChar32>(c)) & U_GC_N_MASK) != 0; }

std::u32string Strip(const std::u32string& s) {
  size_t begin = 0, end = s.size();
  while (begin < end && IsPythonSpace(s[begin])) ++begin;
  while (end > begin && IsPythonSpace(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

std::u32string CollapseWhitespace(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (!IsRegexSpace(s[i])) {
      out += s[i++];
      continue;
    }
    while (i < s.size() && IsRegexSpace(s[i])) ++i;
    out += U' ';
  }
  return out;
}

// Python's str.lower: full (not simple) lower-casing with the final-sigma
// rule and no locale, which is ICU's root-locale toLower.
std::u32string Lower(const std::u32string& s) {
  icu::UnicodeString u =
      icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(s.data()), static_cast<int32_t>(s.size()));
  u.toLower(icu::Locale::getRoot());
  std::u32string out(u.length(), U'\0');  // UTF-32 never needs more units than UTF-16
  UErrorCode status = U_ZERO_ERROR;
  int32_t n = u.toUTF32(reinterpret_cast<UChar32*>(out.data()), static_cast<int32_t>(out.size()), status);
  if (U_FAILURE(status)) throw Internal(std::string("ICU lower-casing failed: ") + u_errorName(status));
  out.resize(n);
  return out;
}

// Length of the contraction ('s 't 're 've 'm 'll 'd) at s[i], or 0. The
// reference matches case-insensitively; after lower-casing that only still
// matters for U+017F (long s), which case-folds to 's'.
size_t ContractionLength(const std::u32string& s, size_t i) {
  if (s[i] != U'\'' || i + 1 >= s.size()) return 0;
  char32_t a = s[i + 1];
  if (a == U's' || a == U'\u017F' || a == U't' || a == U'm' || a == U'd') return 2;
  char32_t b = i + 2 < s.size() ? s[i + 2] : 0;
  if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
  return 0;
}

// CLIP's pre-tokenising regex, `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|
// 've|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`, as findall would run it:
// at each position the first alternative that matches wins; whitespace that
// no alternative matches is skipped.
std::vector<std::u32string> PreTokenize(const std::u32string& s) {
  std::vector<std::u32string> tokens;
  for (size_t i = 0; i < s.size();) {
    size_t n = 0;
    for (std::u32string_view special : kSpecialTokens) {
      if (std::u32string_view(s).substr(i, special.size()) == special) n = special.size();
    }
    if (n == 0) n = ContractionLength(s, i);
    if (n == 0 && IsLetter(s[i])) {
      while (i + n < s.size() && IsLetter(s[i + n])) ++n;
    }
    if (n == 0 && IsNumber(s[i])) n = 1;
    if (n == 0 && !IsRegexSpace(s[i])) {
      auto other = [](char32_t c) { return !IsRegexSpace(c) && !IsLetter(c) && !IsNumber(c); };
      while (i + n < s.size() && other(s[i + n])) ++n;
    }
    if (n == 0) {
      ++i;
      continue;
    }
    tokens.push_back(s.substr(i, n));
    i += n;
  }
  return tokens;
}

}  // namespace

struct ClipTokenizer::Cache {
  std::mutex mu;
  std::unordered_map<std::string, std::vector<int32_t>> ids;  // unbounded, as in the reference
};

ClipTokenizer::ClipTokenizer() : cache_(std::make_shared<Cache>()) {}

ClipTokenizer ClipTokenizer::Load(const std::string& bpe_gz_path) {
  const std::string data = ReadGzipFile(bpe_gz_path);
  ClipTokenizer tok;

  // GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves,
  // the others for U+0100 onwards. Its order (printable bytes first) is the
  // order of the first 256 ids.
  std::vector<std::string> vocab;
  std::vector<bool> printable(256, false);
  for (int b = 0; b < 256; ++b) {
    printable[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  }
  int next_extra = 0;
  std::vector<int> order;
  for (int b = 0; b < 256; ++b) if (printable[b]) order.push_back(b);
  for (int b = 0; b < 256; ++b) if (!printable[b]) order.push_back(b);
  for (int b : order) {
    char32_t c = printable[b] ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + next_extra++);
    AppendUtf8(c, tok.byte_encoder_[b]);
    vocab.push_back(tok.byte_encoder_[b]);
  }
  for (int i = 0; i < 256; ++i) vocab.push_back(vocab[i] + std::string(kEndOfWord));

  size_t line_start = data.find('\n');  // skip the header line
  for (size_t rank = 0; rank < kNumMerges; ++rank) {
    if (line_start == std::string::npos) {
      throw Corruption("CLIP BPE vocabulary '" + bpe_gz_path + "' has " + std::to_string(rank) +
                       " merges, expected at least " + std::to_string(kNumMerges));
    }
    ++line_start;
    size_t line_end = data.find('\n', line_start);
    std::string line = data.substr(line_start, line_end == std::string::npos ? std::string::npos
                                                                             : line_end - line_start);
    size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos) {
      throw Corruption("CLIP BPE vocabulary '" + bpe_gz_path + "': malformed merge on line " +
                       std::to_string(rank + 2) + ": '" + line + "'");
    }
    tok.bpe_ranks_.emplace(line, static_cast<int32_t>(rank));
    vocab.push_back(line.substr(0, space) + line.substr(space + 1));
    line_start = line_end;
  }
  vocab.emplace_back("<|startoftext|>");
  vocab.emplace_back("<|endoftext|>");
  for (size_t i = 0; i < vocab.size(); ++i) tok.encoder_.emplace(vocab[i], static_cast<int32_t>(i));
  return tok;
}

std::vector<int32_t> ClipTokenizer::Bpe(const std::string& token) const {
  {
    std::lock_guard<std::mutex> lock(cache_->mu);
    auto it = cache_->ids.find(token);
    if (it != cache_->ids.end()) return it->second;
  }
  std::vector<int32_t> ids;
  if (token == "<|startoftext|>" || token == "<|endoftext|>") {
    ids.push_back(encoder_.at(token));
  } else {
    // One symbol per byte (each a 1-2 byte UTF-8 string); the last carries </w>.
    std::vector<std::string> word;
    for (size_t i = 0; i < token.size();) {
      size_t len = (static_cast<unsigned char>(token[i]) < 0x80) ? 1 : 2;
      word.push_back(token.substr(i, len));
      i += len;
    }
    word.back() += kEndOfWord;
    // Repeatedly merge every occurrence of the best-ranked adjacent pair,
    // left to right, until no adjacent pair is a known merge.
    while (word.size() > 1) {
      int32_t best_rank = std::numeric_limits<int32_t>::max();
      std::string best;
      for (size_t i = 0; i + 1 < word.size(); ++i) {
        auto it = bpe_ranks_.find(word[i] + ' ' + word[i + 1]);
        if (it != bpe_ranks_.end() && it->second < best_rank) {
          best_rank = it->second;
          best = it->first;
        }
      }
      if (best.empty()) break;
      const size_t space = best.find(' ');
      const std::string_view first = std::string_view(best).substr(0, space);
      const std::string_view second = std::string_view(best).substr(space + 1);
      std::vector<std::string> merged;
      for (size_t i = 0; i < word.size();) {
        if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
          merged.push_back(word[i] + word[i + 1]);
          i += 2;
        } else {
          merged.push_back(std::move(word[i++]));
        }
      }
      word = std::move(merged);
    }
    for (const std::string& symbol : word) ids.push_back(encoder_.at(symbol));
  }
  std::lock_guard<std::mutex> lock(cache_->mu);
  cache_->ids.emplace(token, ids);
  return ids;
}

std::vector<int32_t> ClipTokenizer::Encode(const std::string& text) const {
  std::u32string s = DecodeUtf8(text);
  s = Strip(HtmlUnescape(HtmlUnescape(s)));
  s = Lower(Strip(CollapseWhitespace(s)));
  std::vector<int32_t> ids;
  for (const std::u32string& piece : PreTokenize(s)) {
    std::string utf8;
    for (char32_t c : piece) AppendUtf8(c, utf8);
    std::string token;
    for (unsigned char b : utf8) token += byte_encoder_[b];
    std::vector<int32_t> piece_ids = Bpe(token);
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
  }
  return ids;
}

std::vector<int32_t> ClipTokenizer::Tokenize(const std::string& text, size_t context_length,
                                             bool truncate) const {
  if (context_length == 0) throw InvalidArgument("CLIP context length must be positive");
  std::vector<int32_t> ids{kStartOfText};
  std::vector<int32_t> body = Encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(kEndOfText);
  if (ids.size() > context_length) {
    if (!truncate) {
      throw InvalidArgument("text is too long for context length " + std::to_string(context_length) +
                            " (" + std::to_string(ids.size()) + " tokens)");
    }
    ids.resize(context_length);
    ids.back() = kEndOfText;
  }
  ids.resize(context_length, 0);
  return ids;
}

}  // namespace fo::internal
