#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

#include "ortformers/hub/hub.hpp"

#include <algorithm>

#include "ortformers/core/error.hpp"
#include "tokenizers/slow_tokenizers.hpp"

namespace ortformers::tokenizers {

namespace fs = std::filesystem;

namespace {

const char* kSpecialNames[] = {"unk_token",  "sep_token", "pad_token", "cls_token",
                               "mask_token", "bos_token", "eos_token"};

std::optional<std::string> token_content(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

// transformers' model_input_names per tokenizer class (PreTrainedTokenizerBase default includes token_type_ids).
std::vector<std::string> default_input_names(const std::string& cls) {
  static const char* without_type_ids[] = {"Roberta", "GPT2",       "DistilBert", "T5",     "XLMRoberta", "Bart",
                                           "CLIP",    "MPNet",      "Llama",      "Marian", "Camembert",  "Longformer",
                                           "Bloom",   "Whisper",    "GPTNeoX",    "Qwen2",  "Gemma",      "CodeGen",
                                           "Mistral", "Blenderbot", "Pegasus",    "MBart",  "Phi",        "Wav2Vec2"};
  for (const char* p : without_type_ids)
    if (cls.rfind(p, 0) == 0) return {"input_ids", "attention_mask"};
  return {"input_ids", "token_type_ids", "attention_mask"};
}

std::string class_from_model_type(const std::string& model_type) {
  static const std::pair<const char*, const char*> table[] = {{"bert", "BertTokenizer"},
                                                              {"distilbert", "DistilBertTokenizer"},
                                                              {"roberta", "RobertaTokenizer"},
                                                              {"albert", "AlbertTokenizer"},
                                                              {"electra", "ElectraTokenizer"},
                                                              {"gpt2", "GPT2Tokenizer"},
                                                              {"t5", "T5Tokenizer"},
                                                              {"xlm-roberta", "XLMRobertaTokenizer"},
                                                              {"mpnet", "MPNetTokenizer"},
                                                              {"bart", "BartTokenizer"},
                                                              {"camembert", "CamembertTokenizer"},
                                                              {"deberta", "DebertaTokenizer"},
                                                              {"deberta-v2", "DebertaV2Tokenizer"},
                                                              {"llama", "LlamaTokenizer"},
                                                              {"mistral", "LlamaTokenizer"},
                                                              {"qwen2", "Qwen2Tokenizer"},
                                                              {"wav2vec2", "Wav2Vec2CTCTokenizer"}};
  for (const auto& [k, v] : table)
    if (model_type == k) return v;
  return "";
}

}  // namespace

PreTrainedTokenizer::PreTrainedTokenizer(Tokenizer backend, const Json& cfg, const Json& map,
                                         const std::string& model_type)
    : backend_(std::make_shared<Tokenizer>(std::move(backend))) {
  if (cfg.is_object() && cfg.contains("chat_template")) chat_template_ = cfg["chat_template"];  // chat_template.cpp
  for (const char* name : kSpecialNames) {
    std::optional<std::string> v;
    if (map.is_object() && map.contains(name)) v = token_content(map[name]);
    if (!v && cfg.is_object() && cfg.contains(name)) v = token_content(cfg[name]);
    if (v) special_[name] = *v;
  }
  for (const Json* src : {&map, &cfg})
    if (src->is_object() && src->contains("additional_special_tokens") &&
        (*src)["additional_special_tokens"].is_array()) {
      for (const auto& v : (*src)["additional_special_tokens"])
        if (auto c = token_content(v)) additional_special_.push_back(*c);
      break;
    }
  if (cfg.is_object()) {
    if (cfg.contains("model_max_length") && cfg["model_max_length"].is_number()) {
      const double v = cfg["model_max_length"].get<double>();
      model_max_length_ = v >= 1e18 || v < 0 ? SIZE_MAX : static_cast<std::size_t>(v);
    }
    if (cfg.contains("tokenizer_class") && cfg["tokenizer_class"].is_string())
      tokenizer_class_ = cfg["tokenizer_class"].get<std::string>();
    if (cfg.contains("do_lower_case") && cfg["do_lower_case"].is_boolean())
      do_lower_case_ = cfg["do_lower_case"].get<bool>();
    if (cfg.contains("clean_up_tokenization_spaces") && cfg["clean_up_tokenization_spaces"].is_boolean())
      clean_up_ = cfg["clean_up_tokenization_spaces"].get<bool>();
    if (cfg.contains("padding_side") && cfg["padding_side"].is_string())
      padding_side_ =
          cfg["padding_side"].get<std::string>() == "left" ? PaddingDirection::Left : PaddingDirection::Right;
    if (cfg.contains("truncation_side") && cfg["truncation_side"].is_string())
      truncation_side_ =
          cfg["truncation_side"].get<std::string>() == "left" ? TruncationDirection::Left : TruncationDirection::Right;
  }
  if (tokenizer_class_.empty()) tokenizer_class_ = class_from_model_type(model_type);
  // The special tokens a transformers tokenizer class sets in its __init__ defaults, for configs that omit them
  // (e.g. a bare {"tokenizer_class": "BertTokenizer"}); only tokens the vocabulary has are taken.
  {
    std::string cls = tokenizer_class_;
    if (cls.size() > 4 && cls.compare(cls.size() - 4, 4, "Fast") == 0) cls.resize(cls.size() - 4);
    std::vector<std::pair<const char*, const char*>> defaults;
    if (cls == "BertTokenizer" || cls == "DistilBertTokenizer" || cls == "ElectraTokenizer" ||
        cls == "MobileBertTokenizer" || cls == "SqueezeBertTokenizer" || cls == "LayoutLMTokenizer") {
      defaults = {{"unk_token", "[UNK]"},
                  {"sep_token", "[SEP]"},
                  {"pad_token", "[PAD]"},
                  {"cls_token", "[CLS]"},
                  {"mask_token", "[MASK]"}};
    } else if (cls == "RobertaTokenizer" || cls == "XLMRobertaTokenizer" || cls == "CamembertTokenizer" ||
               cls == "MPNetTokenizer" || cls == "BartTokenizer" || cls == "LongformerTokenizer") {
      defaults = {{"bos_token", "<s>"}, {"eos_token", "</s>"},  {"unk_token", "<unk>"},  {"sep_token", "</s>"},
                  {"cls_token", "<s>"}, {"pad_token", "<pad>"}, {"mask_token", "<mask>"}};
    } else if (cls == "AlbertTokenizer") {
      defaults = {{"bos_token", "[CLS]"}, {"eos_token", "[SEP]"}, {"unk_token", "<unk>"},  {"sep_token", "[SEP]"},
                  {"pad_token", "<pad>"}, {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}};
    } else if (cls == "GPT2Tokenizer") {
      defaults = {{"unk_token", "<|endoftext|>"}, {"bos_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}};
    }
    for (const auto& [name, token] : defaults)
      if (!special_.count(name) && backend_->token_to_id(token)) special_[name] = token;
  }
  if (cfg.is_object() && cfg.contains("model_input_names") && cfg["model_input_names"].is_array()) {
    for (const auto& n : cfg["model_input_names"])
      if (n.is_string()) model_input_names_.push_back(n.get<std::string>());
  } else {
    std::string cls = tokenizer_class_;
    if (cls.size() > 4 && cls.compare(cls.size() - 4, 4, "Fast") == 0) cls.resize(cls.size() - 4);
    model_input_names_ = default_input_names(cls);
  }
}

std::optional<std::string> PreTrainedTokenizer::special_token(const std::string& name) const {
  auto it = special_.find(name);
  if (it == special_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::int64_t> PreTrainedTokenizer::special_token_id(const std::string& name) const {
  auto t = special_token(name);
  if (!t) return std::nullopt;
  return backend_->token_to_id(*t);
}

std::vector<std::int64_t> PreTrainedTokenizer::all_special_ids() const {
  std::vector<std::int64_t> out;
  auto add = [&](const std::string& t) {
    if (auto id = backend_->token_to_id(t))
      if (std::find(out.begin(), out.end(), *id) == out.end()) out.push_back(*id);
  };
  for (const char* n : kSpecialNames)
    if (auto t = special_token(n)) add(*t);
  for (const auto& t : additional_special_) add(t);
  return out;
}

BatchEncoding PreTrainedTokenizer::call(const std::vector<EncodeInput>& inputs, const TokenizeOptions& o) const {
  EncodeOptions eo;
  eo.add_special_tokens = o.add_special_tokens;
  eo.num_threads = o.num_threads;
  std::optional<std::size_t> max_length = o.max_length;
  if (o.truncation) {
    std::size_t len = max_length.value_or(model_max_length_);
    if (len != SIZE_MAX) {
      TruncationParams t;
      t.max_length = len;
      t.stride = o.stride;
      t.strategy = o.truncation_strategy;
      t.direction = truncation_side_;
      eo.truncation = t;
    }
  }
  if (o.padding != Padding::None) {
    auto pad = pad_token();
    auto pad_id = pad_token_id();
    if (!pad || !pad_id)
      throw InvalidArgument("Asking to pad but the tokenizer does not have a padding token (pad_token is not set)");
    PaddingParams p;
    p.direction = padding_side_;
    p.pad_id = *pad_id;
    p.pad_token = *pad;
    p.pad_type_id = 0;
    p.pad_to_multiple_of = o.pad_to_multiple_of;
    if (o.padding == Padding::MaxLength) {
      const std::size_t len = max_length.value_or(model_max_length_);
      if (len == SIZE_MAX)
        throw InvalidArgument("padding='max_length' needs max_length (the tokenizer has no model_max_length)");
      p.batch_longest = false;
      p.fixed_length = len;
    }
    eo.padding = p;
  }
  std::vector<Encoding> encs = backend_->encode_batch(inputs, eo);
  BatchEncoding out;
  out.model_input_names = model_input_names_;
  for (std::size_t i = 0; i < encs.size(); ++i) {
    std::vector<Encoding> overflow = std::move(encs[i].overflowing);
    encs[i].overflowing.clear();
    out.encodings.push_back(std::move(encs[i]));
    out.overflow_to_sample_mapping.push_back(static_cast<std::int64_t>(i));
    if (o.return_overflowing_tokens)
      for (auto& e : overflow) {
        e.overflowing.clear();
        out.encodings.push_back(std::move(e));
        out.overflow_to_sample_mapping.push_back(static_cast<std::int64_t>(i));
      }
  }
  if (!o.return_overflowing_tokens) out.overflow_to_sample_mapping.clear();
  // Overflowing rows of a batch padded to the longest: pad again over all rows (as transformers does).
  if (o.return_overflowing_tokens && eo.padding) pad_encodings(out.encodings, *eo.padding);
  return out;
}

BatchEncoding PreTrainedTokenizer::operator()(const std::vector<std::string>& texts, const TokenizeOptions& o) const {
  std::vector<EncodeInput> in;
  in.reserve(texts.size());
  for (const auto& t : texts) in.emplace_back(t);
  return call(in, o);
}

BatchEncoding PreTrainedTokenizer::operator()(const std::vector<std::string>& texts,
                                              const std::vector<std::string>& pairs, const TokenizeOptions& o) const {
  if (texts.size() != pairs.size())
    throw InvalidArgument("tokenizer: " + std::to_string(texts.size()) + " texts but " + std::to_string(pairs.size()) +
                          " text pairs");
  std::vector<EncodeInput> in;
  in.reserve(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) in.emplace_back(texts[i], pairs[i]);
  return call(in, o);
}

Encoding PreTrainedTokenizer::encode(std::string_view text, const TokenizeOptions& o) const {
  auto b = (*this)(std::vector<std::string>{std::string(text)}, o);
  return std::move(b.encodings.at(0));
}

std::string PreTrainedTokenizer::decode(std::span<const std::int64_t> ids, bool skip_special_tokens,
                                        std::optional<bool> clean_up) const {
  std::string text;
  if (skip_special_tokens) {
    const auto special = all_special_ids();
    std::vector<std::int64_t> kept;
    for (auto id : ids)
      if (std::find(special.begin(), special.end(), id) == special.end()) kept.push_back(id);
    text = backend_->decode(kept, true);
  } else {
    text = backend_->decode(ids, false);
  }
  if (clean_up.value_or(clean_up_)) text = clean_up_tokenization(text);
  return text;
}

std::vector<std::string> PreTrainedTokenizer::convert_ids_to_tokens(std::span<const std::int64_t> ids) const {
  std::vector<std::string> out;
  for (auto id : ids) {
    auto t = backend_->id_to_token(id);
    if (!t) throw InvalidArgument("token id " + std::to_string(id) + " is out of the vocabulary");
    out.push_back(*t);
  }
  return out;
}

TensorMap BatchEncoding::to_tensors() const {
  TensorMap m;
  const std::size_t batch = encodings.size();
  const std::size_t seq = batch ? encodings[0].size() : 0;
  for (const auto& e : encodings)
    if (e.size() != seq)
      throw InvalidArgument("BatchEncoding::to_tensors: rows have different lengths (" + std::to_string(seq) + " and " +
                            std::to_string(e.size()) + "); use padding");
  auto make = [&](auto field) {
    std::vector<std::int64_t> v;
    v.reserve(batch * seq);
    for (const auto& e : encodings) {
      const auto& f = field(e);
      v.insert(v.end(), f.begin(), f.end());
    }
    return Tensor::from_vector(std::move(v), {static_cast<std::int64_t>(batch), static_cast<std::int64_t>(seq)});
  };
  auto has = [&](const char* n) {
    return std::find(model_input_names.begin(), model_input_names.end(), n) != model_input_names.end();
  };
  m["input_ids"] = make([](const Encoding& e) -> const std::vector<std::int64_t>& { return e.ids; });
  if (has("attention_mask") || model_input_names.empty())
    m["attention_mask"] = make([](const Encoding& e) -> const std::vector<std::int64_t>& { return e.attention_mask; });
  if (has("token_type_ids"))
    m["token_type_ids"] = make([](const Encoding& e) -> const std::vector<std::int64_t>& { return e.type_ids; });
  return m;
}

PreTrainedTokenizer AutoTokenizer::from_pretrained(const fs::path& path_or_id) {
  // A hub id ("org/name") is resolved through the Hugging Face cache (tokenizer files only).
  const fs::path path = hub::resolve_path_or_id(path_or_id, hub::WeightsFormat::None);
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    Tokenizer t = Tokenizer::from_file(path);
    const fs::path dir = path.parent_path();
    Json cfg, map;
    if (fs::is_regular_file(dir / "tokenizer_config.json", ec)) cfg = read_json_file(dir / "tokenizer_config.json");
    if (fs::is_regular_file(dir / "special_tokens_map.json", ec)) map = read_json_file(dir / "special_tokens_map.json");
    return PreTrainedTokenizer(std::move(t), cfg, map);
  }
  if (!fs::is_directory(path, ec)) throw NotFoundError("tokenizer: no such file or folder: " + path.string());
  Json cfg, map;
  std::string model_type;
  if (fs::is_regular_file(path / "tokenizer_config.json", ec)) cfg = read_json_file(path / "tokenizer_config.json");
  if (fs::is_regular_file(path / "special_tokens_map.json", ec)) map = read_json_file(path / "special_tokens_map.json");
  if (fs::is_regular_file(path / "config.json", ec)) {
    const Json c = read_json_file(path / "config.json");
    if (c.is_object() && c.contains("model_type") && c["model_type"].is_string())
      model_type = c["model_type"].get<std::string>();
  }
  std::string cls = cfg.is_object() && cfg.contains("tokenizer_class") && cfg["tokenizer_class"].is_string()
                        ? cfg["tokenizer_class"].get<std::string>()
                        : class_from_model_type(model_type);
  if (fs::is_regular_file(path / "tokenizer.json", ec))
    return PreTrainedTokenizer(Tokenizer::from_file(path / "tokenizer.json"), cfg, map, model_type);
  // Legacy files: the slow tokenizer's vocabulary plus added_tokens.json.
  const Json added = read_added_tokens(path);
  auto legacy = [&](Tokenizer t) {
    add_added_tokens(t, added, cfg, map);
    return PreTrainedTokenizer(std::move(t), cfg, map, model_type);
  };
  if (fs::is_regular_file(path / "vocab.txt", ec)) {
    Tokenizer t = tokenizer_from_wordpiece_vocab(path / "vocab.txt", cfg, map);
    if (cls.rfind("MPNetTokenizer", 0) == 0) set_mpnet_post_processor(t, cfg, map);
    return legacy(std::move(t));
  }
  if (fs::is_regular_file(path / "vocab.json", ec) && fs::is_regular_file(path / "merges.txt", ec)) {
    Tokenizer t = tokenizer_from_bpe_files(path / "vocab.json", path / "merges.txt", cfg, map, cls);
    if (cls.rfind("WhisperTokenizer", 0) != 0) return legacy(std::move(t));
    add_added_tokens(t, added, cfg, map);  // the prefix tokens are added tokens
    set_whisper_post_processor(t, cfg, map);
    return PreTrainedTokenizer(std::move(t), cfg, map, model_type);
  }
  for (const char* name : {"spiece.model", "sentencepiece.bpe.model", "spm.model", "tokenizer.model", "source.spm"})
    if (fs::is_regular_file(path / name, ec)) {
      if (!is_slow_sentencepiece_class(cls)) return legacy(tokenizer_from_sentencepiece(path / name, cfg, map, cls));
      auto slow = tokenizer_from_slow_sentencepiece(path / name, cfg, map, cls, added);
      return PreTrainedTokenizer(std::move(slow.tokenizer), cfg, slow.special_tokens_map, model_type);
    }
  throw NotFoundError("tokenizer: no tokenizer.json, vocab.txt, vocab.json + merges.txt or SentencePiece model in " +
                      path.string());
}

}  // namespace ortformers::tokenizers
