#include "ortformers/tokenizers/normalized_string.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>

#include "ortformers/core/error.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace u = unicode;

// ---------------------------------------------------------------------------------------------------- patterns
std::vector<PatternMatch> CharPredicatePattern::find_matches(std::string_view text) const {
  std::vector<PatternMatch> out;
  if (text.empty()) {
    out.push_back({0, 0, false});
    return out;
  }
  std::size_t last = 0, i = 0, len = 0;
  while (i < text.size()) {
    const char32_t c = u::decode(text, i, len);
    if (pred_(c)) {
      if (last < i) out.push_back({last, i, false});
      out.push_back({i, i + len, true});
      last = i + len;
    }
    i += len;
  }
  if (last < text.size()) out.push_back({last, text.size(), false});
  return out;
}

std::vector<PatternMatch> StringPattern::find_matches(std::string_view text) const {
  std::vector<PatternMatch> out;
  if (text.empty()) {
    out.push_back({0, 0, false});
    return out;
  }
  if (s_.empty()) {
    out.push_back({0, text.size(), false});
    return out;
  }
  std::size_t prev = 0, pos = 0;
  while ((pos = text.find(s_, pos)) != std::string_view::npos) {
    if (prev != pos) out.push_back({prev, pos, false});
    out.push_back({pos, pos + s_.size(), true});
    pos += s_.size();
    prev = pos;
  }
  if (prev != text.size()) out.push_back({prev, text.size(), false});
  return out;
}

namespace {
// Oniguruma (Unicode) classes, which the Rust library's regexes use, differ slightly from PCRE2's UCP ones.
const char* kSpaceClass =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
const char* kWordClass = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";

std::string translate_regex(const std::string& p) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[i + 1];
      if (n == 's' || n == 'w') {
        const char* cls = n == 's' ? kSpaceClass : kWordClass;
        if (in_class)
          out += cls;
        else
          out += std::string("[") + cls + "]";
        ++i;
        continue;
      }
      if ((n == 'S' || n == 'W') && !in_class) {
        out += std::string("[^") + (n == 'S' ? kSpaceClass : kWordClass) + "]";
        ++i;
        continue;
      }
      out += c;
      out += n;
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}
}  // namespace

RegexPattern::RegexPattern(const std::string& pattern) : pattern_(pattern) {
  const std::string translated = translate_regex(pattern);
  int err = 0;
  PCRE2_SIZE off = 0;
  auto* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                             PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    throw InvalidArgument("invalid regex '" + pattern + "' at offset " + std::to_string(off) + ": " +
                          reinterpret_cast<char*>(buf));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  code_ = code;
}

RegexPattern::~RegexPattern() {
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

void RegexPattern::for_each_match(std::string_view text,
                                  const std::function<void(std::size_t, std::size_t)>& fn) const {
  auto* code = static_cast<pcre2_code*>(code_);
  // One match block per thread, freed when the thread ends (batch encoding runs on worker threads).
  struct ThreadMatchData {
    pcre2_match_data* md = nullptr;
    std::uint32_t pairs = 0;
    ~ThreadMatchData() {
      if (md) pcre2_match_data_free(md);
    }
  };
  thread_local ThreadMatchData tl;
  std::uint32_t pairs = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &pairs);
  pairs += 1;
  if (!tl.md || tl.pairs < pairs) {
    if (tl.md) pcre2_match_data_free(tl.md);
    tl.md = pcre2_match_data_create(pairs, nullptr);
    tl.pairs = pairs;
  }
  pcre2_match_data* md = tl.md;
  std::size_t pos = 0;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  while (pos <= text.size()) {
    const int rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(rc, buf, sizeof(buf));
      throw RuntimeError("regex '" + pattern_ + "' failed: " + reinterpret_cast<char*>(buf));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const std::size_t s = ov[0], e = ov[1];
    fn(s, e);
    if (e == s) {
      if (e >= text.size()) break;
      pos = e + u::lead_len(static_cast<unsigned char>(text[e]));
    } else {
      pos = e;
    }
  }
}

