#include "chat_template/text.hpp"

#include "chat_template/value.hpp"

namespace ortformers::chat_template::detail {

std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + static_cast<std::size_t>(len) <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
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

std::string encode_utf8(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) append_utf8(out, cp);
  return out;
}

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

bool is_python_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

std::string py_strip(std::string_view s, StripSide side, bool use_chars, std::string_view chars) {
  const auto cps = decode_utf8(s);
  std::vector<char32_t> set;
  if (use_chars) set = decode_utf8(chars);
  auto strip_it = [&](char32_t cp) {
    if (!use_chars) return is_python_space(cp);
    for (char32_t c : set)
      if (c == cp) return true;
    return false;
  };
  std::size_t b = 0, e = cps.size();
  if (side != StripSide::Right)
    while (b < e && strip_it(cps[b])) ++b;
  if (side != StripSide::Left)
    while (e > b && strip_it(cps[e - 1])) --e;
  return encode_utf8(std::vector<char32_t>(cps.begin() + static_cast<std::ptrdiff_t>(b),
                                           cps.begin() + static_cast<std::ptrdiff_t>(e)));
}

std::vector<std::string> py_split(std::string_view s, bool use_sep, std::string_view sep, std::int64_t maxsplit) {
  std::vector<std::string> out;
  if (use_sep) {
    if (sep.empty()) fail("ValueError", "empty separator");
    std::size_t pos = 0;
    while (maxsplit < 0 || static_cast<std::int64_t>(out.size()) < maxsplit) {
      const auto f = s.find(sep, pos);
      if (f == std::string_view::npos) break;
      out.emplace_back(s.substr(pos, f - pos));
      pos = f + sep.size();
    }
    out.emplace_back(s.substr(pos));
    return out;
  }
  const auto cps = decode_utf8(s);
  std::size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && is_python_space(cps[i])) ++i;
    if (i >= cps.size()) break;
    if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) >= maxsplit) {
      std::size_t e = cps.size();
      while (e > i && is_python_space(cps[e - 1])) --e;
      out.push_back(encode_utf8(std::vector<char32_t>(cps.begin() + static_cast<std::ptrdiff_t>(i),
                                                      cps.begin() + static_cast<std::ptrdiff_t>(e))));
      break;
    }
    std::size_t j = i;
    while (j < cps.size() && !is_python_space(cps[j])) ++j;
    out.push_back(encode_utf8(std::vector<char32_t>(cps.begin() + static_cast<std::ptrdiff_t>(i),
                                                    cps.begin() + static_cast<std::ptrdiff_t>(j))));
    i = j;
  }
  return out;
}

std::string py_replace(std::string_view s, std::string_view old_s, std::string_view new_s, std::int64_t count) {
  std::string out;
  if (old_s.empty()) {
    // Python inserts `new` before every code point and at the end.
    const auto cps = decode_utf8(s);
    std::int64_t done = 0;
    for (char32_t cp : cps) {
      if (count < 0 || done < count) {
        out += new_s;
        ++done;
      }
      append_utf8(out, cp);
    }
    if (count < 0 || done < count) out += new_s;
    return out;
  }
  std::size_t pos = 0;
  std::int64_t done = 0;
  while (count < 0 || done < count) {
    const auto f = s.find(old_s, pos);
    if (f == std::string_view::npos) break;
    out += s.substr(pos, f - pos);
    out += new_s;
    pos = f + old_s.size();
    ++done;
  }
  out += s.substr(pos);
  return out;
}

namespace {

// Non-ASCII code points that may have a case mapping (we map ASCII letters only, so these are refused rather than
// left unchanged). CJK, Hangul, kana, general punctuation, symbols and emoji have no case.
bool may_have_case(char32_t cp) {
  if (cp < 0x80) return false;
  if (cp >= 0xA0 && cp <= 0xBF) return cp == 0xB5;
  if (cp >= 0x2000 && cp <= 0x24B5) return false;
  if (cp >= 0x24EA && cp <= 0x2BFF) return false;
  if (cp >= 0x2E00 && cp <= 0xA63F) return false;
  if (cp >= 0xAC00 && cp <= 0xD7FF) return false;
  if (cp >= 0xE000 && cp <= 0xFF20) return false;
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;
  if (cp >= 0x20000) return false;
  if (cp == 0xFFFD) return false;
  return true;
}

void check_caseless(std::string_view s, const char* what) {
  bool ascii = true;
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
  if (ascii) return;
  for (char32_t cp : decode_utf8(s))
    if (may_have_case(cp)) fail("Unsupported", std::string(what) + " of non-ASCII letters");
}

char up(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}
char low(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::string py_upper(std::string_view s, const char* what) {
  check_caseless(s, what);
  std::string out(s);
  for (auto& c : out) c = up(c);
  return out;
}

std::string py_lower(std::string_view s, const char* what) {
  check_caseless(s, what);
  std::string out(s);
  for (auto& c : out) c = low(c);
  return out;
}

std::string py_capitalize(std::string_view s, const char* what) {
  check_caseless(s, what);
  std::string out(s);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = i == 0 ? up(out[i]) : low(out[i]);
  return out;
}

std::string py_title(std::string_view s, const char* what) {
  check_caseless(s, what);
  std::string out(s);
  bool prev_cased = false;
  for (auto& c : out) {
    if (is_alpha(c)) {
      c = prev_cased ? low(c) : up(c);
      prev_cased = true;
    } else {
      prev_cased = false;
    }
  }
  return out;
}

std::string jinja_title(std::string_view s, const char* what) {
  check_caseless(s, what);
  // re.split(r"([-\s({\[<]+)"): words start after runs of these separators; each piece: first char upper, rest lower.
  const auto cps = decode_utf8(s);
  auto is_sep = [](char32_t cp) {
    return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || is_python_space(cp);
  };
  std::vector<char32_t> out;
  std::size_t i = 0;
  while (i < cps.size()) {
    const bool sep = is_sep(cps[i]);
    std::size_t j = i;
    while (j < cps.size() && is_sep(cps[j]) == sep) ++j;
    for (std::size_t k = i; k < j; ++k) {
      char32_t c = cps[k];
      if (c < 0x80) c = static_cast<char32_t>(k == i ? up(static_cast<char>(c)) : low(static_cast<char>(c)));
      out.push_back(c);
    }
    i = j;
  }
  return encode_utf8(out);
}

}  // namespace ortformers::chat_template::detail
