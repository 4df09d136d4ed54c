#pragma once
// Wav2Vec2CTCTokenizer (vocab.json + tokenizer_config.json): CTC decoding as transformers does it — merge repeated
// ids, drop the pad token (the CTC blank), the word delimiter `|` becomes a space, strip — with character and word
// offsets (in logit frames) for timestamps.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace ortformers::preprocessing {

struct CTCCharOffset {
  std::string char_;  // the character (a space for the word delimiter; special tokens such as "<s>" whole)
  std::int64_t start_offset = 0;
  std::int64_t end_offset = 0;
};
struct CTCWordOffset {
  std::string word;
  std::int64_t start_offset = 0;
  std::int64_t end_offset = 0;
};
struct CTCDecoded {
  std::string text;
  std::vector<CTCCharOffset> char_offsets;
  std::vector<CTCWordOffset> word_offsets;
};

class Wav2Vec2CTCTokenizer {
 public:
  // Reads <dir>/vocab.json, tokenizer_config.json and special_tokens_map.json (the last two optional).
  static Wav2Vec2CTCTokenizer from_pretrained(const std::filesystem::path& dir);
  Wav2Vec2CTCTokenizer(std::map<std::string, std::int64_t> vocab, std::string pad_token = "<pad>",
                       std::string word_delimiter_token = "|", std::string unk_token = "<unk>");

  std::string convert_id_to_token(std::int64_t id) const;  // unk_token for ids outside the vocabulary
  std::int64_t vocab_size() const noexcept { return static_cast<std::int64_t>(id_to_token_.size()); }
  const std::string& pad_token() const noexcept { return pad_token_; }
  const std::string& word_delimiter_token() const noexcept { return word_delimiter_token_; }
  std::vector<std::string> all_special_tokens() const;

  // tokenizer.decode(ids, skip_special_tokens=..., output_char_offsets=True, output_word_offsets=True).
  CTCDecoded decode(std::span<const std::int64_t> ids, bool skip_special_tokens = false,
                    bool group_tokens = true) const;

  bool do_lower_case = false;
  bool clean_up_tokenization_spaces = true;
  std::string replace_word_delimiter_char = " ";
  std::string bos_token = "<s>", eos_token = "</s>";

 private:
  std::map<std::int64_t, std::string> id_to_token_;
  std::string pad_token_, word_delimiter_token_, unk_token_;
};

// transformers' PreTrainedTokenizerBase.clean_up_tokenization.
std::string clean_up_tokenization(std::string text);

}  // namespace ortformers::preprocessing
