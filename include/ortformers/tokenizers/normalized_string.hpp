#pragma once
// NormalizedString / PreTokenizedString: text that keeps, for every byte of its normalized form, the byte range of
// the original text it comes from, so that offsets stay exact through normalisation and pre-tokenisation
// (as tokenizers::NormalizedString in the Rust library).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ortformers::tokenizers {

using Offsets = std::pair<std::size_t, std::size_t>;

enum class SplitDelimiterBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// One match segment: [start, end) bytes of the searched text and whether it is a match of the pattern.
struct PatternMatch {
  std::size_t start, end;
  bool is_match;
};

// Something that finds matches in a string; the segments cover the whole string, in order.
class Pattern {
 public:
  virtual ~Pattern() = default;
  virtual std::vector<PatternMatch> find_matches(std::string_view text) const = 0;
};

class CharPredicatePattern : public Pattern {
 public:
  explicit CharPredicatePattern(std::function<bool(char32_t)> pred) : pred_(std::move(pred)) {}
  std::vector<PatternMatch> find_matches(std::string_view text) const override;

 private:
  std::function<bool(char32_t)> pred_;
};

class StringPattern : public Pattern {
 public:
  explicit StringPattern(std::string s) : s_(std::move(s)) {}
  std::vector<PatternMatch> find_matches(std::string_view text) const override;

 private:
  std::string s_;
};

// A PCRE2 regex (UTF + UCP, JIT) with Oniguruma-compatible \s, \S, \w, \W, \d.
class RegexPattern : public Pattern {
 public:
  explicit RegexPattern(const std::string& pattern);
  ~RegexPattern() override;
  RegexPattern(const RegexPattern&) = delete;
  RegexPattern& operator=(const RegexPattern&) = delete;
  std::vector<PatternMatch> find_matches(std::string_view text) const override;
  // Calls fn(start, end) for every non-overlapping match.
  void for_each_match(std::string_view text, const std::function<void(std::size_t, std::size_t)>& fn) const;
  // Anchored match at the start of `text`: calls fn(first capture group that matched), if any.
  void for_each_group(std::string_view text, const std::function<void(std::size_t)>& fn) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;
};

class InvertPattern : public Pattern {
 public:
  explicit InvertPattern(const Pattern& inner) : inner_(inner) {}
  std::vector<PatternMatch> find_matches(std::string_view text) const override {
    auto m = inner_.find_matches(text);
    for (auto& x : m) x.is_match = !x.is_match;
    return m;
  }

 private:
  const Pattern& inner_;
};

struct Alignment {
  std::uint32_t start, end;
};

// A transformation item: the new character and its change (1 = inserted, 0 = replaces one char, -N = replaces
// one char and removes the N following ones).
struct CharChange {
  char32_t c;
  int change;
};

class NormalizedString {
 public:
  NormalizedString() = default;
  explicit NormalizedString(std::string_view original);

  const std::string& get() const { return normalized_; }
  const std::string& get_original() const { return original_; }
  std::size_t len() const { return normalized_.size(); }
  std::size_t len_original() const { return original_.size(); }
  bool empty() const { return normalized_.empty(); }
  std::size_t original_shift() const { return original_shift_; }
  // Offsets of this (sub)string in the whole original input.
  Offsets offsets_original() const { return {original_shift_, original_shift_ + original_.size()}; }

  // Maps a byte range of the normalized string to a byte range of the original (relative to this string).
  std::optional<Offsets> convert_normalized_to_original(std::size_t start, std::size_t end) const;
  std::optional<Offsets> convert_original_to_normalized(std::size_t start, std::size_t end) const;

  // Sub-string by normalized byte range (must fall on char boundaries).
  NormalizedString slice_normalized(std::size_t start, std::size_t end) const;

  void transform_range(std::size_t nstart, std::size_t nend, const std::vector<CharChange>& dest,
                       std::size_t initial_offset);
  void transform(const std::vector<CharChange>& dest, std::size_t initial_offset) {
    transform_range(0, normalized_.size(), dest, initial_offset);
  }

  void nfd();
  void nfkd();
  void nfc();
  void nfkc();
  void lowercase();
  void uppercase();
  void filter(const std::function<bool(char32_t)>& keep);
  void map(const std::function<char32_t(char32_t)>& fn);
  void prepend(std::string_view s);
  void append(std::string_view s);
  void replace(const Pattern& pattern, std::string_view content);
  void lstrip() { lrstrip(true, false); }
  void rstrip() { lrstrip(false, true); }
  void strip() { lrstrip(true, true); }
  void lrstrip(bool left, bool right);
  std::vector<NormalizedString> split(const Pattern& pattern, SplitDelimiterBehavior behavior) const;

  // Direct access for components that build the string themselves.
  std::string& mutable_normalized() { return normalized_; }
  std::vector<Alignment>& mutable_alignments() { return alignments_; }
  const std::vector<Alignment>& alignments() const { return alignments_; }

 private:
  void unicode_normalize(int options);
  std::string original_;
  std::string normalized_;
  std::vector<Alignment> alignments_;
  std::size_t original_shift_ = 0;
};

struct Token {
  std::int64_t id = 0;
  std::string value;
  Offsets offsets;  // bytes, relative to the string given to the model
};

struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;
};

class PreTokenizedString {
 public:
  PreTokenizedString() = default;
  explicit PreTokenizedString(std::string_view text) : original_(text) {
    splits_.push_back(Split{NormalizedString(text), std::nullopt});
  }
  // Replaces every not-yet-tokenized split by the (non-empty) pieces that fn returns.
  void split(const std::function<std::vector<NormalizedString>(std::size_t, NormalizedString&&)>& fn);
  // Same, where fn may attach tokens to pieces (added-token extraction).
  void split_with_tokens(const std::function<std::vector<Split>(std::size_t, NormalizedString&&)>& fn);
  void normalize(const std::function<void(NormalizedString&)>& fn);
  void tokenize(const std::function<std::vector<Token>(const NormalizedString&)>& fn);
  std::vector<Split>& splits() { return splits_; }
  const std::vector<Split>& splits() const { return splits_; }
  const std::string& original() const { return original_; }

 private:
  std::string original_;
  std::vector<Split> splits_;
};

}  // namespace ortformers::tokenizers
