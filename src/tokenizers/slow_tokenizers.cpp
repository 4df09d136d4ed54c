// Slow-tokenizer conventions for legacy model folders (see slow_tokenizers.hpp). Follows transformers 4.31's
// tokenization_xlm_roberta.py, tokenization_deberta_v2.py, tokenization_mpnet.py and tokenization_utils.py, and
// SentencePiece's normalizer (normalizer.cc: remove_extra_whitespaces, add_dummy_prefix).
#include "tokenizers/slow_tokenizers.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "ortformers/core/error.hpp"
#include "tokenizers/sentencepiece_model.hpp"

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

}  // namespace

bool is_slow_sentencepiece_class(const std::string& tokenizer_class) {
  const std::string c = strip_fast(tokenizer_class);
  return c == "XLMRobertaTokenizer" || c == "DebertaV2Tokenizer";
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
  if (!xlmr && cls != "DebertaV2Tokenizer")
    throw InvalidArgument("tokenizer_from_slow_sentencepiece: unsupported class '" + tokenizer_class + "'");
  const SpmModel m = parse_spm(read_file(model_file), model_file.string());
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
