// Every Unicode scalar value through the components that classify characters (BertNormalizer clean_text and
// handle_chinese_chars and strip_accents, BertPreTokenizer, Whitespace, Digits, StripAccents, NFD, Lowercase), against
// the table the
// Rust tokenizers library 0.22.2 gives (tests/tokenizers/data/rust_unicode_classes.txt, written by
// tools/unicode_table/generate.js; the probes are described there).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/normalizers.hpp"
#include "ortformers/tokenizers/pre_tokenizers.hpp"
#include "tokenizers/unicode.hpp"

using namespace ortformers;
using namespace ortformers::tokenizers;

namespace {

constexpr char32_t kMaxCodePoint = 0x10FFFF;

struct RustTable {
  std::map<std::string, std::vector<bool>> classes;                // property -> membership per code point
  std::map<std::string, std::vector<std::uint64_t>> block_hashes;  // property -> FNV-1a 64 per 4096 code points
};

RustTable load_table() {
  const std::string path = std::string(ORTFORMERS_SOURCE_DIR) + "/tests/tokenizers/data/rust_unicode_classes.txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  RustTable t;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.find(' ');
    const std::string name = line.substr(0, sp);
    std::stringstream items(sp == std::string::npos ? "" : line.substr(sp + 1));
    std::string item;
    const std::string hash_suffix = "_fnv1a64_per_4096";
    if (name.size() > hash_suffix.size() && name.ends_with(hash_suffix)) {
      auto& v = t.block_hashes[name.substr(0, name.size() - hash_suffix.size())];
      while (std::getline(items, item, ',')) v.push_back(std::stoull(item, nullptr, 16));
      continue;
    }
    auto& bits = t.classes[name];
    bits.assign(kMaxCodePoint + 1, false);
    while (std::getline(items, item, ',')) {
      const auto dash = item.find('-');
      const auto a = std::stoul(item.substr(0, dash), nullptr, 16);
      const auto b = dash == std::string::npos ? a : std::stoul(item.substr(dash + 1), nullptr, 16);
      for (auto c = a; c <= b; ++c) bits[c] = true;
    }
  }
  return t;
}

bool is_scalar(char32_t c) {
  return c < 0xD800 || c > 0xDFFF;
}

std::string normalized(const Normalizer& n, const std::string& s) {
  NormalizedString ns(s);
  n.normalize(ns);
  return ns.get();
}

std::vector<std::string> pieces(const PreTokenizer& p, const std::string& s) {
  PreTokenizedString pts(s);
  p.pre_tokenize(pts);
  std::vector<std::string> out;
  for (const auto& x : pts.splits()) out.push_back(x.normalized.get());
  return out;
}

std::string hex(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

// Checks one class over every scalar value; reports the first few disagreements.
template <class F>
void check_class(const RustTable& t, const std::string& name, F&& ours) {
  ASSERT_TRUE(t.classes.contains(name)) << name;
  const auto& rust = t.classes.at(name);
  std::size_t diffs = 0;
  std::string first;
  for (char32_t c = 0; c <= kMaxCodePoint; ++c) {
    if (!is_scalar(c)) continue;
    const bool mine = ours(c);
    if (mine != rust[c]) {
      if (++diffs <= 12) {
        first += ' ';
        first += hex(c);
        first += rust[c] ? "(rust: yes)" : "(rust: no)";
      }
    }
  }
  EXPECT_EQ(diffs, 0u) << name << ": " << diffs << " code points differ from the Rust library:" << first;
}

template <class F>
void check_hashes(const RustTable& t, const std::string& name, F&& output) {
  ASSERT_TRUE(t.block_hashes.contains(name)) << name;
  const auto& rust = t.block_hashes.at(name);
  ASSERT_EQ(rust.size(), (kMaxCodePoint + 1) / 4096);
  std::string bad;
  std::size_t n_bad = 0;
  for (std::size_t block = 0; block < rust.size(); ++block) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (char32_t c = static_cast<char32_t>(block * 4096); c < (block + 1) * 4096; ++c) {
      if (!is_scalar(c)) continue;
      for (unsigned char b : output(c)) h = (h ^ b) * 0x100000001b3ULL;
      h = (h ^ 0xFF) * 0x100000001b3ULL;
    }
    if (h != rust[block] && ++n_bad <= 12) {
      bad += ' ';
      bad += hex(static_cast<char32_t>(block * 4096));
    }
  }
  EXPECT_EQ(n_bad, 0u) << name << ": blocks of 4096 code points whose outputs differ from the Rust library:" << bad;
}

class RustUnicodeClasses : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { table_ = new RustTable(load_table()); }
  static void TearDownTestSuite() {
    delete table_;
    table_ = nullptr;
  }
  static const RustTable& table() { return *table_; }

 private:
  static inline RustTable* table_ = nullptr;
};