void RegexPattern::for_each_group(std::string_view text, const std::function<void(std::size_t)>& fn) const {
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                             PCRE2_NO_UTF_CHECK | PCRE2_ANCHORED, md, nullptr);
  if (rc > 1) {
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    for (int g = 1; g < rc; ++g)
      if (ov[2 * g] != PCRE2_UNSET) {
        fn(static_cast<std::size_t>(g));
        break;
      }
  }
  pcre2_match_data_free(md);
}

std::vector<PatternMatch> RegexPattern::find_matches(std::string_view text) const {
  std::vector<PatternMatch> out;
  if (text.empty()) {
    out.push_back({0, 0, false});
    return out;
  }
  std::size_t prev = 0;
  for_each_match(text, [&](std::size_t s, std::size_t e) {
    if (prev != s) out.push_back({prev, s, false});
    out.push_back({s, e, true});
    prev = e;
  });
  if (prev != text.size()) out.push_back({prev, text.size(), false});
  return out;
}

// ---------------------------------------------------------------------------------------------- NormalizedString
NormalizedString::NormalizedString(std::string_view original) : original_(original), normalized_(original) {
  alignments_.resize(original.size());
  std::size_t i = 0, len = 0;
  while (i < original.size()) {
    u::decode(original, i, len);
    for (std::size_t k = 0; k < len; ++k)
      alignments_[i + k] = {static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + len)};
    i += len;
  }
}

std::optional<Offsets> NormalizedString::convert_normalized_to_original(std::size_t start, std::size_t end) const {
  if (start == end) return Offsets{start, end};
  if (start > end) return std::nullopt;
  if (normalized_.empty() && start == 0 && end == 0) return Offsets{0, original_.size()};
  if (end > alignments_.size()) return std::nullopt;
  std::uint32_t s = UINT32_MAX, e = 0;
  for (std::size_t i = start; i < end; ++i) {
    s = std::min(s, alignments_[i].start);
    e = std::max(e, alignments_[i].end);
  }
  return Offsets{s, e};
}

std::optional<Offsets> NormalizedString::convert_original_to_normalized(std::size_t start, std::size_t end) const {
  if (start == end) return Offsets{start, end};
  if (start > end) return std::nullopt;
  if (original_.empty() && start == 0 && end == 0) return Offsets{0, normalized_.size()};
  std::optional<std::size_t> s, e;
  for (std::size_t i = 0; i < alignments_.size(); ++i) {
    const auto& a = alignments_[i];
    if (end < a.end) break;
    if (!s && start <= a.start && a.start != a.end) s = i;
    if (end >= a.end) e = i + 1;
  }
  if (s && e) return Offsets{*s, *e};
  if (s) return Offsets{*s, *s};
  if (e) return Offsets{*e, *e};
  return std::nullopt;
}

NormalizedString NormalizedString::slice_normalized(std::size_t start, std::size_t end) const {
  NormalizedString out;
  const auto orig = convert_normalized_to_original(start, end);
  if (!orig || end > normalized_.size()) throw RuntimeError("NormalizedString: bad slice");
  auto [os, oe] = *orig;
  os = std::min(os, original_.size());
  oe = std::min(std::max(oe, os), original_.size());
  out.original_ = original_.substr(os, oe - os);
  out.normalized_ = normalized_.substr(start, end - start);
  out.alignments_.assign(alignments_.begin() + static_cast<std::ptrdiff_t>(start),
                         alignments_.begin() + static_cast<std::ptrdiff_t>(end));
  for (auto& a : out.alignments_) {
    a.start = a.start >= os ? a.start - static_cast<std::uint32_t>(os) : 0;
    a.end = a.end >= os ? a.end - static_cast<std::uint32_t>(os) : 0;
  }
  out.original_shift_ = original_shift_ + os;
  return out;
}

