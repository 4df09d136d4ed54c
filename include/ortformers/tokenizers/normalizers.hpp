#pragma once
// Normalizers (tokenizers.normalizers): BertNormalizer, NFC/NFD/NFKC/NFKD, Lowercase, StripAccents, Strip, Replace,
// Prepend, Precompiled, ByteLevel, Sequence.
#include <memory>
#include <string>
#include <vector>

#include "ortformers/core/json.hpp"
#include "ortformers/tokenizers/normalized_string.hpp"

namespace ortformers::tokenizers {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& s) const = 0;
};

// Builds a normalizer from its tokenizer.json object; throws FileFormatError / UnsupportedError.
std::unique_ptr<Normalizer> normalizer_from_json(const Json& j);

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;
  bool lowercase = true;
};
std::unique_ptr<Normalizer> make_bert_normalizer(const BertNormalizerOptions& options);
// Precompiled SentencePiece normalizer from the raw (not base64) charsmap blob.
std::unique_ptr<Normalizer> make_precompiled_normalizer(const std::string& charsmap);
std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> normalizers);
// kind: "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents"
std::unique_ptr<Normalizer> make_simple_normalizer(const std::string& kind);
std::unique_ptr<Normalizer> make_replace_normalizer(const std::string& pattern, bool is_regex,
                                                    const std::string& content);

}  // namespace ortformers::tokenizers
