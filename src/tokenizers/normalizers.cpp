#include "ortformers/tokenizers/normalizers.hpp"

#include <utf8proc.h>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/pre_tokenizers.hpp"
#include "tokenizers/json_util.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace u = unicode;

namespace {

class BertNormalizer : public Normalizer {
 public:
  explicit BertNormalizer(const BertNormalizerOptions& o) : o_(o) {}
  void normalize(NormalizedString& s) const override {
    if (o_.clean_text) {
      bool need = false;
      for (unsigned char c : s.get())
        if (c >= 0x80 || c < 0x20 || c == 0x7F) {
          need = true;
          break;
        }
      if (need) {
        s.filter([](char32_t c) { return !u::is_removed_by_clean_text(c); });
        s.map([](char32_t c) { return (c == '\t' || c == '\n' || c == '\r' || u::is_whitespace(c)) ? U' ' : c; });
      }
    }
    if (o_.handle_chinese_chars) {
      bool any = false;
      std::size_t i = 0, len = 0;
      const std::string& t = s.get();
      while (i < t.size()) {
        if (static_cast<unsigned char>(t[i]) >= 0xE3 && u::is_chinese_char(u::decode(t, i, len))) {
          any = true;
          break;
        }
        i += u::lead_len(static_cast<unsigned char>(t[i]));
      }
      if (any) {
        std::vector<CharChange> changes;
        changes.reserve(t.size() + 8);
        i = 0;
        while (i < t.size()) {
          const char32_t c = u::decode(t, i, len);
          if (u::is_chinese_char(c)) {
            changes.push_back({U' ', 0});
            changes.push_back({c, 1});
            changes.push_back({U' ', 1});
          } else {
            changes.push_back({c, 0});
          }
          i += len;
        }
        s.transform(changes, 0);
      }
    }
    const bool strip = o_.strip_accents.value_or(o_.lowercase);
    if (strip) {
      s.nfd();
      bool ascii = true;
      for (unsigned char c : s.get())
        if (c >= 0x80) {
          ascii = false;
          break;
        }
      if (!ascii) s.filter([](char32_t c) { return !u::is_bert_nonspacing_mark(c); });
    }
    if (o_.lowercase) s.lowercase();
  }

 private:
  BertNormalizerOptions o_;
};

class FnNormalizer : public Normalizer {
 public:
  explicit FnNormalizer(std::function<void(NormalizedString&)> fn) : fn_(std::move(fn)) {}
  void normalize(NormalizedString& s) const override { fn_(s); }

 private:
  std::function<void(NormalizedString&)> fn_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> n) : n_(std::move(n)) {}
  void normalize(NormalizedString& s) const override {
    for (const auto& n : n_) n->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> n_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(const std::string& pattern, bool is_regex, std::string content) : content_(std::move(content)) {
    if (is_regex)
      pattern_ = std::make_unique<RegexPattern>(pattern);
    else
      pattern_ = std::make_unique<StringPattern>(pattern);
  }
  void normalize(NormalizedString& s) const override { s.replace(*pattern_, content_); }

 private:
  std::unique_ptr<Pattern> pattern_;
  std::string content_;
};

// SentencePiece precompiled charsmap: a Darts double-array trie over UTF-8 keys whose values index a blob of
// NUL-terminated replacement strings.
class PrecompiledNormalizer : public Normalizer {
 public:
  explicit PrecompiledNormalizer(const std::string& blob) {
    if (blob.size() < 4) throw FileFormatError("Precompiled normalizer: precompiled_charsmap is too short");
    const auto* p = reinterpret_cast<const unsigned char*>(blob.data());
    const std::uint32_t trie_size = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
    if (trie_size % 4 != 0 || 4 + static_cast<std::size_t>(trie_size) > blob.size())
      throw FileFormatError("Precompiled normalizer: invalid trie size in precompiled_charsmap");
    trie_.resize(trie_size / 4);
    for (std::size_t i = 0; i < trie_.size(); ++i) {
      const unsigned char* q = p + 4 + i * 4;
      trie_[i] = q[0] | (q[1] << 8) | (q[2] << 16) | (static_cast<std::uint32_t>(q[3]) << 24);
    }
    normalized_ = blob.substr(4 + trie_size);
  }