void NormalizedString::transform_range(std::size_t nstart, std::size_t nend, const std::vector<CharChange>& dest,
                                       std::size_t initial_offset) {
  // Characters being replaced, as byte lengths.
  std::vector<std::uint8_t> replaced;
  replaced.reserve(nend - nstart);
  for (std::size_t i = nstart; i < nend;) {
    const std::size_t l = u::lead_len(static_cast<unsigned char>(normalized_[i]));
    replaced.push_back(static_cast<std::uint8_t>(l));
    i += l;
  }
  std::size_t ri = 0;
  std::size_t offset = nstart;
  for (; ri < initial_offset && ri < replaced.size(); ++ri) offset += replaced[ri];
  std::string out;
  out.reserve(dest.size() * 2);
  std::vector<Alignment> aligns;
  aligns.reserve(dest.size() * 2);
  const Alignment zero{0, 0};
  for (const auto& [c, change] : dest) {
    const std::size_t idx = offset;
    Alignment a;
    if (change > 0) {
      a = idx < 1 ? zero : alignments_[std::min(idx - 1, alignments_.size() - 1)];
    } else {
      a = idx < alignments_.size() ? alignments_[idx] : (alignments_.empty() ? zero : alignments_.back());
    }
    if (change <= 0 && ri < replaced.size()) offset += replaced[ri++];
    if (change < 0) {
      for (int k = 0; k < -change && ri < replaced.size(); ++k) offset += replaced[ri++];
    }
    const std::size_t before = out.size();
    u::append_utf8(out, c);
    for (std::size_t k = before; k < out.size(); ++k) aligns.push_back(a);
  }
  normalized_.replace(nstart, nend - nstart, out);
  alignments_.erase(alignments_.begin() + static_cast<std::ptrdiff_t>(nstart),
                    alignments_.begin() + static_cast<std::ptrdiff_t>(nend));
  alignments_.insert(alignments_.begin() + static_cast<std::ptrdiff_t>(nstart), aligns.begin(), aligns.end());
}

namespace {
bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}
std::string utf8proc_normalize(std::string_view s, int options) {
  utf8proc_uint8_t* dst = nullptr;
  const auto n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()), &dst,
                   static_cast<utf8proc_option_t>(options | UTF8PROC_STABLE));
  if (n < 0) throw InvalidArgument(std::string("unicode normalisation failed: ") + utf8proc_errmsg(n));
  std::string out(reinterpret_cast<char*>(dst), static_cast<std::size_t>(n));
  std::free(dst);
  return out;
}
int decomposed_length(char32_t c, int options) {
  utf8proc_int32_t buf[32];
  utf8proc_int32_t last_boundclass = 0;
  const int opts = UTF8PROC_DECOMPOSE | ((options & UTF8PROC_COMPAT) ? UTF8PROC_COMPAT : 0);
  const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32,
                                         static_cast<utf8proc_option_t>(opts), &last_boundclass);
  return n > 0 ? static_cast<int>(n) : 1;
}
bool is_segment_start(char32_t c) {
  if (c >= 0x1161 && c <= 0x11C2) return false;  // Hangul vowels / trailing consonants compose with the previous
  switch (c) {                                   // starters that compose with the previous character
    case 0x09BE:
    case 0x09D7:
    case 0x0B3E:
    case 0x0B56:
    case 0x0B57:
    case 0x0BBE:
    case 0x0BD7:
    case 0x0CC2:
    case 0x0CD5:
    case 0x0CD6:
    case 0x0D3E:
    case 0x0D57:
    case 0x0DCF:
    case 0x0DDF:
    case 0x102E:
    case 0x1B35: return false;
    default: break;
  }
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class == 0;
}
}  // namespace

