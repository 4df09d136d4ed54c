// Slow-tokenizer conventions for legacy model folders (see slow_tokenizers.hpp). Follows transformers 4.31's
// tokenization_xlm_roberta.py, tokenization_deberta_v2.py, tokenization_mpnet.py and tokenization_utils.py, and
// SentencePiece's normalizer (normalizer.cc: remove_extra_whitespaces, add_dummy_prefix).
#include "tokenizers/slow_tokenizers.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <unordered_map>
#include <unordered_set>

#include "ortformers/core/error.hpp"
#include "tokenizers/sentencepiece_model.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace fs = std::filesystem;

namespace {

std::string strip_fast(std::string cls) {
  if (cls.size() > 4 && cls.compare(cls.size() - 4, 4, "Fast") == 0) cls.resize(cls.size() - 4);
  return cls;
}

// Content of a special token entry of special_tokens_map.json / tokenizer_config.json (string or AddedToken dict),
// the map first as transformers reads it.
std::optional<std::string> special_content(const Json& cfg, const Json& map, const char* name) {
  for (const Json* src : {&map, &cfg}) {
    if (!src->is_object() || !src->contains(name)) continue;
    const Json& v = (*src)[name];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  }
  return std::nullopt;
}

// SPECIAL_TOKENS_ATTRIBUTES order of transformers (the order in which missing special tokens are appended).
constexpr const char* kSpecialAttributes[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                              "pad_token", "cls_token", "mask_token"};

std::set<std::string> special_contents(const Json& cfg, const Json& map) {
  std::set<std::string> out;
  for (const char* n : kSpecialAttributes)
    if (auto c = special_content(cfg, map, n)) out.insert(*c);
  for (const Json* src : {&map, &cfg})
    if (src->is_object() && src->contains("additional_special_tokens") &&
        (*src)["additional_special_tokens"].is_array()) {
      for (const auto& v : (*src)["additional_special_tokens"]) {
        if (v.is_string()) out.insert(v.get<std::string>());
        if (v.is_object() && v.contains("content") && v["content"].is_string())
          out.insert(v["content"].get<std::string>());
      }
      break;
    }
  return out;
}

// A special token as the slow tokenizers match it: in the raw text (their trie runs before any normalisation), the
// whitespace around it left to SentencePiece, which drops it anyway.
AddedToken special_token(const std::string& content) {
  AddedToken t;
  t.content = content;
  t.special = true;
  t.normalized = false;
  return t;
}

bool cfg_flag(const Json& cfg, const char* key, bool dflt) {
  return cfg.is_object() && cfg.contains(key) && cfg[key].is_boolean() ? cfg[key].get<bool>() : dflt;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw NotFoundError("cannot open " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// SentencePiece's whitespace rules as pre-tokenization: with remove_extra_whitespaces, spaces (after the charsmap)
// separate words and are dropped, so leading / trailing spaces vanish and runs count once; every word then gets
// the "▁" that SentencePiece writes for a space and for the dummy prefix. Pieces never span a space, so encoding
// word by word is encoding the whole chunk. split_by_punct (DeBERTa-v2) encodes every punctuation character on its
// own, as _run_split_on_punc does.
Json sentencepiece_pre_tokenizer(const SpmModel& m, bool split_by_punct) {
  Json seq = Json::array();
  if (split_by_punct) seq.push_back({{"type", "Punctuation"}, {"behavior", "Isolated"}});
  if (m.remove_extra_whitespaces)
    seq.push_back({{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Removed"}, {"invert", false}});
  seq.push_back({{"type", "Metaspace"},
                 {"replacement", "\u2581"},
                 {"prepend_scheme", m.add_dummy_prefix ? "always" : "never"},
                 {"split", true}});
  return {{"type", "Sequence"}, {"pretokenizers", seq}};
}

// One UTF-8 character at the start of `s` as sentencepiece's IsValidDecodeUTF8 reads it: its length when valid (no
// overlong form, no surrogate, at most U+10FFFF, complete), else 0.
std::size_t valid_utf8_char(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  std::size_t n;
  char32_t c;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4;
    c = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[k]);
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  const char32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  return n;
}

// transformers' slow decode for the SentencePiece tokenizers that keep the sp_model (LlamaTokenizer, T5Tokenizer):
// PreTrainedTokenizer._decode splits the tokens at added tokens (joined with spaces, spaces_between_special_tokens),
// convert_tokens_to_string hands the runs between special tokens to sp_model.decode and writes the special tokens
// verbatim (a space before one that follows a non-special token: Llama only when it is not the first token; T5
// strips the result), and sp_model.decode (sentencepiece_processor.cc Decode) drops control pieces, writes the
// unknown piece as its surface " ⁇ ", joins byte pieces into UTF-8 (U+FFFD for every byte of an invalid sequence),
// turns "▁" into spaces and consumes the first piece's leading "▁" (the dummy prefix).
class SlowSentencePieceDecoder : public Decoder {
 public:
  enum class Style { Llama, T5 };
  SlowSentencePieceDecoder(const SpmModel& m, Style style, std::unordered_set<std::string> special,
                           std::unordered_set<std::string> added)
      : style_(style),
        special_(std::move(special)),
        added_(std::move(added)),
        unk_surface_(m.unk_surface),
        strip_bos_ws_(m.add_dummy_prefix || m.remove_extra_whitespaces),
        remove_extra_whitespaces_(m.remove_extra_whitespaces) {
    for (const auto& p : m.pieces) {
      const bool normal =
          p.type == SpmModel::kNormal || p.type == SpmModel::kUserDefined || p.type == SpmModel::kUnused;
      (normal ? normal_ : reserved_).emplace(p.piece, p.type);
      if (p.type == SpmModel::kUnknown && unk_piece_.empty()) unk_piece_ = p.piece;
    }
  }

  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> sub_texts;
    std::vector<std::string> current;
    for (auto& t : tokens) {
      if (added_.count(t)) {
        if (!current.empty()) sub_texts.push_back(tokens_to_string(current));
        current.clear();
        sub_texts.push_back(std::move(t));
      } else {
        current.push_back(std::move(t));
      }
    }
    if (!current.empty()) sub_texts.push_back(tokens_to_string(current));
    std::string out;
    for (std::size_t i = 0; i < sub_texts.size(); ++i) {
      if (i) out += ' ';
      out += sub_texts[i];
    }
    return {out};
  }

 private:
  // convert_tokens_to_string of LlamaTokenizer / T5Tokenizer (transformers 4.31).
  std::string tokens_to_string(const std::vector<std::string>& tokens) const {
    std::vector<std::string_view> run;
    std::string out;
    bool prev_is_special = false;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (special_.count(tokens[i])) {
        if (!prev_is_special && (style_ == Style::T5 || i != 0)) out += ' ';
        out += sp_decode(run);
        out += tokens[i];
        prev_is_special = true;
        run.clear();
      } else {
        run.push_back(tokens[i]);
        prev_is_special = false;
      }
    }
    out += sp_decode(run);
    if (style_ == Style::T5) {  // str.strip()
      std::size_t b = 0, e = out.size();
      auto ws_at = [&](std::size_t pos, std::size_t& len) {
        return unicode::is_whitespace(unicode::decode(out, pos, len));
      };
      std::size_t len = 0;
      while (b < e && ws_at(b, len)) b += len;
      while (e > b) {
        std::size_t s = e - 1;
        while (s > b && (static_cast<unsigned char>(out[s]) & 0xC0) == 0x80) --s;
        if (!ws_at(s, len)) break;
        e = s;
      }
      out = out.substr(b, e - b);
    }
    return out;
  }

  int piece_type(std::string_view piece) const {
    if (auto it = reserved_.find(std::string(piece)); it != reserved_.end()) return it->second;
    if (auto it = normal_.find(std::string(piece)); it != normal_.end()) return it->second;
    return 0;  // not a piece: the unknown id, whose piece it is not
  }

  std::string sp_decode(const std::vector<std::string_view>& pieces) const {
    static const std::string kSpace = "\u2581";
    std::string text, bytes;
    auto flush_bytes = [&] {
      std::size_t off = 0;
      while (off < bytes.size()) {
        const std::size_t n = valid_utf8_char(std::string_view(bytes).substr(off));
        if (n == 0) {
          text += "\xEF\xBF\xBD";
          ++off;
        } else {
          text.append(bytes, off, n);
          off += n;
        }
      }
      bytes.clear();
    };
    bool is_bos_ws = true, bos_ws_seen = false;
    for (std::string_view piece : pieces) {
      const int type = piece_type(piece);
      if (type == SpmModel::kByte) {
        unsigned value = 0;
        std::sscanf(std::string(piece).c_str(), "<0x%2X>", &value);
        bytes.push_back(static_cast<char>(value));
        continue;
      }
      flush_bytes();
      if (bos_ws_seen || !text.empty()) is_bos_ws = false;
      bos_ws_seen = false;
      if (type == SpmModel::kControl) continue;
      if (type == SpmModel::kUnknown || type == 0) {
        text += piece == unk_piece_ ? unk_surface_ : std::string(piece);
        continue;
      }
      if (is_bos_ws && strip_bos_ws_ && piece.substr(0, kSpace.size()) == kSpace) {
        piece.remove_prefix(kSpace.size());
        bos_ws_seen = !remove_extra_whitespaces_;
      }
      for (std::size_t p = 0; p < piece.size();) {
        if (piece.compare(p, kSpace.size(), kSpace) == 0) {
          text += ' ';
          p += kSpace.size();
        } else {
          text += piece[p++];
        }
      }
    }
    flush_bytes();
    return text;
  }

  Style style_;
  std::unordered_set<std::string> special_, added_;
  std::unordered_map<std::string, int> normal_, reserved_;
  std::string unk_piece_, unk_surface_;
  bool strip_bos_ws_, remove_extra_whitespaces_;
};

// A special token from tokenizer_config.json / special_tokens_map.json as 4.31's slow tokenize() matches it: in the
// raw text; an AddedToken dict keeps its lstrip / rstrip, a plain string eats the whitespace on both sides.
std::optional<AddedToken> slow_special(const Json& v) {
  AddedToken t;
  t.special = true;
  t.normalized = false;
  if (v.is_string()) {
    t.content = v.get<std::string>();
    t.lstrip = t.rstrip = true;
  } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    t.content = v["content"].get<std::string>();
    t.lstrip = v.value("lstrip", false);
    t.rstrip = v.value("rstrip", false);
    t.single_word = v.value("single_word", false);
  } else {
    return std::nullopt;
  }
  return t;
}

std::optional<AddedToken> slow_special(const Json& cfg, const Json& map, const char* name) {
  for (const Json* src : {&map, &cfg})
    if (src->is_object() && src->contains(name))
      if (auto t = slow_special((*src)[name])) return t;
  return std::nullopt;
}

std::vector<AddedToken> slow_additional_specials(const Json& cfg, const Json& map) {
  std::vector<AddedToken> out;
  for (const Json* src : {&map, &cfg})
    if (src->is_object() && src->contains("additional_special_tokens") &&
        (*src)["additional_special_tokens"].is_array()) {
      for (const auto& v : (*src)["additional_special_tokens"])
        if (auto t = slow_special(v)) out.push_back(*t);
      break;
    }
  return out;
}

// The SentencePiece normalizer (normalizer.cc) as normalizers: the precompiled charsmap, remove_extra_whitespaces
// (leading / trailing spaces dropped, runs collapsed), the dummy "▁" prefix of a non-empty text, spaces as "▁".
std::unique_ptr<Normalizer> sentencepiece_normalizer(const SpmModel& m) {
  std::vector<std::unique_ptr<Normalizer>> norms;
  if (!m.charsmap.empty()) norms.push_back(make_precompiled_normalizer(m.charsmap));
  if (m.remove_extra_whitespaces) {
    norms.push_back(normalizer_from_json({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}));
    norms.push_back(make_replace_normalizer(" {2,}", true, " "));
  }
  if (m.add_dummy_prefix) norms.push_back(normalizer_from_json({{"type", "Prepend"}, {"prepend", "\u2581"}}));
  if (m.escape_whitespaces) norms.push_back(make_replace_normalizer(" ", false, "\u2581"));
  return make_sequence_normalizer(std::move(norms));
}

std::unordered_set<std::string> all_special_contents(const std::vector<AddedToken>& named,
                                                     const std::vector<AddedToken>& additional) {
  std::unordered_set<std::string> out;
  for (const auto& t : named) out.insert(t.content);
  for (const auto& t : additional) out.insert(t.content);
  return out;
}

// Added tokens of the slow tokenizer (added_tokens_encoder): the tokens of the backend that are no SentencePiece piece
// and not in `also_vocab` (T5's extra ids, which _convert_token_to_id resolves without adding them).
std::unordered_set<std::string> added_encoder(const Tokenizer& t, const std::unordered_set<std::string>& also_vocab) {
  std::unordered_set<std::string> out;
  for (const auto& a : t.added_vocabulary().tokens())
    if (!t.model().token_to_id(a.content) && !also_vocab.count(a.content)) out.insert(a.content);
  return out;
}

// LlamaTokenizer (transformers 4.31, legacy=True): sp_model.encode of every chunk between special / added tokens
// (each chunk gets SentencePiece's dummy prefix), <s> A (</s>) per add_bos_token / add_eos_token, pairs
// <s> A <s> B; decode as SlowSentencePieceDecoder.
SlowSentencePiece slow_llama(const fs::path& model_file, const SpmModel& m, const Json& cfg, const Json& map,
                             const Json& added_tokens) {
  if (cfg.is_object() && cfg.contains("legacy") && cfg["legacy"].is_boolean() && !cfg["legacy"].get<bool>())
    throw UnsupportedError(model_file.string() +
                           ": LlamaTokenizer with legacy=false (tokenizer_config.json) is not supported; transformers "
                           "4.31's default legacy=true is");
  Tokenizer t;
  if (m.model_type == 2) {
    t.set_model(make_sentencepiece_bpe(m.pieces, m.byte_fallback));
  } else if (m.model_type == 1) {
    std::vector<UnigramPiece> pieces;
    std::optional<std::size_t> unk_id;
    for (std::size_t i = 0; i < m.pieces.size(); ++i) {
      pieces.push_back({m.pieces[i].piece, m.pieces[i].score});
      if (m.pieces[i].type == SpmModel::kUnknown && !unk_id) unk_id = i;
    }
    t.set_model(make_unigram(std::move(pieces), unk_id, m.byte_fallback));
  } else {
    throw UnsupportedError(model_file.string() + ": SentencePiece model type " + std::to_string(m.model_type) +
                           " (LlamaTokenizer needs a BPE or Unigram model)");
  }
  t.set_normalizer(sentencepiece_normalizer(m));

  add_added_tokens(t, added_tokens, cfg, map);
  // LlamaTokenizer.__init__ wraps string special tokens as AddedToken(lstrip=False, rstrip=False).
  std::vector<AddedToken> named;
  const std::pair<const char*, const char*> names[] = {
      {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"pad_token", nullptr}};
  std::string bos = "<s>", eos = "</s>";
  for (const auto& [name, dflt] : names) {
    std::optional<AddedToken> tok = slow_special(cfg, map, name);
    if (!tok && dflt) tok = slow_special(Json(dflt));
    if (!tok) continue;
    tok->lstrip = tok->rstrip = false;
    if (std::string(name) == "bos_token") bos = tok->content;
    if (std::string(name) == "eos_token") eos = tok->content;
    named.push_back(*tok);
  }
  for (const char* name : {"sep_token", "cls_token", "mask_token"})
    if (auto tok = slow_special(cfg, map, name)) named.push_back(*tok);
  const auto additional = slow_additional_specials(cfg, map);
  std::vector<AddedToken> all = named;
  all.insert(all.end(), additional.begin(), additional.end());
  t.add_tokens(all);

  const bool add_bos = cfg_flag(cfg, "add_bos_token", true), add_eos = cfg_flag(cfg, "add_eos_token", false);
  std::string single, pair;
  std::vector<std::pair<std::string, std::int64_t>> ids;
  auto id_of = [&](const std::string& tok) {
    auto id = t.token_to_id(tok);
    if (!id) throw FileFormatError(model_file.string() + ": special token '" + tok + "' has no id");
    return *id;
  };
  if (add_bos) ids.emplace_back(bos, id_of(bos));
  if (add_eos && eos != bos) ids.emplace_back(eos, id_of(eos));
  const std::string b = add_bos ? bos + ":0 " : "", e0 = add_eos ? " " + eos + ":0" : "";
  const std::string b1 = add_bos ? bos + ":1 " : "", e1 = add_eos ? " " + eos + ":1" : "";
  t.set_post_processor(make_template_processing(b + "$A:0" + e0, b + "$A:0" + e0 + " " + b1 + "$B:1" + e1, ids));
  t.set_decoder(std::make_unique<SlowSentencePieceDecoder>(
      m, SlowSentencePieceDecoder::Style::Llama, all_special_contents(named, additional), added_encoder(t, {})));
  return {std::move(t), map.is_object() ? map : Json::object()};
}

// T5Tokenizer (transformers 4.31, legacy=True): the SentencePiece Unigram pieces, then `extra_ids` tokens
// <extra_id_N> with id (pieces + extra_ids - 1 - N), then the added tokens (<pad> when it is no piece); A </s> and
// A </s> B </s>; special tokens given as strings eat the spaces around them; decode as SlowSentencePieceDecoder.
SlowSentencePiece slow_t5(const fs::path& model_file, const SpmModel& m, const Json& cfg, const Json& map,
                          const Json& added_tokens) {
  if (m.model_type != 1)
    throw UnsupportedError(model_file.string() + ": SentencePiece model type " + std::to_string(m.model_type) +
                           " (T5Tokenizer needs a Unigram model)");
  std::vector<UnigramPiece> pieces;
  std::optional<std::size_t> unk_id;
  for (std::size_t i = 0; i < m.pieces.size(); ++i) {
    pieces.push_back({m.pieces[i].piece, m.pieces[i].score});
    if (m.pieces[i].type == SpmModel::kUnknown && !unk_id) unk_id = i;
  }
  if (!unk_id) throw FileFormatError(model_file.string() + ": the SentencePiece model has no unknown piece");
  const std::int64_t n_pieces = static_cast<std::int64_t>(pieces.size());
  Tokenizer t;
  t.set_model(make_unigram(std::move(pieces), unk_id, m.byte_fallback));
  if (!m.charsmap.empty()) t.set_normalizer(make_precompiled_normalizer(m.charsmap));
  t.set_pre_tokenizer(pre_tokenizer_from_json(sentencepiece_pre_tokenizer(m, false)));

  std::int64_t extra_ids = 100;
  if (cfg.is_object() && cfg.contains("extra_ids")) {
    if (!cfg["extra_ids"].is_number_integer() || cfg["extra_ids"].get<std::int64_t>() < 0 ||
        cfg["extra_ids"].get<std::int64_t>() > 100000)
      throw FileFormatError("tokenizer_config.json: extra_ids must be a non-negative integer, got " +
                            cfg["extra_ids"].dump());
    extra_ids = cfg["extra_ids"].get<std::int64_t>();
  }
  std::unordered_set<std::string> extra_names;
  std::vector<AddedToken> extra;
  for (std::int64_t i = 0; i < extra_ids; ++i) {
    AddedToken a;
    a.content = "<extra_id_" + std::to_string(i) + ">";
    a.id = n_pieces + extra_ids - 1 - i;
    a.special = true;
    a.normalized = false;
    a.lstrip = a.rstrip = true;
    extra_names.insert(a.content);
    extra.push_back(std::move(a));
  }
  t.add_tokens(extra);
  add_added_tokens(t, added_tokens, cfg, map);
  std::vector<AddedToken> named;
  const std::pair<const char*, const char*> names[] = {
      {"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"pad_token", "<pad>"}};
  for (const auto& [name, dflt] : names) {
    std::optional<AddedToken> tok = slow_special(cfg, map, name);
    if (!tok) tok = slow_special(Json(dflt));
    named.push_back(*tok);
  }
  for (const char* name : {"bos_token", "sep_token", "cls_token", "mask_token"})
    if (auto tok = slow_special(cfg, map, name)) named.push_back(*tok);
  auto additional = slow_additional_specials(cfg, map);
  // An <extra_id_N> listed as additional special token keeps its id (T5Tokenizer._convert_token_to_id).
  for (auto& a : additional)
    for (const auto& x : extra)
      if (x.content == a.content) a.id = x.id;
  std::vector<AddedToken> all = named;
  all.insert(all.end(), additional.begin(), additional.end());
  t.add_tokens(all);
  const std::string eos = named[0].content;
  const auto eos_id = t.token_to_id(eos);
  if (!eos_id) throw FileFormatError(model_file.string() + ": eos token '" + eos + "' has no id");
  t.set_post_processor(
      make_template_processing("$A:0 " + eos + ":0", "$A:0 " + eos + ":0 $B:1 " + eos + ":1", {{eos, *eos_id}}));
  t.set_decoder(std::make_unique<SlowSentencePieceDecoder>(
      m, SlowSentencePieceDecoder::Style::T5, all_special_contents(named, additional), added_encoder(t, extra_names)));
  return {std::move(t), map.is_object() ? map : Json::object()};
}

}  // namespace

bool is_slow_sentencepiece_class(const std::string& tokenizer_class) {
  const std::string c = strip_fast(tokenizer_class);
  return c == "XLMRobertaTokenizer" || c == "DebertaV2Tokenizer" || c == "LlamaTokenizer" || c == "T5Tokenizer";
}

Json read_added_tokens(const fs::path& dir) {
  std::error_code ec;
  const fs::path p = dir / "added_tokens.json";
  if (!fs::is_regular_file(p, ec)) return nullptr;
  Json j;
  try {
    j = Json::parse(read_file(p));
  } catch (const Json::exception& e) {
    throw FileFormatError(p.string() + ": " + e.what());
  }
  if (!j.is_object()) throw FileFormatError(p.string() + ": must be a JSON object token -> id");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!it.value().is_number_integer() || it.value().get<std::int64_t>() < 0)
      throw FileFormatError(p.string() + ": id of '" + it.key() + "' is not a non-negative integer");
  return j;
}

void add_added_tokens(Tokenizer& t, const Json& added_tokens, const Json& cfg, const Json& map) {
  if (!added_tokens.is_object()) return;
  const auto specials = special_contents(cfg, map);
  std::vector<std::pair<std::int64_t, std::string>> by_id;
  for (auto it = added_tokens.begin(); it != added_tokens.end(); ++it)
    by_id.emplace_back(it.value().get<std::int64_t>(), it.key());
  std::sort(by_id.begin(), by_id.end());
  std::vector<AddedToken> tokens;
  for (const auto& [id, content] : by_id) {
    AddedToken a = special_token(content);
    a.special = specials.count(content) > 0;
    a.id = id;
    tokens.push_back(std::move(a));
  }
  t.add_tokens(std::move(tokens));
}

SlowSentencePiece tokenizer_from_slow_sentencepiece(const fs::path& model_file, const Json& cfg, const Json& map,
                                                    const std::string& tokenizer_class, const Json& added_tokens) {
  const std::string cls = strip_fast(tokenizer_class);
  const bool xlmr = cls == "XLMRobertaTokenizer";
  if (!is_slow_sentencepiece_class(cls))
    throw InvalidArgument("tokenizer_from_slow_sentencepiece: unsupported class '" + tokenizer_class + "'");
  const SpmModel m = parse_spm(read_file(model_file), model_file.string());
  if (cls == "LlamaTokenizer") return slow_llama(model_file, m, cfg, map, added_tokens);
  if (cls == "T5Tokenizer") return slow_t5(model_file, m, cfg, map, added_tokens);
  if (m.model_type != 1)
    throw UnsupportedError(model_file.string() + ": SentencePiece model type " + std::to_string(m.model_type) + " (" +
                           cls + " needs a Unigram model)");

  std::vector<UnigramPiece> pieces;
  std::optional<std::size_t> unk_id;
  if (xlmr) {
    // fairseq layout: <s> 0, <pad> 1, </s> 2, <unk> 3, then SentencePiece id + 1 (its own <unk> <s> </s>, ids 0-2,
    // are replaced by the fairseq ones), <mask> last. An unknown piece (SentencePiece id 0) is <unk> = 3.
    if (m.pieces.size() < 3)
      throw FileFormatError(model_file.string() + ": " + std::to_string(m.pieces.size()) +
                            " pieces; XLMRobertaTokenizer needs at least <unk> <s> </s>");
    pieces = {{"<s>", 0.0}, {"<pad>", 0.0}, {"</s>", 0.0}, {"<unk>", 0.0}};
    for (std::size_t i = 3; i < m.pieces.size(); ++i) pieces.push_back({m.pieces[i].piece, m.pieces[i].score});
    pieces.push_back({"<mask>", 0.0});
    unk_id = 3;
  } else {
    for (std::size_t i = 0; i < m.pieces.size(); ++i) {
      pieces.push_back({m.pieces[i].piece, m.pieces[i].score});
      if (m.pieces[i].type == SpmModel::kUnknown && !unk_id) unk_id = i;
    }
    if (!unk_id) throw FileFormatError(model_file.string() + ": the SentencePiece model has no unknown piece");
  }

  Tokenizer t;
  t.set_model(make_unigram(std::move(pieces), unk_id, m.byte_fallback));
  std::vector<std::unique_ptr<Normalizer>> norms;
  // DebertaV2Tokenizer._tokenize lowercases before SentencePiece when do_lower_case.
  if (!xlmr && cfg_flag(cfg, "do_lower_case", false)) norms.push_back(make_simple_normalizer("Lowercase"));
  if (!m.charsmap.empty()) norms.push_back(make_precompiled_normalizer(m.charsmap));
  if (!norms.empty()) t.set_normalizer(make_sequence_normalizer(std::move(norms)));
  t.set_pre_tokenizer(
      pre_tokenizer_from_json(sentencepiece_pre_tokenizer(m, !xlmr && cfg_flag(cfg, "split_by_punct", false))));
  t.set_decoder(make_metaspace_decoder(U'\u2581', "always", true));

  // Special tokens: added_tokens.json first (their saved ids), then every special token of the configuration that is
  // neither a piece nor already added, appended in transformers' order; the unknown token is never added (a text
  // "[UNK]" is SentencePiece's unknown piece).
  add_added_tokens(t, added_tokens, cfg, map);
  const char* const defaults[][2] = {{"bos_token", xlmr ? "<s>" : "[CLS]"},     {"eos_token", xlmr ? "</s>" : "[SEP]"},
                                     {"unk_token", xlmr ? "<unk>" : "[UNK]"},   {"sep_token", xlmr ? "</s>" : "[SEP]"},
                                     {"pad_token", xlmr ? "<pad>" : "[PAD]"},   {"cls_token", xlmr ? "<s>" : "[CLS]"},
                                     {"mask_token", xlmr ? "<mask>" : "[MASK]"}};
  std::string content[7];
  std::vector<AddedToken> specials;
  for (std::size_t i = 0; i < 7; ++i) {
    content[i] = special_content(cfg, map, defaults[i][0]).value_or(defaults[i][1]);
    if (i == 2 && !t.token_to_id(content[i])) continue;  // see SlowSentencePiece
    specials.push_back(special_token(content[i]));
  }
  for (const Json* src : {&map, &cfg})
    if (src->is_object() && src->contains("additional_special_tokens") &&
        (*src)["additional_special_tokens"].is_array()) {
      for (const auto& v : (*src)["additional_special_tokens"]) {
        if (v.is_string()) specials.push_back(special_token(v.get<std::string>()));
        if (v.is_object() && v.contains("content") && v["content"].is_string())
          specials.push_back(special_token(v["content"].get<std::string>()));
      }
      break;
    }
  t.add_tokens(std::move(specials));

  const std::string& sep = content[3];
  const std::string& cls_tok = content[5];
  auto id_of = [&](const std::string& tok, const char* what) {
    auto id = t.token_to_id(tok);
    if (!id) throw FileFormatError(model_file.string() + ": " + what + " token '" + tok + "' has no id");
    return *id;
  };
  const std::vector<std::pair<std::string, std::int64_t>> ids = {{cls_tok, id_of(cls_tok, "cls")},
                                                                 {sep, id_of(sep, "sep")}};
  if (xlmr)  // build_inputs_with_special_tokens: <s> A </s> / <s> A </s></s> B </s>; token type ids all 0
    t.set_post_processor(make_template_processing(
        cls_tok + ":0 $A:0 " + sep + ":0", cls_tok + ":0 $A:0 " + sep + ":0 " + sep + ":0 $B:0 " + sep + ":0", ids));
  else  // [CLS] A [SEP] / [CLS] A [SEP] B [SEP]; type ids 0 up to the first [SEP], 1 after
    t.set_post_processor(make_template_processing(cls_tok + ":0 $A:0 " + sep + ":0",
                                                  cls_tok + ":0 $A:0 " + sep + ":0 $B:1 " + sep + ":1", ids));
  Json effective_map = map.is_object() ? map : Json::object();
  if (!t.token_to_id(content[2])) effective_map["unk_token"] = *t.id_to_token(static_cast<std::int64_t>(*unk_id));
  return {std::move(t), std::move(effective_map)};
}

void set_whisper_post_processor(Tokenizer& t, const Json& cfg, const Json& map) {
  std::vector<std::string> prefix = {"<|startoftranscript|>"};
  auto str = [&](const char* key) -> std::string {
    return cfg.is_object() && cfg.contains(key) && cfg[key].is_string() ? cfg[key].get<std::string>() : "";
  };
  if (const std::string lang = str("language"); !lang.empty()) {
    if (!t.token_to_id("<|" + lang + "|>"))
      throw UnsupportedError("WhisperTokenizer: language '" + lang +
                             "' (tokenizer_config.json) is not a language token; give its code, e.g. \"en\"");
    prefix.push_back("<|" + lang + "|>");
  }
  if (const std::string task = str("task"); !task.empty()) {
    if (task != "transcribe" && task != "translate")
      throw FileFormatError(
          "tokenizer_config.json: WhisperTokenizer task must be \"transcribe\" or \"translate\", got '" + task + "'");
    prefix.push_back("<|" + task + "|>");
  }
  if (!cfg_flag(cfg, "predict_timestamps", false)) prefix.push_back("<|notimestamps|>");
  const std::string eos = special_content(cfg, map, "eos_token").value_or("<|endoftext|>");
  std::vector<std::pair<std::string, std::int64_t>> ids;
  std::string head;
  for (const auto& p : prefix) {
    auto id = t.token_to_id(p);
    if (!id) throw FileFormatError("WhisperTokenizer: special token '" + p + "' is not in the vocabulary");
    if (std::none_of(ids.begin(), ids.end(), [&](const auto& x) { return x.first == p; })) ids.emplace_back(p, *id);
    head += p + ":0 ";
  }
  auto eos_id = t.token_to_id(eos);
  if (!eos_id) throw FileFormatError("WhisperTokenizer: eos token '" + eos + "' is not in the vocabulary");
  ids.emplace_back(eos, *eos_id);
  t.set_post_processor(make_template_processing(head + "$A:0 " + eos + ":0", head + "$A:0 $B:0 " + eos + ":0", ids));
}

void set_mpnet_post_processor(Tokenizer& t, const Json& cfg, const Json& map) {
  const std::string cls = special_content(cfg, map, "cls_token").value_or("<s>");
  const std::string sep = special_content(cfg, map, "sep_token").value_or("</s>");
  auto cls_id = t.token_to_id(cls), sep_id = t.token_to_id(sep);
  if (!cls_id || !sep_id)
    throw FileFormatError("MPNetTokenizer: cls token '" + cls + "' or sep token '" + sep +
                          "' is not in the vocabulary");
  t.set_post_processor(make_template_processing(cls + ":0 $A:0 " + sep + ":0",
                                                cls + ":0 $A:0 " + sep + ":0 " + sep + ":0 $B:0 " + sep + ":0",
                                                {{cls, *cls_id}, {sep, *sep_id}}));
}

}  // namespace ortformers::tokenizers