  // Replacement of `chunk` (the first value of a common-prefix search), or nullptr.
  const char* transform(std::string_view chunk, std::size_t& out_len) const {
    if (trie_.empty()) return nullptr;
    std::size_t node = 0;
    std::uint32_t unit = trie_[0];
    node ^= offset(unit);
    for (unsigned char c : chunk) {
      if (c == 0) return nullptr;
      node ^= c;
      if (node >= trie_.size()) return nullptr;
      unit = trie_[node];
      if ((unit & ((1u << 31) | 0xFFu)) != c) return nullptr;
      node ^= offset(unit);
      if (node >= trie_.size()) return nullptr;
      if ((unit >> 8) & 1) {
        const std::size_t index = trie_[node] & ((1u << 31) - 1);
        if (index >= normalized_.size()) return nullptr;
        std::size_t end = index;
        while (end < normalized_.size() && normalized_[end] != 0) ++end;
        out_len = end - index;
        return normalized_.data() + index;
      }
    }
    return nullptr;
  }

  void normalize(NormalizedString& s) const override {
    const std::string& text = s.get();
    std::vector<CharChange> changes;
    changes.reserve(text.size());
    bool modified = false;
    auto replace = [&](std::string_view old_part, std::string_view repl) {
      const int old_count = static_cast<int>(u::count_chars(old_part));
      int new_count = 0;
      std::size_t i = 0, l = 0;
      while (i < repl.size()) {
        changes.push_back({u::decode(repl, i, l), 0});
        i += l;
        ++new_count;
      }
      const int diff = new_count - old_count;
      if (diff > 0) {
        for (int k = 0; k < diff && k < static_cast<int>(changes.size()); ++k)
          changes[changes.size() - 1 - k].change = 1;
      } else if (diff < 0 && !changes.empty()) {
        changes.back().change += diff;
      }
    };
    // Extended grapheme clusters.
    std::size_t pos = 0;
    utf8proc_int32_t state = 0;
    while (pos < text.size()) {
      std::size_t len = 0;
      char32_t prev = u::decode(text, pos, len);
      std::size_t end = pos + len;
      state = 0;
      while (end < text.size()) {
        std::size_t l2 = 0;
        const char32_t c = u::decode(text, end, l2);
        if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev), static_cast<utf8proc_int32_t>(c),
                                             &state))
          break;
        prev = c;
        end += l2;
      }
      const std::string_view g(text.data() + pos, end - pos);
      std::size_t rlen = 0;
      if (g.size() < 6) {
        if (const char* r = transform(g, rlen)) {
          modified = true;
          replace(g, std::string_view(r, rlen));
          pos = end;
          continue;
        }
      }
      std::size_t i = 0, l = 0;
      while (i < g.size()) {
        const char32_t c = u::decode(g, i, l);
        const std::string_view part = g.substr(i, l);
        if (const char* r = transform(part, rlen)) {
          modified = true;
          replace(part, std::string_view(r, rlen));
        } else {
          changes.push_back({c, 0});
        }
        i += l;
      }
      pos = end;
    }
    if (modified) s.transform(changes, 0);
  }

 private:
  static std::size_t offset(std::uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }
  std::vector<std::uint32_t> trie_;
  std::string normalized_;
};

void byte_level_normalize(NormalizedString& s) {
  const std::string& t = s.get();
  if (t.empty()) return;
  std::vector<CharChange> changes;
  changes.reserve(t.size());
  std::size_t i = 0;
  while (i < t.size()) {
    const std::size_t l = u::lead_len(static_cast<unsigned char>(t[i]));
    for (std::size_t k = 0; k < l; ++k) {
      std::size_t cl = 0;
      const std::string& m = byte_to_unicode(static_cast<unsigned char>(t[i + k]));
      changes.push_back({u::decode(m, 0, cl), k > 0 ? 1 : 0});
    }
    i += l;
  }
  s.transform(changes, 0);
}

}  // namespace

