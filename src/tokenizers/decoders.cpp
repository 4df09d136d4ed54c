#include "ortformers/tokenizers/decoders.hpp"

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/normalized_string.hpp"
#include "ortformers/tokenizers/pre_tokenizers.hpp"
#include "tokenizers/json_util.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace u = unicode;

std::string Decoder::decode(std::vector<std::string> tokens) const {
  std::string out;
  for (const auto& t : decode_chain(std::move(tokens))) out += t;
  return out;
}

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::size_t pos = 0;
  std::string out;
  bool any = false;
  std::size_t last = 0;
  while ((pos = s.find(from, last)) != std::string::npos) {
    any = true;
    out.append(s, last, pos - last);
    out += to;
    last = pos + from.size();
  }
  if (!any) return;
  out.append(s, last, std::string::npos);
  s = std::move(out);
}

}  // namespace

std::string clean_up_tokenization(const std::string& text) {
  std::string s = text;
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
  return s;
}

namespace {

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      auto& t = tokens[i];
      if (i != 0) {
        if (!prefix_.empty() && t.compare(0, prefix_.size(), prefix_) == 0)
          t.erase(0, prefix_.size());
        else if (!prefix_.empty())  // an empty prefix: replacen("", "", 1) is a no-op
          t = " " + t;              // (not t.insert(0, " "): GCC 12 raises a false -Wrestrict on it)
      }
      if (cleanup_) t = clean_up_tokenization(t);
    }
    return tokens;
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class ByteLevelDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      std::string tb;
      bool ok = true;
      std::size_t i = 0, l = 0;
      while (i < t.size()) {
        const int b = unicode_to_byte(u::decode(t, i, l));
        if (b < 0) {
          ok = false;
          break;
        }
        tb.push_back(static_cast<char>(b));
        i += l;
      }
      bytes += ok ? tb : t;
    }
    return {u::from_utf8_lossy(bytes)};
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(char32_t r, std::string scheme) : rep_(u::to_utf8(r)), scheme_(std::move(scheme)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      std::size_t p = 0;
      while (p < t.size()) {
        if (t.compare(p, rep_.size(), rep_) == 0) {
          if (!(i == 0 && scheme_ != "never")) out += ' ';
          p += rep_.size();
        } else {
          out += t[p++];
        }
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }

 private:
  std::string rep_, scheme_;
};

class BpeDecoder : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
    return tokens;
  }

 private:
  std::string suffix_;
};

class ByteFallbackDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    std::size_t pending_n = 0;
    auto flush = [&] {
      if (pending_n == 0) return;
      if (u::find_invalid_utf8(pending) == std::string::npos)
        out.push_back(pending);
      else
        for (std::size_t k = 0; k < pending_n; ++k) out.push_back("\xEF\xBF\xBD");
      pending.clear();
      pending_n = 0;
    };
    for (auto& t : tokens) {
      int byte = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        auto hex = [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c))
                     ? (std::isdigit(static_cast<unsigned char>(c))
                            ? c - '0'
                            : (std::tolower(static_cast<unsigned char>(c)) - 'a' + 10))
                     : -1;
        };
        const int h = hex(t[3]), l = hex(t[4]);
        if (h >= 0 && l >= 0) byte = h * 16 + l;
      }
      if (byte >= 0) {
        pending.push_back(static_cast<char>(byte));
        ++pending_n;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    return out;
  }
};

class FuseDecoder : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string s;
    for (const auto& t : tokens) s += t;
    return {s};
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t c, std::size_t start, std::size_t stop) : c_(c), start_(start), stop_(stop) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      std::vector<char32_t> chars;
      std::size_t p = 0, l = 0;
      while (p < t.size()) {
        chars.push_back(u::decode(t, p, l));
        p += l;
      }
      std::size_t start_cut = 0;
      for (std::size_t i = 0; i < start_ && i < chars.size(); ++i) {
        if (chars[i] == c_)
          start_cut = i + 1;
        else
          break;
      }
      std::size_t stop_cut = chars.size();
      for (std::size_t i = 0; i < stop_ && i < chars.size(); ++i) {
        const std::size_t idx = chars.size() - i - 1;
        if (chars[idx] == c_)
          stop_cut = idx;
        else
          break;
      }
      std::string out;
      for (std::size_t i = start_cut; i < stop_cut; ++i) u::append_utf8(out, chars[i]);
      t = std::move(out);
    }
    return tokens;
  }

 private:
  char32_t c_;
  std::size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(const std::string& pattern, bool is_regex, std::string content) : content_(std::move(content)) {
    if (is_regex)
      pattern_ = std::make_unique<RegexPattern>(pattern);
    else
      pattern_ = std::make_unique<StringPattern>(pattern);
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (auto& t : tokens) {
      std::string out;
      for (const auto& m : pattern_->find_matches(t)) {
        if (m.is_match)
          out += content_;
        else
          out.append(t, m.start, m.end - m.start);
      }
      t = std::move(out);
    }
    return tokens;
  }

 private:
  std::unique_ptr<Pattern> pattern_;
  std::string content_;
};

