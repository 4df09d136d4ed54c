#pragma once
// Encoding: the output of a tokenizer (tokenizers.Encoding), plus truncation and padding parameters.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ortformers::tokenizers {

enum class TruncationStrategy { LongestFirst, OnlyFirst, OnlySecond };
enum class TruncationDirection { Left, Right };
enum class PaddingDirection { Left, Right };

struct TruncationParams {
  std::size_t max_length = 512;
  TruncationStrategy strategy = TruncationStrategy::LongestFirst;
  std::size_t stride = 0;
  TruncationDirection direction = TruncationDirection::Right;
};

struct PaddingParams {
  bool batch_longest = true;  // PaddingStrategy::BatchLongest, else Fixed(fixed_length)
  std::size_t fixed_length = 0;
  PaddingDirection direction = PaddingDirection::Right;
  std::optional<std::size_t> pad_to_multiple_of;
  std::int64_t pad_id = 0;
  std::int64_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

const char* to_string(TruncationStrategy s);
TruncationStrategy truncation_strategy_from_string(const std::string& s);  // "longest_first" / "LongestFirst"...

struct Encoding {
  std::vector<std::int64_t> ids;
  std::vector<std::string> tokens;
  std::vector<std::pair<std::size_t, std::size_t>> offsets;       // code points of the input, [start, end)
  std::vector<std::pair<std::size_t, std::size_t>> byte_offsets;  // UTF-8 bytes of the input, [start, end)
  std::vector<std::int64_t> type_ids, attention_mask, special_tokens_mask;
  std::vector<std::optional<std::uint32_t>> word_ids, sequence_ids;
  std::vector<Encoding> overflowing;

  std::size_t size() const { return ids.size(); }
  bool empty() const { return ids.empty(); }

  // Internal bookkeeping, as the Rust Encoding: which range of tokens belongs to which input sequence.
  std::vector<std::pair<std::uint32_t, std::pair<std::size_t, std::size_t>>> sequence_ranges;

  void set_sequence_id(std::uint32_t id);
  void set_type_id(std::int64_t type_id);
  // Recomputes sequence_ids from sequence_ranges (recursively for overflowing).
  void finalize_sequence_ids();
  void merge_with(Encoding pair, bool growing_offsets = false);
  static Encoding merge(std::vector<Encoding> encodings, bool growing_offsets = false);
  // Truncates to max_len tokens, moving the rest to `overflowing` (windows of max_len with `stride` overlap).
  // Throws InvalidArgument when stride >= max_len (the Rust library panics there).
  void truncate(std::size_t max_len, std::size_t stride, TruncationDirection direction);
  void pad(std::size_t target_length, std::int64_t pad_id, std::int64_t pad_type_id, const std::string& pad_token,
           PaddingDirection direction);
  Encoding slice(std::size_t start, std::size_t stop) const;
};

}  // namespace ortformers::tokenizers
