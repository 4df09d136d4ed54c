#pragma once
// Stopping criteria of transformers 4.31 (generation/stopping_criteria.py): max length and max time stop the whole
// batch; end-of-sequence ids and stop strings (ours, for the server) finish single rows.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ortformers::generation {

// MaxLengthCriteria: done when the sequences have max_length tokens.
struct MaxLengthCriteria {
  std::int64_t max_length = 0;
  bool operator()(std::int64_t cur_len) const { return cur_len >= max_length; }
};

// MaxTimeCriteria: done when max_time seconds have passed since `initial_timestamp`.
class MaxTimeCriteria {
 public:
  explicit MaxTimeCriteria(double max_time,
                           std::chrono::steady_clock::time_point initial_timestamp = std::chrono::steady_clock::now())
      : max_time_(max_time), start_(initial_timestamp) {}
  bool operator()() const;

 private:
  double max_time_;
  std::chrono::steady_clock::time_point start_;
};

// A row is finished when its last token is one of the end-of-sequence ids.
bool is_eos_token(std::int64_t token, std::span<const std::int64_t> eos_token_id);

// Stop strings: a row is finished once the text decoded from its generated tokens contains one of the strings.
// `decode` turns the row's new token ids (prompt excluded) into text (e.g. PreTrainedTokenizer::decode).
class StopStringCriteria {
 public:
  using Decode = std::function<std::string(std::span<const std::int64_t>)>;
  StopStringCriteria(std::vector<std::string> stop_strings, Decode decode);
  // True when `new_tokens` decode to text that contains a stop string; `match` receives the string found.
  bool operator()(std::span<const std::int64_t> new_tokens, std::string* match = nullptr) const;
  bool empty() const { return stop_strings_.empty(); }

 private:
  std::vector<std::string> stop_strings_;
  Decode decode_;
};

}  // namespace ortformers::generation
