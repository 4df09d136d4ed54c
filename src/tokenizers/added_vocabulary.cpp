#include "ortformers/tokenizers/added_vocabulary.hpp"

#include <algorithm>

#include "ortformers/tokenizers/normalizers.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace u = unicode;

void AddedVocabulary::Matcher::build() {
  for (auto& v : by_first) v.clear();
  for (std::size_t i = 0; i < patterns.size(); ++i)
    if (!patterns[i].empty()) by_first[static_cast<unsigned char>(patterns[i][0])].push_back(i);
  for (auto& v : by_first)
    std::stable_sort(v.begin(), v.end(),
                     [&](std::size_t a, std::size_t b) { return patterns[a].size() > patterns[b].size(); });
}

void AddedVocabulary::set_tokens(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  tokens_ = std::move(tokens);
  by_content_.clear();
  by_id_.clear();
  special_.clear();
  raw_ = Matcher{};
  normalized_ = Matcher{};
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const auto& t = tokens_[i];
    by_content_[t.content] = t.id;
    by_id_[t.id] = t.content;
    if (t.special) special_.insert(t.content);
    if (t.normalized) {
      NormalizedString n(t.content);
      if (normalizer) normalizer->normalize(n);
      normalized_.patterns.push_back(n.get());
      normalized_.token_index.push_back(i);
    } else {
      raw_.patterns.push_back(t.content);
      raw_.token_index.push_back(i);
    }
  }
  raw_.build();
  normalized_.build();
}

std::optional<std::int64_t> AddedVocabulary::token_to_id(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> AddedVocabulary::id_to_token(std::int64_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

bool AddedVocabulary::is_special_id(std::int64_t id) const {
  auto it = by_id_.find(id);
  return it != by_id_.end() && special_.count(it->second);
}

namespace {
char32_t last_char(std::string_view s) {
  std::size_t b = s.size() - 1;
  while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
  std::size_t l = 0;
  return u::decode(s, b, l);
}
}  // namespace

std::vector<Split> AddedVocabulary::split_with(NormalizedString&& s, const Matcher& m) const {
  std::vector<Split> out;
  const std::string& text = s.get();
  if (m.patterns.empty() || text.empty()) {
    out.push_back(Split{std::move(s), std::nullopt});
    return out;
  }
  struct Found {
    std::size_t start, stop, token;
  };
  std::vector<Found> found;
  std::size_t start_offset = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto& candidates = m.by_first[static_cast<unsigned char>(text[i])];
    std::optional<std::size_t> hit;
    if (!candidates.empty())
      for (std::size_t pi : candidates)
        if (text.compare(i, m.patterns[pi].size(), m.patterns[pi]) == 0) {
          hit = pi;
          break;
        }
    if (!hit) {
      ++i;
      continue;
    }
    const std::size_t mat_end = i + m.patterns[*hit].size();
    const AddedToken& tok = tokens_[m.token_index[*hit]];
    std::size_t start = i, stop = mat_end;
    i = mat_end;
    if (tok.single_word) {
      const bool start_space = start == 0 || !u::is_word_char(last_char(std::string_view(text).substr(0, start)));
      std::size_t l = 0;
      const bool stop_space = stop == text.size() || !u::is_word_char(u::decode(text, stop, l));
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) {
      std::size_t ns = start;
      while (ns > 0) {
        std::size_t b = ns - 1;
        while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
        std::size_t l = 0;
        if (!u::is_whitespace(u::decode(text, b, l))) break;
        ns = b;
      }
      start = std::max(ns, start_offset);
    }
    if (tok.rstrip) {
      std::size_t l = 0;
      while (stop < text.size()) {
        const char32_t c = u::decode(text, stop, l);
        if (!u::is_whitespace(c)) break;
        stop += l;
      }
    }
    found.push_back({start, stop, m.token_index[*hit]});
    start_offset = stop;
  }
  if (found.empty()) {
    out.push_back(Split{std::move(s), std::nullopt});
    return out;
  }
  std::size_t prev = 0;
  for (const auto& f : found) {
    if (prev < f.start) out.push_back(Split{s.slice_normalized(prev, f.start), std::nullopt});
    NormalizedString piece = s.slice_normalized(f.start, f.stop);
    std::vector<Token> toks{Token{tokens_[f.token].id, piece.get(), {0, piece.len()}}};
    out.push_back(Split{std::move(piece), std::move(toks)});
    prev = f.stop;
  }
  if (prev < text.size()) out.push_back(Split{s.slice_normalized(prev, text.size()), std::nullopt});
  return out;
}

PreTokenizedString AddedVocabulary::extract_and_normalize(const Normalizer* normalizer, std::string_view text) const {
  PreTokenizedString p(text);
  if (!raw_.patterns.empty())
    p.split_with_tokens([&](std::size_t, NormalizedString&& s) { return split_with(std::move(s), raw_); });
  p.split_with_tokens([&](std::size_t, NormalizedString&& s) {
    if (normalizer) normalizer->normalize(s);
    return split_with(std::move(s), normalized_);
  });
  return p;
}

}  // namespace ortformers::tokenizers