class CtcDecoder : public Decoder {
 public:
  CtcDecoder(std::string pad, std::string delim, bool cleanup)
      : pad_(std::move(pad)), delim_(std::move(delim)), cleanup_(cleanup) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 && tokens[i] == tokens[i - 1]) continue;
      std::string t = tokens[i];
      replace_all(t, pad_, "");
      if (cleanup_) {
        t = clean_up_tokenization(t);
        replace_all(t, delim_, " ");
      }
      if (!t.empty()) out.push_back(std::move(t));
    }
    return out;
  }

 private:
  std::string pad_, delim_;
  bool cleanup_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> v) : v_(std::move(v)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (const auto& d : v_) tokens = d->decode_chain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> v_;
};

char32_t single_char(const std::string& s, const char* where) {
  if (s.empty() || u::find_invalid_utf8(s) != std::string::npos || u::count_chars(s) != 1)
    throw FileFormatError(std::string("tokenizer.json: ") + where + " must be a single character, not '" + s + "'");
  std::size_t l = 0;
  return u::decode(s, 0, l);
}

}  // namespace

std::unique_ptr<Decoder> make_wordpiece_decoder(const std::string& prefix, bool cleanup) {
  return std::make_unique<WordPieceDecoder>(prefix, cleanup);
}
std::unique_ptr<Decoder> make_byte_level_decoder() {
  return std::make_unique<ByteLevelDecoder>();
}
std::unique_ptr<Decoder> make_metaspace_decoder(char32_t replacement, const std::string& prepend_scheme, bool) {
  return std::make_unique<MetaspaceDecoder>(replacement, prepend_scheme);
}

std::unique_ptr<Decoder> decoder_from_json(const Json& j) {
  if (j.is_null()) return nullptr;
  const std::string type = json_util::get_string(j, "type", "decoder");
  if (type == "WordPiece")
    return make_wordpiece_decoder(json_util::get_string_or(j, "prefix", "##"), json_util::get_bool(j, "cleanup", true));
  if (type == "ByteLevel") return make_byte_level_decoder();
  if (type == "Metaspace") {
    std::string scheme;
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string())
      scheme = j["prepend_scheme"].get<std::string>();
    else
      scheme = json_util::get_bool(j, "add_prefix_space", true) ? "always" : "never";
    return make_metaspace_decoder(
        single_char(json_util::get_string_or(j, "replacement", "\xE2\x96\x81"), "Metaspace replacement"), scheme,
        json_util::get_bool(j, "split", true));
  }
  if (type == "BPEDecoder") return std::make_unique<BpeDecoder>(json_util::get_string_or(j, "suffix", "</w>"));
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip")
    return std::make_unique<StripDecoder>(
        single_char(json_util::get_string(j, "content", "Strip decoder"), "Strip content"),
        j.value("start", std::size_t{0}), j.value("stop", std::size_t{0}));
  if (type == "Replace") {
    const auto [pattern, is_regex] = json_util::get_pattern(j, "Replace decoder");
    return std::make_unique<ReplaceDecoder>(pattern, is_regex, json_util::get_string(j, "content", "Replace decoder"));
  }
  if (type == "CTC")
    return std::make_unique<CtcDecoder>(json_util::get_string_or(j, "pad_token", "<pad>"),
                                        json_util::get_string_or(j, "word_delimiter_token", "|"),
                                        json_util::get_bool(j, "cleanup", true));
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> v;
    for (const auto& d : json_util::get_array(j, "decoders", "Sequence decoder"))
      if (auto x = decoder_from_json(d)) v.push_back(std::move(x));
    return std::make_unique<SequenceDecoder>(std::move(v));
  }
  throw UnsupportedError("decoder type '" + type + "' is not supported");
}

}  // namespace ortformers::tokenizers
