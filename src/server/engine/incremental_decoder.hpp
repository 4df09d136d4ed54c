#pragma once
// The text of one generated sequence, token by token, at a cost that does not grow with the sequence: the prefix /
// read offsets of Rust tokenizers' DecodeStream (and TGI's / vLLM's detokenizers). Each step decodes only a short
// window, ids[prefix_offset:] against ids[prefix_offset:read_offset], and returns the difference; the window starts
// one printed token back so that decoders that treat the first token specially (Metaspace / SentencePiece strip its
// leading space, byte-level BPE joins bytes) see the same context in both decodes. Text ending in U+FFFD (an
// incomplete UTF-8 sequence) is held back until a later token completes it. flush() decodes the whole sequence once,
// so the concatenation of every step() and flush() equals tokenizer.decode(all ids) whenever the returned text was a
// prefix of it (always, for the tokenizers of the fixtures); otherwise it returns what the window holds.
#include <cstdint>
#include <string>
#include <vector>

#include "ortformers/tokenizers/pretrained_tokenizer.hpp"

namespace ortformers::server {

class IncrementalDecoder {
 public:
  // `special_ids` sorted (tokenizer.all_special_ids()): skipped ids never start a window when skip_special_tokens.
  IncrementalDecoder(const tokenizers::PreTrainedTokenizer& tokenizer, bool skip_special_tokens,
                     const std::vector<std::int64_t>& special_ids);
  // Adds one id; returns the text that became printable (often empty). O(window), not O(sequence).
  std::string step(std::int64_t id);
  // The text still held back; one decode of the whole sequence. The decoder is left empty.
  std::string flush();
  const std::vector<std::int64_t>& ids() const noexcept { return ids_; }
  // Ids the next step() decodes besides the new one (what a step costs).
  std::size_t window() const noexcept { return ids_.size() - prefix_offset_; }

 private:
  std::string decode(std::size_t from, std::size_t to) const;
  bool skipped(std::int64_t id) const;
  const tokenizers::PreTrainedTokenizer* tokenizer_;
  bool skip_special_;
  const std::vector<std::int64_t>* special_ids_;
  std::vector<std::int64_t> ids_;
  std::size_t prefix_offset_ = 0, read_offset_ = 0;
  std::string printed_;  // everything step() returned
};

}  // namespace ortformers::server
