// ClipTokenizer: OpenAI CLIP's text tokenizer (simple_tokenizer.py and
// clip.tokenize from openai/CLIP), giving the same token ids as the
// reference for the same text.
//
// Pipeline, as in the reference: html.unescape twice, strip, collapse runs of
// Unicode whitespace to one space, strip, Python-style full lower-casing
// (ICU root locale: "İ" becomes "i" + U+0307, final sigma becomes "ς"), split
// with CLIP's regex (letter runs, single digits, punctuation runs, English
// contractions and the two special tokens), then byte-level BPE on each
// piece's UTF-8 bytes.
//
// Deviation: the reference runs ftfy.fix_text first. This port does not, so
// texts that ftfy would change (curly quotes, ligatures, fullwidth forms,
// decomposed accents, mojibake, triple-escaped entities, terminal escapes)
// can give different ids.
//
// Thread-safety: a loaded tokenizer is immutable apart from its BPE cache,
// which is guarded by a mutex, so Encode and Tokenize may be called from
// several threads at once.
#ifndef FO_MODELS_CLIP_TOKENIZER_H_
#define FO_MODELS_CLIP_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace fo::internal {

class ClipTokenizer {
 public:
  static constexpr int32_t kStartOfText = 49406;
  static constexpr int32_t kEndOfText = 49407;
  static constexpr size_t kContextLength = 77;

  // Reads CLIP's merges list (bpe_simple_vocab_16e6.txt.gz; a plain,
  // uncompressed copy also works). Throws fo::Error: kIOError if the file
  // cannot be read, kCorruption if it has fewer than 48894 merges after the
  // header line or a malformed one.
  static ClipTokenizer Load(const std::string& bpe_gz_path);

  // The BPE ids of `text` (UTF-8), without start and end tokens. A literal
  // "<|startoftext|>" or "<|endoftext|>" in the text becomes its special id,
  // as in the reference. Throws fo::Error(kInvalidArgument) on invalid UTF-8.
  std::vector<int32_t> Encode(const std::string& text) const;

  // clip.tokenize for one text: [kStartOfText] + Encode(text) + [kEndOfText],
  // padded with 0 to exactly `context_length` ids. A longer sequence is cut
  // to context_length with kEndOfText as its last id when `truncate`, and is
  // an InvalidArgument error otherwise (also when context_length is 0).
  std::vector<int32_t> Tokenize(const std::string& text, size_t context_length = kContextLength,
                                bool truncate = true) const;

  // Number of ids: 49408 for CLIP's vocabulary.
  size_t vocab_size() const { return encoder_.size(); }

 private:
  struct Cache;

  ClipTokenizer();
  // The ids of one pre-token, given as its byte-to-unicode string.
  std::vector<int32_t> Bpe(const std::string& token) const;

  std::string byte_encoder_[256];                        // byte -> its UTF-8 symbol
  std::unordered_map<std::string, int32_t> encoder_;     // symbol -> id
  std::unordered_map<std::string, int32_t> bpe_ranks_;   // "first second" -> merge rank
  std::shared_ptr<Cache> cache_;                         // word -> ids; shared by copies
};

}  // namespace fo::internal

#endif  // FO_MODELS_CLIP_TOKENIZER_H_
