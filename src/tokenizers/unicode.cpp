#include "tokenizers/unicode.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>

namespace ortformers::tokenizers::unicode {

namespace {
struct Range {
  char32_t first, last;
};
struct LowercaseMapping {
  char32_t c;
  int n;
  char32_t out[3];
};
// The Rust library's character data, where its crates' Unicode versions differ from utf8proc's.
#include "tokenizers/unicode_rust_data.inc"

template <std::size_t N>
bool in_ranges(const Range (&table)[N], char32_t c) {
  const auto it =
      std::upper_bound(std::begin(table), std::end(table), c, [](char32_t x, const Range& r) { return x < r.first; });
  return it != std::begin(table) && c <= std::prev(it)->last;
}
}  // namespace

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string to_utf8(char32_t c) {
  std::string s;
  append_utf8(s, c);
  return s;
}

std::size_t count_chars(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Length of the valid sequence at `i`, or 0 when invalid; `bad` receives the maximal invalid subpart length.
static std::size_t valid_seq(std::string_view s, std::size_t i, std::size_t& bad) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  bad = 1;
  if (c < 0x80) return 1;
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    need = 1;
  else if (c == 0xE0)
    need = 2, lo = 0xA0;
  else if (c >= 0xE1 && c <= 0xEC)
    need = 2;
  else if (c == 0xED)
    need = 2, hi = 0x9F;
  else if (c >= 0xEE && c <= 0xEF)
    need = 2;
  else if (c == 0xF0)
    need = 3, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3)
    need = 3;
  else if (c == 0xF4)
    need = 3, hi = 0x8F;
  else
    return 0;
  for (std::size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return 0;
    const unsigned char x = b(i + k);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (x < l || x > h) return 0;
    bad = k + 1;
  }
  return need + 1;
}

std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0, bad = 0;
  while (i < s.size()) {
    const std::size_t n = valid_seq(s, i, bad);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

std::string from_utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0, bad = 0;
  while (i < s.size()) {
    const std::size_t n = valid_seq(s, i, bad);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      i += bad;
    }
  }
  return out;
}

Category category(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: return Category::Lu;
    case UTF8PROC_CATEGORY_LL: return Category::Ll;
    case UTF8PROC_CATEGORY_LT: return Category::Lt;
    case UTF8PROC_CATEGORY_LM: return Category::Lm;
    case UTF8PROC_CATEGORY_LO: return Category::Lo;
    case UTF8PROC_CATEGORY_MN: return Category::Mn;
    case UTF8PROC_CATEGORY_MC: return Category::Mc;
    case UTF8PROC_CATEGORY_ME: return Category::Me;
    case UTF8PROC_CATEGORY_ND: return Category::Nd;
    case UTF8PROC_CATEGORY_NL: return Category::Nl;
    case UTF8PROC_CATEGORY_NO: return Category::No;
    case UTF8PROC_CATEGORY_PC: return Category::Pc;
    case UTF8PROC_CATEGORY_PD: return Category::Pd;
    case UTF8PROC_CATEGORY_PS: return Category::Ps;
    case UTF8PROC_CATEGORY_PE: return Category::Pe;
    case UTF8PROC_CATEGORY_PI: return Category::Pi;
    case UTF8PROC_CATEGORY_PF: return Category::Pf;
    case UTF8PROC_CATEGORY_PO: return Category::Po;
    case UTF8PROC_CATEGORY_SM: return Category::Sm;
    case UTF8PROC_CATEGORY_SC: return Category::Sc;
    case UTF8PROC_CATEGORY_SK: return Category::Sk;
    case UTF8PROC_CATEGORY_SO: return Category::So;
    case UTF8PROC_CATEGORY_ZS: return Category::Zs;
    case UTF8PROC_CATEGORY_ZL: return Category::Zl;
    case UTF8PROC_CATEGORY_ZP: return Category::Zp;
    case UTF8PROC_CATEGORY_CC: return Category::Cc;
    case UTF8PROC_CATEGORY_CF: return Category::Cf;
    case UTF8PROC_CATEGORY_CS: return Category::Cs;
    case UTF8PROC_CATEGORY_CO: return Category::Co;
    default: return Category::Cn;
  }
}

bool is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

static bool other_alphabetic_symbol(char32_t c) {
  return (c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
         (c >= 0x1F170 && c <= 0x1F189);
}

bool is_alphabetic(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  const Category k = category(c);
  if (is_letter(k) || k == Category::Nl) return true;
  if (k == Category::Mn || k == Category::Mc) {
    // Most spacing and many non-spacing marks of Brahmic scripts are Other_Alphabetic; approximate with the
    // vowel-sign ranges (Mc always, Mn outside the combining-diacritics blocks).
    if (k == Category::Mc) return true;
    return !((c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
             (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F)) &&
           (c >= 0x0900 && c <= 0x0DFF);
  }
  return other_alphabetic_symbol(c);
}

bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return in_ranges(kNumeric, c);
}

bool is_alphanumeric(char32_t c) {
  return is_alphabetic(c) || is_numeric(c);
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '_';
  return in_ranges(kWordChar, c);
}

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return in_ranges(kPunctuation, c);
}

bool is_removed_by_clean_text(char32_t c) {
  return in_ranges(kCleanTextRemoved, c);
}

bool is_bert_nonspacing_mark(char32_t c) {
  return c >= 0x300 && in_ranges(kBertNonspacingMark, c);
}

bool is_combining_mark(char32_t c) {
  return c >= 0x300 && in_ranges(kCombiningMark, c);
}

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

int to_lowercase(char32_t c, char32_t out[3]) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  const auto it = std::lower_bound(std::begin(kLowercase), std::end(kLowercase), c,
                                   [](const LowercaseMapping& m, char32_t x) { return m.c < x; });
  if (it == std::end(kLowercase) || it->c != c) {
    out[0] = c;
    return 1;
  }
  std::copy(it->out, it->out + it->n, out);
  return it->n;
}

int to_uppercase(char32_t c, char32_t out[3]) {
  if (c < 0x80) {
    out[0] = (c >= 'a' && c <= 'z') ? c - 32 : c;
    return 1;
  }
  out[0] = static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
  return 1;
}

}  // namespace ortformers::tokenizers::unicode
