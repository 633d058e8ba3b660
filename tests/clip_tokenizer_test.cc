// Tests for ClipTokenizer against token ids produced by OpenAI's reference
// code (../shared/clip/tokenizer_cases.json, see ../shared/clip/README.md),
// plus the edges of clip.tokenize and of html.unescape.
#include "models/clip_tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fo/error.h"
#include "models/html_unescape.h"
#include "test_support.h"

namespace fo::internal {
namespace {

using fo::testing::SharedDir;

const ClipTokenizer& Tokenizer() {
  // Loading parses 48894 merges; do it once for the whole file.
  static const ClipTokenizer tokenizer = ClipTokenizer::Load(SharedDir() + "/clip/bpe_simple_vocab_16e6.txt.gz");
  return tokenizer;
}

std::string Join(const std::vector<int32_t>& ids) {
  std::ostringstream out;
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? "," : "") << ids[i];
  return out.str();
}

// Runs every case of a reference file; one failure message per wrong case.
void ExpectCasesPass(const std::string& file) {
  const nlohmann::json cases = nlohmann::json::parse(fo::testing::ReadFile(SharedDir() + "/clip/" + file));
  ASSERT_FALSE(cases.empty());
  int failed = 0;
  for (const nlohmann::json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    const std::vector<int32_t> expected = c.at("tokens").get<std::vector<int32_t>>();
    const std::vector<int32_t> actual = Tokenizer().Tokenize(text);
    if (actual != expected) {
      ++failed;
      ADD_FAILURE() << "text: " << nlohmann::json(text).dump() << "\n  expected: " << Join(expected)
                    << "\n  actual:   " << Join(actual);
    }
  }
  EXPECT_EQ(failed, 0) << "of " << cases.size() << " cases in " << file;
}

TEST(ClipTokenizerTest, MatchesReferenceCases) { ExpectCasesPass("tokenizer_cases.json"); }

TEST(ClipTokenizerTest, VocabularyHasCLIPSize) { EXPECT_EQ(Tokenizer().vocab_size(), 49408u); }

TEST(ClipTokenizerTest, EmptyTextIsStartAndEndOnly) {
  std::vector<int32_t> expected(77, 0);
  expected[0] = ClipTokenizer::kStartOfText;
  expected[1] = ClipTokenizer::kEndOfText;
  EXPECT_EQ(Tokenizer().Tokenize(""), expected);
  EXPECT_EQ(Tokenizer().Tokenize(" \t\r\n&#32;"), expected);
  EXPECT_TRUE(Tokenizer().Encode("").empty());
}

TEST(ClipTokenizerTest, KnownWordsAndSpecialTokens) {
  // "a photo of a dog" from the reference: a=320 photo=1125 of=539 dog=1929.
  EXPECT_EQ(Tokenizer().Encode("a photo of a dog"), (std::vector<int32_t>{320, 1125, 539, 320, 1929}));
  EXPECT_EQ(Tokenizer().Encode("<|endoftext|>"), (std::vector<int32_t>{ClipTokenizer::kEndOfText}));
  EXPECT_EQ(Tokenizer().Encode("<|startoftext|>"), (std::vector<int32_t>{ClipTokenizer::kStartOfText}));
  // Cached and uncached calls agree.
  EXPECT_EQ(Tokenizer().Encode("Dog DOG dog"), Tokenizer().Encode("dog dog dog"));
}

TEST(ClipTokenizerTest, TruncatesToContextLengthWithEndToken) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "a ";
  const std::vector<int32_t> ids = Tokenizer().Tokenize(text);
  ASSERT_EQ(ids.size(), 77u);
  EXPECT_EQ(ids.front(), ClipTokenizer::kStartOfText);
  EXPECT_EQ(ids[75], 320);
  EXPECT_EQ(ids.back(), ClipTokenizer::kEndOfText);

  const std::vector<int32_t> short_ids = Tokenizer().Tokenize("a a a a", 4);
  EXPECT_EQ(short_ids, (std::vector<int32_t>{ClipTokenizer::kStartOfText, 320, 320, ClipTokenizer::kEndOfText}));
  EXPECT_EQ(Tokenizer().Tokenize("a a", 4).size(), 4u);  // exactly fits
}

TEST(ClipTokenizerTest, TooLongWithoutTruncateIsInvalidArgument) {
  EXPECT_NO_THROW(Tokenizer().Tokenize("a a", 4, /*truncate=*/false));
  try {
    Tokenizer().Tokenize("a a a", 4, /*truncate=*/false);
    FAIL() << "expected fo::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_THROW(Tokenizer().Tokenize("a", 0), Error);
}

TEST(ClipTokenizerTest, InvalidUtf8IsInvalidArgument) {
  try {
    Tokenizer().Encode("caf\xC3");
    FAIL() << "expected fo::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos) << e.what();
  }
}

TEST(ClipTokenizerTest, MissingVocabularyIsIOError) {
  const std::string path = SharedDir() + "/clip/no_such_vocab.txt.gz";
  try {
    ClipTokenizer::Load(path);
    FAIL() << "expected fo::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIOError);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(ClipTokenizerTest, TruncatedVocabularyIsCorruption) {
  fo::testing::TempDir dir;
  fo::testing::WriteFile(dir.File("vocab.txt"), "#version: 0.2\ni n\nt h\n");
  try {
    ClipTokenizer::Load(dir.File("vocab.txt"));
    FAIL() << "expected fo::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
  }
}

std::string Unescape(const std::u32string& s) {
  std::string out;
  for (char32_t c : HtmlUnescape(s)) {
    // The expectations below are ASCII apart from these, spelled as \u.
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out;
}

// Expected values are Python 3.11's html.unescape on the same input.
TEST(HtmlUnescapeTest, MatchesPython) {
  EXPECT_EQ(Unescape(U"fish &amp; chips"), "fish & chips");
  EXPECT_EQ(Unescape(U"&amp;amp;"), "&amp;");
  EXPECT_EQ(Unescape(U"&lt;3 &quot;q&quot; &#39;s&#39; &#x263A;"), "<3 \"q\" 's' \\u263A");
  EXPECT_EQ(Unescape(U"&ampx &amp &notit; &notin; &hearts;"), "&x & \\u00ACit; \\u2209 \\u2665");
  EXPECT_EQ(Unescape(U"&nosuch; & &; &# &#x; &#xZ"), "&nosuch; & &; &# &#x; &#xZ");
  EXPECT_EQ(Unescape(U"&#0;&#13;&#128;&#x81;&#1;&#xD800;&#1114112;&#99999999999999999999;&#65;"),
            "\\uFFFD\r\\u20AC\\u0081\\uFFFD\\uFFFD\\uFFFDA");
  EXPECT_EQ(Unescape(U"&#xFFFE;&#x10FFFF;&#127;&#x41&#66"), "AB");
  EXPECT_EQ(Unescape(U"&AMP;&Eacute&eacute;"), "&\\u00C9\\u00E9");
}

}  // namespace
}  // namespace fo::internal