void NormalizedString::unicode_normalize(int options) {
  if (is_ascii(normalized_)) return;
  // Segments: a starter and the non-starters that follow it, normalised one by one (ASCII segments never change).
  // Output chars are attributed to input chars by their decomposed lengths: a composed char consumes the input chars
  // it is made of (change -(k-1)), a char left over from a decomposition is inserted (+1), as the Rust
  // unicode-normalization-alignments iterator reports them.
  std::vector<CharChange> changes;
  changes.reserve(normalized_.size());
  bool changed = false;
  std::size_t i = 0, len = 0;
  const std::string& s = normalized_;
  std::vector<int> in_len;
  while (i < s.size()) {
    const auto c0 = static_cast<unsigned char>(s[i]);
    if (c0 < 0x80 && (i + 1 >= s.size() || static_cast<unsigned char>(s[i + 1]) < 0x80)) {
      changes.push_back({c0, 0});
      ++i;
      continue;
    }
    std::size_t j = i;
    const char32_t first = u::decode(s, j, len);
    j += len;
    if (first == 0x11938) {
      // DIVES AKURU VOWEL SIGN O: its canonical decomposition came with Unicode 13, after the tables of the Rust
      // unicode-normalization-alignments crate, which leaves it as is (the only such code point in utf8proc's
      // tables; tests/tokenizers/unicode_classes_test.cpp checks NFD on every code point).
      changes.push_back({first, 0});
      i = j;
      continue;
    }
    while (j < s.size()) {
      const char32_t c = u::decode(s, j, len);
      if (is_segment_start(c)) break;
      j += len;
    }
    const std::string_view in(s.data() + i, j - i);
    const std::string seg = utf8proc_normalize(in, options);
    if (seg == in) {
      for (std::size_t k = i; k < j; k += len) changes.push_back({u::decode(s, k, len), 0});
      i = j;
      continue;
    }
    changed = true;
    in_len.clear();
    for (std::size_t k = i; k < j; k += len) in_len.push_back(decomposed_length(u::decode(s, k, len), options));
    std::size_t next_in = 0;
    int credit = 0;
    for (std::size_t k = 0; k < seg.size(); k += len) {
      const char32_t oc = u::decode(seg, k, len);
      int need = decomposed_length(oc, options);
      if (credit >= need) {
        credit -= need;
        changes.push_back({oc, 1});
        continue;
      }
      need -= credit;
      credit = 0;
      int consumed = 0;
      while (need > 0 && next_in < in_len.size()) {
        const int l = in_len[next_in++];
        ++consumed;
        if (l <= need)
          need -= l;
        else {
          credit = l - need;
          need = 0;
        }
      }
      changes.push_back({oc, consumed > 0 ? -(consumed - 1) : 1});
    }
    if (next_in < in_len.size() && !changes.empty()) changes.back().change -= static_cast<int>(in_len.size() - next_in);
    i = j;
  }
  if (changed) transform(changes, 0);
}

