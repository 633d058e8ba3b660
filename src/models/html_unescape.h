// A port of Python's html.unescape (3.11), which CLIP's tokenizer applies
// twice to every caption. Reproducing it exactly, invalid references
// included, matters because any difference changes the token ids.
#ifndef FO_MODELS_HTML_UNESCAPE_H_
#define FO_MODELS_HTML_UNESCAPE_H_

#include <string>

namespace fo::internal {

// Replaces every character reference in `text` as html.unescape does:
// - the 2231 HTML5 named references, with or without ';' where HTML5
//   allows that, and the longest legacy name that prefixes an unknown name
//   ("&ampx" -> "&x");
// - decimal "&#NN;" and hex "&#xHH;" (the ';' optional); 0 and the
//   surrogates or values above U+10FFFF become U+FFFD, 0x80-0x9F are read as
//   windows-1252, and the other non-characters and C0/C1 controls vanish.
// Anything that is not a reference is kept as it is. Works on code points
// because the 32-character limit on names counts characters, not bytes.
std::u32string HtmlUnescape(const std::u32string& text);

}  // namespace fo::internal

#endif  // FO_MODELS_HTML_UNESCAPE_H_