std::string ch(char32_t c) {
  return unicode::to_utf8(c);
}

// "a" + c + "a", built in place (GCC 12 warns, a -Wrestrict false positive, on "a" + std::string&&).
std::string between_a(char32_t c) {
  std::string s = "a";
  unicode::append_utf8(s, c);
  s += 'a';
  return s;
}

}  // namespace

TEST_F(RustUnicodeClasses, BertNormalizerCleanText) {
  const auto n = normalizer_from_json(Json::parse(
      R"({"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":false,"strip_accents":false,"lowercase":false})"));
  std::vector<std::string> out(kMaxCodePoint + 1);
  for (char32_t c = 0; c <= kMaxCodePoint; ++c) {
    if (is_scalar(c)) out[c] = normalized(*n, ch(c));
  }
  check_class(table(), "clean_removed", [&](char32_t c) { return out[c].empty(); });
  check_class(table(), "clean_space", [&](char32_t c) { return out[c] == " "; });
  // The issue that started this: noncharacters are kept (bert-base-uncased maps them to [UNK]).
  EXPECT_EQ(normalized(*n, "a\xEF\xB7\x90z"), "a\xEF\xB7\x90z");  // U+FDD0
}

TEST_F(RustUnicodeClasses, BertNormalizerChineseChars) {
  const auto n = normalizer_from_json(Json::parse(
      R"({"type":"BertNormalizer","clean_text":false,"handle_chinese_chars":true,"strip_accents":false,"lowercase":false})"));
  check_class(table(), "chinese", [&](char32_t c) { return normalized(*n, ch(c)) != ch(c); });
}

TEST_F(RustUnicodeClasses, BertPreTokenizerWhitespaceAndPunctuation) {
  const auto p = pre_tokenizer_from_json(Json::parse(R"({"type":"BertPreTokenizer"})"));
  std::vector<std::uint8_t> kind(kMaxCodePoint + 1, 0);  // 1 whitespace, 2 punctuation
  for (char32_t c = 0; c <= kMaxCodePoint; ++c) {
    if (!is_scalar(c)) continue;
    const auto v = pieces(*p, between_a(c));
    if (v.size() == 2 && v[0] == "a" && v[1] == "a") kind[c] = 1;
    if (v.size() == 3 && v[1] == ch(c)) kind[c] = 2;
  }
  check_class(table(), "whitespace", [&](char32_t c) { return kind[c] == 1; });
  check_class(table(), "punctuation", [&](char32_t c) { return kind[c] == 2; });
}

TEST_F(RustUnicodeClasses, WhitespacePreTokenizerWordChars) {
  const auto p = pre_tokenizer_from_json(Json::parse(R"({"type":"Whitespace"})"));
  check_class(table(), "word", [&](char32_t c) { return pieces(*p, between_a(c)).size() == 1; });
}

TEST_F(RustUnicodeClasses, DigitsPreTokenizerNumeric) {
  const auto p = pre_tokenizer_from_json(Json::parse(R"({"type":"Digits","individual_digits":false})"));
  check_class(table(), "numeric", [&](char32_t c) { return pieces(*p, between_a(c)).size() == 3; });
}

TEST_F(RustUnicodeClasses, StripAccentsMarks) {
  const auto n = normalizer_from_json(Json::parse(R"({"type":"StripAccents"})"));
  check_class(table(), "mark", [&](char32_t c) { return normalized(*n, ch(c)).empty(); });
}

TEST_F(RustUnicodeClasses, NfdAndLowercaseOutputs) {
  const auto nfd = normalizer_from_json(Json::parse(R"({"type":"NFD"})"));
  const auto lower = normalizer_from_json(Json::parse(R"({"type":"Lowercase"})"));
  check_hashes(table(), "nfd", [&](char32_t c) { return normalized(*nfd, ch(c)); });
  check_hashes(table(), "lowercase", [&](char32_t c) { return normalized(*lower, ch(c)); });
}

TEST_F(RustUnicodeClasses, BertNormalizerStripAccentsOutputs) {
  const auto n = normalizer_from_json(Json::parse(
      R"({"type":"BertNormalizer","clean_text":false,"handle_chinese_chars":false,"strip_accents":true,"lowercase":false})"));
  std::vector<std::string> out(kMaxCodePoint + 1);
  for (char32_t c = 0; c <= kMaxCodePoint; ++c) {
    if (is_scalar(c)) out[c] = normalized(*n, ch(c));
  }
  check_class(table(), "bert_nonspacing", [&](char32_t c) { return out[c].empty(); });
  check_hashes(table(), "bert_strip_accents", [&](char32_t c) { return out[c]; });
}