void NormalizedString::nfd() {
  unicode_normalize(UTF8PROC_DECOMPOSE);
}
void NormalizedString::nfkd() {
  unicode_normalize(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
}
void NormalizedString::nfc() {
  unicode_normalize(UTF8PROC_COMPOSE);
}
void NormalizedString::nfkc() {
  unicode_normalize(UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
}

void NormalizedString::lowercase() {
  bool change = false;
  for (unsigned char c : normalized_)
    if (c >= 0x80 || (c >= 'A' && c <= 'Z')) {
      change = true;
      break;
    }
  if (!change) return;
  if (is_ascii(normalized_)) {  // same length, same alignments
    for (auto& c : normalized_)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return;
  }
  std::vector<CharChange> changes;
  changes.reserve(normalized_.size());
  std::size_t i = 0, len = 0;
  char32_t buf[3];
  bool same_lengths = true;
  while (i < normalized_.size()) {
    const char32_t c = u::decode(normalized_, i, len);
    const int n = u::to_lowercase(c, buf);
    for (int k = 0; k < n; ++k) changes.push_back({buf[k], k > 0 ? 1 : 0});
    same_lengths &= n == 1 && u::utf8_len(buf[0]) == len;
    i += len;
  }
  if (same_lengths) {
    // Every char keeps its byte length: the alignments do not change.
    std::string out;
    out.reserve(normalized_.size());
    for (const auto& ch : changes) u::append_utf8(out, ch.c);
    normalized_ = std::move(out);
    return;
  }
  transform(changes, 0);
}

void NormalizedString::uppercase() {
  std::vector<CharChange> changes;
  std::size_t i = 0, len = 0;
  char32_t buf[3];
  while (i < normalized_.size()) {
    const char32_t c = u::decode(normalized_, i, len);
    const int n = u::to_uppercase(c, buf);
    for (int k = 0; k < n; ++k) changes.push_back({buf[k], k > 0 ? 1 : 0});
    i += len;
  }
  transform(changes, 0);
}

void NormalizedString::filter(const std::function<bool(char32_t)>& keep) {
  // Walk backwards: a kept char absorbs the removed chars that follow it.
  std::vector<CharChange> rev;
  rev.reserve(normalized_.size());
  std::vector<char32_t> chars;
  chars.reserve(normalized_.size());
  std::size_t i = 0, len = 0;
  while (i < normalized_.size()) {
    chars.push_back(u::decode(normalized_, i, len));
    i += len;
  }
  int removed = 0;
  bool any = false;
  for (auto it = chars.rbegin(); it != chars.rend(); ++it) {
    if (keep(*it)) {
      rev.push_back({*it, -removed});
      removed = 0;
    } else {
      ++removed;
      any = true;
    }
  }
  if (!any) return;
  std::reverse(rev.begin(), rev.end());
  transform(rev, static_cast<std::size_t>(removed));
}

void NormalizedString::map(const std::function<char32_t(char32_t)>& fn) {
  std::vector<CharChange> changes;
  changes.reserve(normalized_.size());
  std::size_t i = 0, len = 0;
  bool any = false;
  bool same_lengths = true;
  while (i < normalized_.size()) {
    const char32_t c = u::decode(normalized_, i, len);
    const char32_t m = fn(c);
    any |= m != c;
    same_lengths &= u::utf8_len(m) == len;
    changes.push_back({m, 0});
    i += len;
  }
  if (!any) return;
  if (same_lengths) {
    std::string out;
    out.reserve(normalized_.size());
    for (const auto& ch : changes) u::append_utf8(out, ch.c);
    normalized_ = std::move(out);
    return;
  }
  transform(changes, 0);
}

void NormalizedString::prepend(std::string_view s) {
  if (normalized_.empty()) return;
  std::size_t len = 0;
  const char32_t next = u::decode(normalized_, 0, len);
  std::vector<CharChange> changes;
  std::size_t i = 0, l = 0;
  bool first = true;
  while (i < s.size()) {
    changes.push_back({u::decode(s, i, l), first ? 0 : 1});
    first = false;
    i += l;
  }
  changes.push_back({next, 1});
  transform_range(0, len, changes, 0);
}

void NormalizedString::append(std::string_view s) {
  if (normalized_.empty()) return;
  std::size_t b = normalized_.size() - 1;
  while (b > 0 && (static_cast<unsigned char>(normalized_[b]) & 0xC0) == 0x80) --b;
  std::size_t len = 0;
  const char32_t prev = u::decode(normalized_, b, len);
  std::vector<CharChange> changes{{prev, 0}};
  std::size_t i = 0, l = 0;
  while (i < s.size()) {
    changes.push_back({u::decode(s, i, l), 1});
    i += l;
  }
  transform_range(b, normalized_.size(), changes, 0);
}

void NormalizedString::replace(const Pattern& pattern, std::string_view content) {
  std::ptrdiff_t offset = 0;
  const auto matches = pattern.find_matches(normalized_);
  std::vector<CharChange> changes;
  std::size_t i = 0, l = 0;
  while (i < content.size()) {
    changes.push_back({u::decode(content, i, l), 1});
    i += l;
  }
  for (const auto& m : matches) {
    if (!m.is_match) continue;
    const std::size_t s = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(m.start) + offset);
    const std::size_t e = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(m.end) + offset);
    const std::size_t removed_chars = u::count_chars(std::string_view(normalized_).substr(s, e - s));
    transform_range(s, e, changes, removed_chars);
    offset += static_cast<std::ptrdiff_t>(content.size()) - static_cast<std::ptrdiff_t>(m.end - m.start);
  }
}

