#pragma once
// Models (tokenizers.models): WordPiece, BPE, Unigram, WordLevel.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/normalized_string.hpp"

namespace ortformers::tokenizers {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using Vocab = std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>>;

class Model {
 public:
  virtual ~Model() = default;
  // Tokens of one pre-tokenized word; offsets are bytes of `sequence`.
  virtual std::vector<Token> tokenize(std::string_view sequence) const = 0;
  virtual std::optional<std::int64_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(std::int64_t id) const = 0;
  virtual std::size_t vocab_size() const = 0;
  virtual std::string type() const = 0;
};

std::unique_ptr<Model> model_from_json(const Json& j);

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  std::size_t max_input_chars_per_word = 100;
};
std::unique_ptr<Model> make_wordpiece(Vocab vocab, const WordPieceOptions& options);

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};
std::unique_ptr<Model> make_bpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                                const BpeOptions& options);

struct UnigramPiece {
  std::string piece;
  double score;
};
std::unique_ptr<Model> make_unigram(std::vector<UnigramPiece> vocab, std::optional<std::size_t> unk_id,
                                    bool byte_fallback);
std::unique_ptr<Model> make_wordlevel(Vocab vocab, const std::string& unk_token);

}  // namespace ortformers::tokenizers
