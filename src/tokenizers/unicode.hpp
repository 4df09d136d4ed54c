#pragma once
// Internal Unicode helpers (UTF-8 decoding/encoding, character classes as the Rust standard library defines them).
#include <cstdint>
#include <string>
#include <string_view>

namespace ortformers::tokenizers::unicode {

// Decodes the code point at byte `pos` of a valid UTF-8 string; `len` receives its byte length.
inline char32_t decode(std::string_view s, std::size_t pos, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) {
    len = 1;
    return c;
  }
  if ((c >> 5) == 0x6) {
    len = 2;
    return ((c & 0x1F) << 6) | (static_cast<unsigned char>(s[pos + 1]) & 0x3F);
  }
  if ((c >> 4) == 0xE) {
    len = 3;
    return ((c & 0x0F) << 12) | ((static_cast<unsigned char>(s[pos + 1]) & 0x3F) << 6) |
           (static_cast<unsigned char>(s[pos + 2]) & 0x3F);
  }
  len = 4;
  return ((c & 0x07) << 18) | ((static_cast<unsigned char>(s[pos + 1]) & 0x3F) << 12) |
         ((static_cast<unsigned char>(s[pos + 2]) & 0x3F) << 6) | (static_cast<unsigned char>(s[pos + 3]) & 0x3F);
}
inline std::size_t utf8_len(char32_t c) {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}
inline std::size_t lead_len(unsigned char c) {
  return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
}
void append_utf8(std::string& out, char32_t c);
std::string to_utf8(char32_t c);
std::size_t count_chars(std::string_view s);
// Byte offset of the first invalid UTF-8 sequence, or npos when valid.
std::size_t find_invalid_utf8(std::string_view s);
// String::from_utf8_lossy: invalid sequences become U+FFFD (one per maximal invalid subpart).
std::string from_utf8_lossy(std::string_view bytes);

enum class Category : std::uint8_t {
  Cn,
  Lu,
  Ll,
  Lt,
  Lm,
  Lo,
  Mn,
  Mc,
  Me,
  Nd,
  Nl,
  No,
  Pc,
  Pd,
  Ps,
  Pe,
  Pi,
  Pf,
  Po,
  Sm,
  Sc,
  Sk,
  So,
  Zs,
  Zl,
  Zp,
  Cc,
  Cf,
  Cs,
  Co
};
Category category(char32_t c);

bool is_whitespace(char32_t c);  // Rust char::is_whitespace (White_Space property)
inline bool is_letter(Category k) {
  return k >= Category::Lu && k <= Category::Lo;
}
inline bool is_mark(Category k) {
  return k >= Category::Mn && k <= Category::Me;
}
inline bool is_number(Category k) {
  return k >= Category::Nd && k <= Category::No;
}
inline bool is_punctuation(Category k) {
  return k >= Category::Pc && k <= Category::Po;
}
bool is_alphabetic(char32_t c);    // Rust char::is_alphabetic (approximation: L, Nl, Other_Alphabetic marks)
bool is_alphanumeric(char32_t c);  // Rust char::is_alphanumeric
bool is_numeric(char32_t c);       // Rust char::is_numeric (Nd, Nl, No; the Rust std's Unicode version)
// The classes below are the Rust library's, code point for code point (tests/tokenizers/unicode_classes_test.cpp):
// its crates carry other Unicode versions than utf8proc, so they come from tables generated from the library
// (src/tokenizers/unicode_rust_data.inc, tools/unicode_table/generate.js).
bool is_word_char(char32_t c);              // Oniguruma \w, as the Whitespace pre-tokenizer's regex sees it
bool is_bert_punctuation(char32_t c);       // ASCII punctuation or unicode_categories' P* (BertPreTokenizer)
bool is_removed_by_clean_text(char32_t c);  // NUL, U+FFFD and unicode_categories' Cc/Cf/Co (not Cn) but \t\n\r
bool is_combining_mark(char32_t c);         // unicode-normalization's is_combining_mark (StripAccents)
bool is_bert_nonspacing_mark(char32_t c);   // unicode_categories' Mn (BertNormalizer strip_accents, after NFD)
bool is_chinese_char(char32_t c);
// Rust char::to_lowercase (full mapping): appends to out, returns the number of chars appended.
int to_lowercase(char32_t c, char32_t out[3]);
int to_uppercase(char32_t c, char32_t out[3]);

}  // namespace ortformers::tokenizers::unicode