void NormalizedString::lrstrip(bool left, bool right) {
  std::vector<char32_t> chars;
  std::size_t i = 0, len = 0;
  while (i < normalized_.size()) {
    chars.push_back(u::decode(normalized_, i, len));
    i += len;
  }
  std::size_t leading = 0, trailing = 0;
  if (left)
    while (leading < chars.size() && u::is_whitespace(chars[leading])) ++leading;
  if (right)
    while (trailing < chars.size() - leading && u::is_whitespace(chars[chars.size() - 1 - trailing])) ++trailing;
  if (leading == 0 && trailing == 0) return;
  std::vector<CharChange> changes;
  const std::size_t count = chars.size();
  for (std::size_t k = 0; k < count; ++k) {
    if (k < leading || k >= count - trailing) continue;
    // The Rust library compares the char index with the byte length here; kept for parity.
    const int ch = (k == normalized_.size() - trailing - 1) ? -static_cast<int>(trailing) : 0;
    changes.push_back({chars[k], ch});
  }
  transform(changes, leading);
}

std::vector<NormalizedString> NormalizedString::split(const Pattern& pattern, SplitDelimiterBehavior behavior) const {
  auto matches = pattern.find_matches(normalized_);
  struct Piece {
    std::size_t s, e;
    bool remove;
  };
  std::vector<Piece> pieces;
  pieces.reserve(matches.size());
  using B = SplitDelimiterBehavior;
  switch (behavior) {
    case B::Isolated:
      for (const auto& m : matches) pieces.push_back({m.start, m.end, false});
      break;
    case B::Removed:
      for (const auto& m : matches) pieces.push_back({m.start, m.end, m.is_match});
      break;
    case B::Contiguous: {
      bool prev = false;
      for (const auto& m : matches) {
        if (m.is_match == prev && !pieces.empty())
          pieces.back().e = m.end;
        else
          pieces.push_back({m.start, m.end, false});
        prev = m.is_match;
      }
      break;
    }
    case B::MergedWithPrevious: {
      bool prev = false;
      for (const auto& m : matches) {
        if (m.is_match && !prev && !pieces.empty())
          pieces.back().e = m.end;
        else
          pieces.push_back({m.start, m.end, false});
        prev = m.is_match;
      }
      break;
    }
    case B::MergedWithNext: {
      bool prev = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        if (it->is_match && !prev && !pieces.empty())
          pieces.back().s = it->start;
        else
          pieces.push_back({it->start, it->end, false});
        prev = it->is_match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(pieces.size());
  for (const auto& p : pieces)
    if (!p.remove) out.push_back(slice_normalized(p.s, p.e));
  return out;
}

// ------------------------------------------------------------------------------------------ PreTokenizedString
void PreTokenizedString::split(
    const std::function<std::vector<NormalizedString>(std::size_t, NormalizedString&&)>& fn) {
  std::vector<Split> out;
  out.reserve(splits_.size());
  for (std::size_t i = 0; i < splits_.size(); ++i) {
    if (splits_[i].tokens) {
      out.push_back(std::move(splits_[i]));
      continue;
    }
    for (auto& n : fn(i, std::move(splits_[i].normalized)))
      if (!n.empty()) out.push_back(Split{std::move(n), std::nullopt});
  }
  splits_ = std::move(out);
}

void PreTokenizedString::split_with_tokens(
    const std::function<std::vector<Split>(std::size_t, NormalizedString&&)>& fn) {
  std::vector<Split> out;
  out.reserve(splits_.size());
  for (std::size_t i = 0; i < splits_.size(); ++i) {
    if (splits_[i].tokens) {
      out.push_back(std::move(splits_[i]));
      continue;
    }
    for (auto& n : fn(i, std::move(splits_[i].normalized)))
      if (!n.normalized.empty()) out.push_back(std::move(n));
  }
  splits_ = std::move(out);
}

void PreTokenizedString::normalize(const std::function<void(NormalizedString&)>& fn) {
  for (auto& s : splits_)
    if (!s.tokens) fn(s.normalized);
}

void PreTokenizedString::tokenize(const std::function<std::vector<Token>(const NormalizedString&)>& fn) {
  for (auto& s : splits_)
    if (!s.tokens) s.tokens = fn(s.normalized);
}

}  // namespace ortformers::tokenizers
