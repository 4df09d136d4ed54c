#pragma once
// The transformers-level tokenizer: a Tokenizer plus the settings of tokenizer_config.json / special_tokens_map.json
// (special tokens, model_max_length, model_input_names, padding side, clean-up), called like
// `tokenizer(texts, padding=..., truncation=..., max_length=...)` in Python.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ortformers/chat_template/chat_template.hpp"
#include "ortformers/core/json.hpp"
#include "ortformers/core/tensor.hpp"
#include "ortformers/tokenizers/tokenizer.hpp"

namespace ortformers::tokenizers {

enum class Padding { None, Longest, MaxLength };

struct TokenizeOptions {
  bool add_special_tokens = true;
  Padding padding = Padding::None;  // padding=False | "longest" (True) | "max_length"
  bool truncation = false;          // truncation=True: longest_first to max_length (model_max_length when unset)
  TruncationStrategy truncation_strategy = TruncationStrategy::LongestFirst;
  std::optional<std::size_t> max_length;
  std::size_t stride = 0;
  std::optional<std::size_t> pad_to_multiple_of;
  bool return_overflowing_tokens = false;
  std::size_t num_threads = 1;  // threads for batch encoding (0 = hardware concurrency)
};

struct BatchEncoding {
  std::vector<Encoding> encodings;
  std::vector<std::string> model_input_names;
  // With return_overflowing_tokens: the input index of every row.
  std::vector<std::int64_t> overflow_to_sample_mapping;
  std::size_t size() const { return encodings.size(); }
  // int64 tensors [batch, seq]: input_ids, attention_mask and token_type_ids (only when model_input_names has them).
  // Throws InvalidArgument when the rows have different lengths (ask for padding).
  TensorMap to_tensors() const;
};

// apply_chat_template's keyword arguments (transformers' names).
struct ChatTemplateOptions {
  bool add_generation_prompt = false;
  bool tokenize = false;  // also encode the text (add_special_tokens=False, as transformers)
  // A template name of tokenizer_config.json's list ("default", "tool_use", ...) or a template string.
  std::optional<std::string> chat_template;
  chat_template::OrderedJson tools;           // null = none
  chat_template::OrderedJson extra_variables;  // an object of further template variables (null = none)
};

struct ChatTemplateResult {
  std::string text;
  std::vector<std::int64_t> input_ids;  // with tokenize
};

class PreTrainedTokenizer {
 public:
  PreTrainedTokenizer() = default;
  // `tokenizer_config` / `special_tokens_map`: the parsed files (null when absent); `model_type` from config.json.
  PreTrainedTokenizer(Tokenizer backend, const Json& tokenizer_config, const Json& special_tokens_map,
                      const std::string& model_type = "");

  BatchEncoding operator()(const std::vector<std::string>& texts, const TokenizeOptions& options = {}) const;
  BatchEncoding operator()(const std::vector<std::string>& texts, const std::vector<std::string>& text_pairs,
                           const TokenizeOptions& options = {}) const;
  Encoding encode(std::string_view text, const TokenizeOptions& options = {}) const;

  std::string decode(std::span<const std::int64_t> ids, bool skip_special_tokens = false,
                     std::optional<bool> clean_up_tokenization_spaces = std::nullopt) const;
  std::vector<std::string> convert_ids_to_tokens(std::span<const std::int64_t> ids) const;
  std::optional<std::int64_t> convert_tokens_to_ids(std::string_view token) const {
    return backend_->token_to_id(token);
  }

  // tokenizer_config.json model_max_length, as transformers (SIZE_MAX stands for its VERY_LARGE_INTEGER when unset).
  std::size_t model_max_length() const { return model_max_length_; }
  const std::vector<std::string>& model_input_names() const { return model_input_names_; }
  const std::string& tokenizer_class() const { return tokenizer_class_; }
  bool do_lower_case() const { return do_lower_case_; }
  bool clean_up_tokenization_spaces() const { return clean_up_; }
  PaddingDirection padding_side() const { return padding_side_; }
  TruncationDirection truncation_side() const { return truncation_side_; }

