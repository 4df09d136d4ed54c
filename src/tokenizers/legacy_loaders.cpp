// Legacy vocabulary files (vocab.txt, vocab.json + merges.txt, SentencePiece .model) to a Tokenizer, following
// transformers' convert_slow_tokenizer converters.
#include <cstring>
#include <fstream>
#include <sstream>

#include "ortformers/core/error.hpp"
#include "ortformers/tokenizers/pretrained_tokenizer.hpp"
#include "tokenizers/sentencepiece_model.hpp"
#include "tokenizers/unicode.hpp"

namespace ortformers::tokenizers {

namespace fs = std::filesystem;

namespace {

// Special token content from a tokenizer_config / special_tokens_map entry (string or AddedToken dict).
std::optional<AddedToken> token_entry(const Json& v) {
  AddedToken t;
  t.special = true;
  t.normalized = false;
  if (v.is_string()) {
    t.content = v.get<std::string>();
    return t;
  }
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    t.content = v["content"].get<std::string>();
    t.lstrip = v.value("lstrip", false);
    t.rstrip = v.value("rstrip", false);
    t.single_word = v.value("single_word", false);
    t.normalized = v.value("normalized", false);
    return t;
  }
  return std::nullopt;
}

std::optional<AddedToken> special(const Json& cfg, const Json& map, const char* name, const char* dflt) {
  if (map.is_object() && map.contains(name))
    if (auto t = token_entry(map[name])) return t;
  if (cfg.is_object() && cfg.contains(name))
    if (auto t = token_entry(cfg[name])) return t;
  if (dflt) {
    AddedToken t;
    t.content = dflt;
    t.special = true;
    t.normalized = false;
    return t;
  }
  return std::nullopt;
}

std::vector<AddedToken> special_tokens(const Json& cfg, const Json& map,
                                       const std::vector<std::pair<const char*, const char*>>& names) {
  std::vector<AddedToken> out;
  for (const auto& [n, d] : names)
    if (auto t = special(cfg, map, n, d)) out.push_back(*t);
  for (const Json* src : {&map, &cfg})
    if (src->is_object() && src->contains("additional_special_tokens") &&
        (*src)["additional_special_tokens"].is_array()) {
      for (const auto& v : (*src)["additional_special_tokens"])
        if (auto t = token_entry(v)) out.push_back(*t);
      break;
    }
  return out;
}

std::int64_t require_id(const Tokenizer& t, const std::string& token, const char* what) {
  auto id = t.token_to_id(token);
  if (!id) throw FileFormatError(std::string(what) + " token '" + token + "' is not in the vocabulary");
  return *id;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw NotFoundError("cannot open " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool cfg_bool(const Json& cfg, const char* key, bool dflt) {
  return cfg.is_object() && cfg.contains(key) && cfg[key].is_boolean() ? cfg[key].get<bool>() : dflt;
}

}  // namespace

Tokenizer tokenizer_from_wordpiece_vocab(const fs::path& vocab_txt, const Json& cfg, const Json& map) {
  const std::string text = read_all(vocab_txt);
  Vocab vocab;
  std::size_t id = 0, start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string tok = text.substr(start, nl - start);
    if (!tok.empty() && tok.back() == '\r') tok.pop_back();
    vocab.emplace(tok, static_cast<std::int64_t>(id++));
    start = nl + 1;
  }
  if (vocab.empty()) throw FileFormatError(vocab_txt.string() + ": empty vocabulary");
  auto specials = special_tokens(cfg, map,
                                 {{"unk_token", "[UNK]"},
                                  {"sep_token", "[SEP]"},
                                  {"pad_token", "[PAD]"},
                                  {"cls_token", "[CLS]"},
                                  {"mask_token", "[MASK]"}});
  const std::string unk = specials[0].content, sep = specials[1].content, cls = specials[3].content;
  Tokenizer t;
  WordPieceOptions wo;
  wo.unk_token = unk;
  t.set_model(make_wordpiece(std::move(vocab), wo));
  BertNormalizerOptions no;
  no.lowercase = cfg_bool(cfg, "do_lower_case", true);
  no.handle_chinese_chars = cfg_bool(cfg, "tokenize_chinese_chars", true);
  if (cfg.is_object() && cfg.contains("strip_accents") && cfg["strip_accents"].is_boolean())
    no.strip_accents = cfg["strip_accents"].get<bool>();
  t.set_normalizer(make_bert_normalizer(no));
  t.set_pre_tokenizer(make_bert_pre_tokenizer());
  t.add_tokens(specials);
  t.set_post_processor(make_template_processing(cls + ":0 $A:0 " + sep + ":0",
                                                cls + ":0 $A:0 " + sep + ":0 $B:1 " + sep + ":1",
                                                {{cls, require_id(t, cls, "cls")}, {sep, require_id(t, sep, "sep")}}));
  t.set_decoder(make_wordpiece_decoder("##", true));
  return t;
}

Tokenizer tokenizer_from_bpe_files(const fs::path& vocab_json, const fs::path& merges_txt, const Json& cfg,
                                   const Json& map, const std::string& tokenizer_class) {
  const Json v = read_json_file(vocab_json);
  if (!v.is_object()) throw FileFormatError(vocab_json.string() + ": must be a JSON object token -> id");
  Vocab vocab;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.value().is_number_integer())
      throw FileFormatError(vocab_json.string() + ": id of '" + it.key() + "' is not an integer");
    vocab.emplace(it.key(), it.value().get<std::int64_t>());
  }
  const std::string text = read_all(merges_txt);
  std::vector<std::pair<std::string, std::string>> merges;
  std::size_t start = 0;
  bool first = true;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first && line.rfind("#version", 0) == 0) {
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) continue;
    const auto sp = line.find(' ');
    if (sp == std::string::npos)
      throw FileFormatError(merges_txt.string() + ": merge line without a space: '" + line + "'");
    merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  const bool add_prefix_space = cfg_bool(cfg, "add_prefix_space", false);
  Tokenizer t;
  t.set_model(make_bpe(std::move(vocab), merges, BpeOptions{}));
  t.set_pre_tokenizer(make_byte_level_pre_tokenizer(add_prefix_space, true));
  t.set_decoder(make_byte_level_decoder());
  const bool roberta = tokenizer_class.find("Roberta") != std::string::npos ||
                       tokenizer_class.find("Bart") != std::string::npos ||
                       tokenizer_class.find("Longformer") != std::string::npos;
  if (roberta) {
    auto specials = special_tokens(cfg, map,
                                   {{"bos_token", "<s>"},
                                    {"eos_token", "</s>"},
                                    {"sep_token", "</s>"},
                                    {"cls_token", "<s>"},
                                    {"unk_token", "<unk>"},
                                    {"pad_token", "<pad>"},
                                    {"mask_token", "<mask>"}});
    t.add_tokens(specials);
    const std::string sep = specials[2].content, cls = specials[3].content;
    t.set_post_processor(make_roberta_processing({sep, require_id(t, sep, "sep")}, {cls, require_id(t, cls, "cls")},
                                                 true, add_prefix_space));
  } else {
    t.add_tokens(special_tokens(
        cfg, map, {{"bos_token", nullptr}, {"eos_token", nullptr}, {"unk_token", nullptr}, {"pad_token", nullptr}}));
    t.set_post_processor(make_byte_level_processing(true, false));
  }
  return t;
}