std::unique_ptr<Normalizer> make_bert_normalizer(const BertNormalizerOptions& options) {
  return std::make_unique<BertNormalizer>(options);
}
std::unique_ptr<Normalizer> make_precompiled_normalizer(const std::string& charsmap) {
  return std::make_unique<PrecompiledNormalizer>(charsmap);
}
std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> normalizers) {
  return std::make_unique<SequenceNormalizer>(std::move(normalizers));
}
std::unique_ptr<Normalizer> make_replace_normalizer(const std::string& pattern, bool is_regex,
                                                    const std::string& content) {
  return std::make_unique<ReplaceNormalizer>(pattern, is_regex, content);
}

std::unique_ptr<Normalizer> make_simple_normalizer(const std::string& kind) {
  if (kind == "NFC") return std::make_unique<FnNormalizer>([](NormalizedString& s) { s.nfc(); });
  if (kind == "NFD") return std::make_unique<FnNormalizer>([](NormalizedString& s) { s.nfd(); });
  if (kind == "NFKC") return std::make_unique<FnNormalizer>([](NormalizedString& s) { s.nfkc(); });
  if (kind == "NFKD") return std::make_unique<FnNormalizer>([](NormalizedString& s) { s.nfkd(); });
  if (kind == "Lowercase") return std::make_unique<FnNormalizer>([](NormalizedString& s) { s.lowercase(); });
  if (kind == "StripAccents")
    return std::make_unique<FnNormalizer>(
        [](NormalizedString& s) { s.filter([](char32_t c) { return !u::is_combining_mark(c); }); });
  if (kind == "ByteLevel") return std::make_unique<FnNormalizer>(byte_level_normalize);
  throw UnsupportedError("normalizer type '" + kind + "' is not supported");
}

std::unique_ptr<Normalizer> normalizer_from_json(const Json& j) {
  if (j.is_null()) return nullptr;
  const std::string type = json_util::get_string(j, "type", "normalizer");
  if (type == "BertNormalizer") {
    BertNormalizerOptions o;
    o.clean_text = json_util::get_bool(j, "clean_text", true);
    o.handle_chinese_chars = json_util::get_bool(j, "handle_chinese_chars", true);
    if (j.contains("strip_accents") && !j["strip_accents"].is_null()) o.strip_accents = j["strip_accents"].get<bool>();
    o.lowercase = json_util::get_bool(j, "lowercase", true);
    return make_bert_normalizer(o);
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> v;
    for (const auto& n : json_util::get_array(j, "normalizers", "Sequence normalizer"))
      if (auto p = normalizer_from_json(n)) v.push_back(std::move(p));
    return make_sequence_normalizer(std::move(v));
  }
  if (type == "Strip") {
    const bool l = json_util::get_bool(j, "strip_left", true), r = json_util::get_bool(j, "strip_right", true);
    return std::make_unique<FnNormalizer>([l, r](NormalizedString& s) { s.lrstrip(l, r); });
  }
  if (type == "Replace") {
    const auto [pattern, is_regex] = json_util::get_pattern(j, "Replace normalizer");
    return make_replace_normalizer(pattern, is_regex, json_util::get_string(j, "content", "Replace normalizer"));
  }
  if (type == "Prepend") {
    std::string p = json_util::get_string(j, "prepend", "Prepend normalizer");
    return std::make_unique<FnNormalizer>([p](NormalizedString& s) {
      if (!s.empty()) s.prepend(p);
    });
  }
  if (type == "Precompiled") {
    if (!j.contains("precompiled_charsmap") || j["precompiled_charsmap"].is_null())
      return std::make_unique<FnNormalizer>([](NormalizedString&) {});
    const std::string blob = json_util::base64_decode(j["precompiled_charsmap"].get<std::string>());
    if (blob.empty()) return std::make_unique<FnNormalizer>([](NormalizedString&) {});
    return make_precompiled_normalizer(blob);
  }
  return make_simple_normalizer(type);
}

}  // namespace ortformers::tokenizers
