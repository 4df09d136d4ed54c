#pragma once
// Tokenizer: the tokenizer.json object of the Rust `tokenizers` library (normalizer, pre-tokenizer, model,
// post-processor, decoder, added tokens, truncation, padding).
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/added_vocabulary.hpp"
#include "ortformers/tokenizers/decoders.hpp"
#include "ortformers/tokenizers/encoding.hpp"
#include "ortformers/tokenizers/models.hpp"
#include "ortformers/tokenizers/normalizers.hpp"
#include "ortformers/tokenizers/post_processors.hpp"
#include "ortformers/tokenizers/pre_tokenizers.hpp"

namespace ortformers::tokenizers {

// One input of encode_batch: a text or a pair of texts.
struct EncodeInput {
  std::string text;
  std::optional<std::string> text_pair;
  EncodeInput(std::string t) : text(std::move(t)) {}  // NOLINT(google-explicit-constructor)
  EncodeInput(const char* t) : text(t) {}             // NOLINT(google-explicit-constructor)
  EncodeInput(std::string a, std::string b) : text(std::move(a)), text_pair(std::move(b)) {}
};

// Per-call settings that override the tokenizer's own truncation / padding (used by the transformers-level API).
struct EncodeOptions {
  bool add_special_tokens = true;
  std::optional<TruncationParams> truncation;
  std::optional<PaddingParams> padding;
  std::size_t num_threads = 0;  // 0 = hardware concurrency
};

class Tokenizer {
 public:
  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  static Tokenizer from_file(const std::filesystem::path& path);
  static Tokenizer from_json(const std::string& json);
  static Tokenizer from_json(const Json& json);

  Encoding encode(std::string_view text, bool add_special_tokens = true) const;
  Encoding encode_pair(std::string_view a, std::string_view b, bool add_special_tokens = true) const;
  // Encodes every input (threads: 0 = hardware concurrency, 1 = the calling thread only), then applies the padding.
  std::vector<Encoding> encode_batch(const std::vector<EncodeInput>& inputs, bool add_special_tokens = true,
                                     std::size_t num_threads = 0) const;
  // Same with explicit truncation / padding instead of the tokenizer's own.
  std::vector<Encoding> encode_batch(const std::vector<EncodeInput>& inputs, const EncodeOptions& options) const;
  std::string decode(std::span<const std::int64_t> ids, bool skip_special_tokens = true) const;
  std::vector<std::string> decode_batch(const std::vector<std::vector<std::int64_t>>& ids,
                                        bool skip_special_tokens = true) const;

  void set_truncation(std::optional<TruncationParams> params);
  void set_padding(std::optional<PaddingParams> params);
  const std::optional<TruncationParams>& truncation() const { return truncation_; }
  const std::optional<PaddingParams>& padding() const { return padding_; }

  std::optional<std::int64_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(std::int64_t id) const;
  std::size_t get_vocab_size(bool with_added_tokens = true) const;
  // Number of special tokens the post-processor adds to one sequence / a pair.
  std::size_t num_special_tokens_to_add(bool is_pair) const;

  // Components (for building a tokenizer in code, e.g. from legacy vocabulary files).
  void set_normalizer(std::unique_ptr<Normalizer> n);
  void set_pre_tokenizer(std::unique_ptr<PreTokenizer> p) { pre_tokenizer_ = std::move(p); }
  void set_model(std::unique_ptr<Model> m) { model_ = std::move(m); }
  void set_post_processor(std::unique_ptr<PostProcessor> p) { post_processor_ = std::move(p); }
  void set_decoder(std::unique_ptr<Decoder> d) { decoder_ = std::move(d); }
  // Adds tokens; their id is the model's when the model knows the content, else the given id or the next free one.
  void add_tokens(std::vector<AddedToken> tokens);
  const Model& model() const;
  const AddedVocabulary& added_vocabulary() const { return added_; }
  const Decoder* decoder() const { return decoder_.get(); }

  // Lower level: one sequence through normalizer, pre-tokenizer and model (no post-processing).
  Encoding encode_single_sequence(std::string_view text, std::int64_t type_id) const;
  Encoding post_process(Encoding a, std::optional<Encoding> b, bool add_special_tokens) const;
  Encoding post_process(Encoding a, std::optional<Encoding> b, bool add_special_tokens,
                        const std::optional<TruncationParams>& truncation,
                        const std::optional<PaddingParams>& padding) const;

 private:
  Encoding encode_impl(std::string_view a, std::optional<std::string_view> b, bool add_special_tokens,
                       const std::optional<TruncationParams>& truncation,
                       const std::optional<PaddingParams>& padding) const;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
  std::optional<TruncationParams> truncation_;
  std::optional<PaddingParams> padding_;
};

// Applies padding parameters to a batch (as tokenizers' pad_encodings).
void pad_encodings(std::vector<Encoding>& encodings, const PaddingParams& params);

}  // namespace ortformers::tokenizers