Tokenizer tokenizer_from_sentencepiece(const fs::path& model_file, const Json& cfg, const Json& map,
                                       const std::string& tokenizer_class) {
  const SpmModel m = parse_spm(read_all(model_file), model_file.string());
  if (m.model_type != 1)
    throw UnsupportedError(model_file.string() + ": SentencePiece model type " + std::to_string(m.model_type) +
                           " (only Unigram models are supported from .model files; use a tokenizer.json)");
  std::vector<UnigramPiece> pieces;
  std::optional<std::size_t> unk_id;
  // (XLMRobertaTokenizer and DebertaV2Tokenizer folders are built by tokenizer_from_slow_sentencepiece.)
  for (std::size_t i = 0; i < m.pieces.size(); ++i) {
    pieces.push_back({m.pieces[i].piece, m.pieces[i].score});
    if (m.pieces[i].type == 2 && !unk_id) unk_id = i;
  }
  Tokenizer t;
  t.set_model(make_unigram(std::move(pieces), unk_id, m.byte_fallback));
  std::vector<std::unique_ptr<Normalizer>> norms;
  const bool albert = tokenizer_class.find("Albert") != std::string::npos;
  if (albert) {
    norms.push_back(make_replace_normalizer("``", false, "\""));
    norms.push_back(make_replace_normalizer("''", false, "\""));
    if (!cfg_bool(cfg, "keep_accents", false)) {
      norms.push_back(make_simple_normalizer("NFKD"));
      norms.push_back(make_simple_normalizer("StripAccents"));
    }
    if (cfg_bool(cfg, "do_lower_case", true)) norms.push_back(make_simple_normalizer("Lowercase"));
  }
  if (!m.charsmap.empty()) norms.push_back(make_precompiled_normalizer(m.charsmap));
  norms.push_back(make_replace_normalizer(" {2,}", true, " "));
  t.set_normalizer(make_sequence_normalizer(std::move(norms)));
  t.set_pre_tokenizer(make_metaspace_pre_tokenizer(U'\u2581', "always", true));
  t.set_decoder(make_metaspace_decoder(U'\u2581', "always", true));
  if (albert) {
    auto specials = special_tokens(cfg, map,
                                   {{"unk_token", "<unk>"},
                                    {"sep_token", "[SEP]"},
                                    {"pad_token", "<pad>"},
                                    {"cls_token", "[CLS]"},
                                    {"mask_token", "[MASK]"}});
    t.add_tokens(specials);
    const std::string sep = specials[1].content, cls = specials[3].content;
    t.set_post_processor(
        make_template_processing(cls + ":0 $A:0 " + sep + ":0", cls + ":0 $A:0 " + sep + ":0 $B:1 " + sep + ":1",
                                 {{cls, require_id(t, cls, "cls")}, {sep, require_id(t, sep, "sep")}}));
  } else if (tokenizer_class.find("T5") != std::string::npos) {
    auto specials = special_tokens(cfg, map, {{"eos_token", "</s>"}, {"unk_token", "<unk>"}, {"pad_token", "<pad>"}});
    t.add_tokens(specials);
    t.set_post_processor(
        make_template_processing("$A </s>", "$A </s> $B </s>", {{"</s>", require_id(t, "</s>", "eos")}}));
  } else {
    t.add_tokens(special_tokens(
        cfg, map, {{"unk_token", nullptr}, {"bos_token", nullptr}, {"eos_token", nullptr}, {"pad_token", nullptr}}));
  }
  return t;
}

}  // namespace ortformers::tokenizers
