#pragma once
// Incremental decoding for streaming generation: ids go in one at a time, the newly printable text comes out.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::tokenizers {

// Follows transformers' TextStreamer: every step decodes all ids since the start (tokenizer.decode with the same
// skip_special_tokens / clean_up_tokenization_spaces) and returns the part not returned yet. Text that is not final
// is held back: a decode ending in U+FFFD (an incomplete UTF-8 sequence of byte-fallback pieces or byte-level BPE
// tokens), and, when clean-up is on, everything from the last space (clean_up_tokenization can still remove that
// space: " ." -> "."). The concatenation of every step() and the final flush() equals tokenizer.decode(all ids), with
// one exception that no stream can avoid: with skip_special_tokens=false, 4.31's LlamaTokenizer and T5Tokenizer write a
// space before the text that precedes a special token (" Hello</s>"), after that text was returned. Each step costs one decode
// of the ids so far. The tokenizer must outlive the stream.
class DecodeStream {
 public:
  explicit DecodeStream(const PreTrainedTokenizer& tokenizer, bool skip_special_tokens = false,
                        std::optional<bool> clean_up_tokenization_spaces = std::nullopt);
  // Adds one id; returns the text that became printable (often empty).
  std::string step(std::int64_t id);
  // Returns the text still held back (incomplete UTF-8 included, as decode writes it) and starts over.
  std::string flush();
  const std::vector<std::int64_t>& ids() const { return ids_; }

 private:
  std::string decode_all() const;
  std::size_t resume_point(const std::string& text) const;
  const PreTrainedTokenizer* tokenizer_;
  bool skip_special_tokens_;
  bool clean_up_;
  std::vector<std::int64_t> ids_;
  std::string printed_;  // what step() returned so far (a prefix of the decoded text)
};

}  // namespace ortformers::tokenizers
