#pragma once
// Added tokens (tokenizers.AddedToken / AddedVocabulary): special and user tokens matched before the model, in the
// raw text (normalized=false) or in the normalized text (normalized=true).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ortformers/tokenizers/normalized_string.hpp"

namespace ortformers::tokenizers {

class Normalizer;
class Model;

struct AddedToken {
  std::string content;
  std::int64_t id = -1;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
};

class AddedVocabulary {
 public:
  // Adds tokens (ids already resolved) and rebuilds the matchers with the given normalizer.
  void set_tokens(std::vector<AddedToken> tokens, const Normalizer* normalizer);
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  std::optional<std::int64_t> token_to_id(std::string_view content) const;
  std::optional<std::string> id_to_token(std::int64_t id) const;
  bool is_special_token(std::string_view content) const { return special_.count(std::string(content)) > 0; }
  bool is_special_id(std::int64_t id) const;
  // Splits `text` on added tokens, normalizing the other pieces.
  PreTokenizedString extract_and_normalize(const Normalizer* normalizer, std::string_view text) const;
  bool empty() const { return tokens_.empty(); }

 private:
  struct Matcher {
    std::vector<std::string> patterns;  // content as matched
    std::vector<std::size_t> token_index;
    std::array<std::vector<std::size_t>, 256> by_first;  // pattern indices by first byte, longest first
    void build();
  };
  std::vector<Split> split_with(NormalizedString&& s, const Matcher& m) const;
  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, std::int64_t> by_content_;
  std::unordered_map<std::int64_t, std::string> by_id_;
  std::unordered_set<std::string> special_;
  Matcher raw_, normalized_;
};

}  // namespace ortformers::tokenizers