  // Special tokens (name: "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "bos_token", "eos_token").
  std::optional<std::string> special_token(const std::string& name) const;
  std::optional<std::int64_t> special_token_id(const std::string& name) const;
  std::optional<std::string> mask_token() const { return special_token("mask_token"); }
  std::optional<std::string> cls_token() const { return special_token("cls_token"); }
  std::optional<std::string> sep_token() const { return special_token("sep_token"); }
  std::optional<std::string> pad_token() const { return special_token("pad_token"); }
  std::optional<std::string> unk_token() const { return special_token("unk_token"); }
  std::optional<std::int64_t> mask_token_id() const { return special_token_id("mask_token"); }
  std::optional<std::int64_t> cls_token_id() const { return special_token_id("cls_token"); }
  std::optional<std::int64_t> sep_token_id() const { return special_token_id("sep_token"); }
  std::optional<std::int64_t> pad_token_id() const { return special_token_id("pad_token"); }
  std::optional<std::int64_t> unk_token_id() const { return special_token_id("unk_token"); }
  // Ids of every special token (the named ones and additional_special_tokens).
  std::vector<std::int64_t> all_special_ids() const;
  std::size_t num_special_tokens_to_add(bool pair = false) const { return backend_->num_special_tokens_to_add(pair); }

  // transformers' apply_chat_template: renders `messages` (a list of {role, content, ...}) with tokenizer_config.json's
  // chat_template (chat_template.cpp). InvalidArgument with transformers' text when no template is set.
  ChatTemplateResult apply_chat_template(const chat_template::OrderedJson& messages,
                                         const ChatTemplateOptions& options = {}) const;
  // tokenizer_config.json's chat_template: a string, a list of {name, template}, or null.
  const Json& chat_template() const { return chat_template_; }
  void set_chat_template(Json chat_template) { chat_template_ = std::move(chat_template); }

  const Tokenizer& backend() const { return *backend_; }
  Tokenizer& backend() { return *backend_; }

 private:
  BatchEncoding call(const std::vector<EncodeInput>& inputs, const TokenizeOptions& options) const;
  // Shared: copies of a PreTrainedTokenizer share one backend, as Python objects passed to a pipeline do.
  std::shared_ptr<Tokenizer> backend_ = std::make_shared<Tokenizer>();
  std::map<std::string, std::string> special_;
  std::vector<std::string> additional_special_;
  std::size_t model_max_length_ = SIZE_MAX;
  std::vector<std::string> model_input_names_;
  std::string tokenizer_class_;
  bool do_lower_case_ = false;
  bool clean_up_ = true;
  PaddingDirection padding_side_ = PaddingDirection::Right;
  TruncationDirection truncation_side_ = TruncationDirection::Right;
  Json chat_template_;
};

struct AutoTokenizer {
  // A model folder (tokenizer.json first, else vocab.txt / vocab.json + merges.txt / *.model, with
  // tokenizer_config.json and special_tokens_map.json) or a tokenizer.json file.
  static PreTrainedTokenizer from_pretrained(const std::filesystem::path& dir_or_file);
};

// Legacy vocabulary files to a Tokenizer, as transformers' slow->fast converters build them.
Tokenizer tokenizer_from_wordpiece_vocab(const std::filesystem::path& vocab_txt, const Json& tokenizer_config,
                                         const Json& special_tokens_map);
Tokenizer tokenizer_from_bpe_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt,
                                   const Json& tokenizer_config, const Json& special_tokens_map,
                                   const std::string& tokenizer_class);
Tokenizer tokenizer_from_sentencepiece(const std::filesystem::path& model_file, const Json& tokenizer_config,
                                       const Json& special_tokens_map, const std::string& tokenizer_class);

}  // namespace ortformers::tokenizers
