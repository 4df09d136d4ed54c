#pragma once
// Logits processors and warpers of transformers 4.31 (generation/logits_process.py). Each works in place on float
// scores [rows, vocab] given the token ids so far [rows, len]; -inf marks a token that may not come next.
// get_logits_processor / get_logits_warper build the lists exactly as GenerationMixin._get_logits_processor /
// _get_logits_warper do, in the same order.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ortformers/generation/generation_config.hpp"

namespace ortformers::generation {

// Token ids [rows, cols], row-major (the `input_ids` a processor sees).
struct TokenMatrix {
  std::vector<std::int64_t> data;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  TokenMatrix() = default;
  TokenMatrix(std::vector<std::int64_t> values, std::int64_t rows_, std::int64_t cols_);
  static TokenMatrix from_rows(const std::vector<std::vector<std::int64_t>>& rows);
  std::span<const std::int64_t> row(std::int64_t i) const {
    return {data.data() + i * cols, static_cast<std::size_t>(cols)};
  }
  std::int64_t at(std::int64_t r, std::int64_t c) const { return data[static_cast<std::size_t>(r * cols + c)]; }
};

// Scores [rows, vocab] in place.
struct ScoresRef {
  float* data = nullptr;
  std::int64_t rows = 0;
  std::int64_t vocab = 0;
  float* row(std::int64_t i) const { return data + i * vocab; }
};

// What group beam search passes besides input_ids (HammingDiversityLogitsProcessor's current_tokens, beam_group_idx).
struct ProcessorContext {
  std::span<const std::int64_t> current_tokens;
  std::int64_t beam_group_idx = 0;
};

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  virtual std::string name() const = 0;  // transformers' class name
  virtual void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext& context) const = 0;
};

// A processor from a function (GenerateOptions' logits callbacks; LogitsProcessorList entries of the caller).
class CallbackLogitsProcessor : public LogitsProcessor {
 public:
  using Function = std::function<void(const TokenMatrix& input_ids, ScoresRef scores)>;
  explicit CallbackLogitsProcessor(Function function, std::string name = "CallbackLogitsProcessor")
      : function_(std::move(function)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override {
    function_(input_ids, scores);
  }

 private:
  Function function_;
  std::string name_;
};

class LogitsProcessorList {
 public:
  void push_back(std::shared_ptr<const LogitsProcessor> processor) { items_.push_back(std::move(processor)); }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext& context = {}) const {
    for (const auto& p : items_) (*p)(input_ids, scores, context);
  }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const std::vector<std::shared_ptr<const LogitsProcessor>>& items() const { return items_; }
  std::vector<std::string> names() const;

 private:
  std::vector<std::shared_ptr<const LogitsProcessor>> items_;
};

// ---- penalties (processors/penalties.cpp)
class RepetitionPenaltyLogitsProcessor : public LogitsProcessor {
 public:
  explicit RepetitionPenaltyLogitsProcessor(double penalty);
  std::string name() const override { return "RepetitionPenaltyLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  float penalty_;
};
// Rows of input_ids map to rows of encoder_input_ids as transformers' expanded encoder inputs do (row i of the
// scores uses encoder row i * encoder_rows / rows).
class EncoderRepetitionPenaltyLogitsProcessor : public LogitsProcessor {
 public:
  EncoderRepetitionPenaltyLogitsProcessor(double penalty, TokenMatrix encoder_input_ids);
  std::string name() const override { return "EncoderRepetitionPenaltyLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  float penalty_;
  TokenMatrix encoder_input_ids_;
};

// ---- n-grams (processors/ngram.cpp)
class NoRepeatNGramLogitsProcessor : public LogitsProcessor {
 public:
  explicit NoRepeatNGramLogitsProcessor(std::int64_t ngram_size);
  std::string name() const override { return "NoRepeatNGramLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::int64_t ngram_size_;
};
class EncoderNoRepeatNGramLogitsProcessor : public LogitsProcessor {
 public:
  EncoderNoRepeatNGramLogitsProcessor(std::int64_t encoder_ngram_size, TokenMatrix encoder_input_ids);
  std::string name() const override { return "EncoderNoRepeatNGramLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::int64_t ngram_size_;
  TokenMatrix encoder_input_ids_;
};

// ---- sequence bias and bad words (processors/sequence_bias.cpp)
class SequenceBiasLogitsProcessor : public LogitsProcessor {
 public:
  explicit SequenceBiasLogitsProcessor(std::vector<std::pair<std::vector<std::int64_t>, double>> sequence_bias);
  std::string name() const override { return "SequenceBiasLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 protected:
  SequenceBiasLogitsProcessor() = default;
  std::vector<std::pair<std::vector<std::int64_t>, float>> sequence_bias_;
};
class NoBadWordsLogitsProcessor : public SequenceBiasLogitsProcessor {
 public:
  NoBadWordsLogitsProcessor(const std::vector<std::vector<std::int64_t>>& bad_words_ids,
                            const std::vector<std::int64_t>& eos_token_id);
  std::string name() const override { return "NoBadWordsLogitsProcessor"; }
};

// ---- minimum length (processors/min_length.cpp)
class MinLengthLogitsProcessor : public LogitsProcessor {
 public:
  MinLengthLogitsProcessor(std::int64_t min_length, std::vector<std::int64_t> eos_token_id);
  std::string name() const override { return "MinLengthLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::int64_t min_length_;
  std::vector<std::int64_t> eos_token_id_;
};
class MinNewTokensLengthLogitsProcessor : public LogitsProcessor {
 public:
  MinNewTokensLengthLogitsProcessor(std::int64_t prompt_length_to_skip, std::int64_t min_new_tokens,
                                    std::vector<std::int64_t> eos_token_id);
  std::string name() const override { return "MinNewTokensLengthLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::int64_t prompt_length_to_skip_;
  std::int64_t min_new_tokens_;
  std::vector<std::int64_t> eos_token_id_;
};

// ---- forced tokens (processors/forced_tokens.cpp)
class ForcedBOSTokenLogitsProcessor : public LogitsProcessor {
 public:
  explicit ForcedBOSTokenLogitsProcessor(std::int64_t bos_token_id) : bos_token_id_(bos_token_id) {}
  std::string name() const override { return "ForcedBOSTokenLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::int64_t bos_token_id_;
};
class ForcedEOSTokenLogitsProcessor : public LogitsProcessor {
 public:
  ForcedEOSTokenLogitsProcessor(std::int64_t max_length, std::vector<std::int64_t> eos_token_id)
      : max_length_(max_length), eos_token_id_(std::move(eos_token_id)) {}
  std::string name() const override { return "ForcedEOSTokenLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::int64_t max_length_;
  std::vector<std::int64_t> eos_token_id_;
};
class ForceTokensLogitsProcessor : public LogitsProcessor {
 public:
  explicit ForceTokensLogitsProcessor(std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> force_token_map)
      : force_token_map_(std::move(force_token_map)) {}
  std::string name() const override { return "ForceTokensLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> force_token_map_;
};

// ---- suppression (processors/suppress.cpp)
class SuppressTokensLogitsProcessor : public LogitsProcessor {
 public:
  explicit SuppressTokensLogitsProcessor(std::vector<std::int64_t> suppress_tokens)
      : suppress_tokens_(std::move(suppress_tokens)) {}
  std::string name() const override { return "SuppressTokensLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::vector<std::int64_t> suppress_tokens_;
};
class SuppressTokensAtBeginLogitsProcessor : public LogitsProcessor {
 public:
  SuppressTokensAtBeginLogitsProcessor(std::vector<std::int64_t> begin_suppress_tokens, std::int64_t begin_index)
      : tokens_(std::move(begin_suppress_tokens)), begin_index_(begin_index) {}
  std::string name() const override { return "SuppressTokensAtBeginLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::vector<std::int64_t> tokens_;
  std::int64_t begin_index_;
};

// ---- length (processors/exponential_decay.cpp)
class ExponentialDecayLengthPenalty : public LogitsProcessor {
 public:
  ExponentialDecayLengthPenalty(std::pair<std::int64_t, double> exponential_decay_length_penalty,
                                std::vector<std::int64_t> eos_token_id, std::int64_t input_ids_seq_length);
  std::string name() const override { return "ExponentialDecayLengthPenalty"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::int64_t regulation_start_;
  double regulation_factor_;
  std::vector<std::int64_t> eos_token_id_;
};

// ---- invalid values / normalisation (processors/normalization.cpp)
class InfNanRemoveLogitsProcessor : public LogitsProcessor {
 public:
  std::string name() const override { return "InfNanRemoveLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;
};
class LogitNormalization : public LogitsProcessor {
 public:
  std::string name() const override { return "LogitNormalization"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;
};

// ---- group beam search (processors/diversity.cpp)
class HammingDiversityLogitsProcessor : public LogitsProcessor {
 public:
  HammingDiversityLogitsProcessor(double diversity_penalty, std::int64_t num_beams, std::int64_t num_beam_groups);
  std::string name() const override { return "HammingDiversityLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext& context) const override;

 private:
  float diversity_penalty_;
  std::int64_t num_beams_;
  std::int64_t num_sub_beams_;
};

// ---- warpers (processors/warpers.cpp)
class TemperatureLogitsWarper : public LogitsProcessor {
 public:
  explicit TemperatureLogitsWarper(double temperature);
  std::string name() const override { return "TemperatureLogitsWarper"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  float temperature_;
};
class TopKLogitsWarper : public LogitsProcessor {
 public:
  explicit TopKLogitsWarper(std::int64_t top_k, std::int64_t min_tokens_to_keep = 1);
  std::string name() const override { return "TopKLogitsWarper"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  std::int64_t top_k_;
};
class TopPLogitsWarper : public LogitsProcessor {
 public:
  explicit TopPLogitsWarper(double top_p, std::int64_t min_tokens_to_keep = 1);
  std::string name() const override { return "TopPLogitsWarper"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  double top_p_;
  std::int64_t min_tokens_to_keep_;
};
class TypicalLogitsWarper : public LogitsProcessor {
 public:
  explicit TypicalLogitsWarper(double mass, std::int64_t min_tokens_to_keep = 1);
  std::string name() const override { return "TypicalLogitsWarper"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  double mass_;
  std::int64_t min_tokens_to_keep_;
};
class EpsilonLogitsWarper : public LogitsProcessor {
 public:
  explicit EpsilonLogitsWarper(double epsilon, std::int64_t min_tokens_to_keep = 1);
  std::string name() const override { return "EpsilonLogitsWarper"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  float epsilon_;
  std::int64_t min_tokens_to_keep_;
};
class EtaLogitsWarper : public LogitsProcessor {
 public:
  explicit EtaLogitsWarper(double epsilon, std::int64_t min_tokens_to_keep = 1);
  std::string name() const override { return "EtaLogitsWarper"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;

 private:
  float epsilon_;
  std::int64_t min_tokens_to_keep_;
};

// ---- Whisper timestamps (processors/whisper.cpp): transformers 4.31's WhisperTimeStampLogitsProcessor, built from
// the generation config (eos_token_id, no_timestamps_token_id, forced_decoder_ids, max_initial_timestamp_index).
class WhisperTimeStampLogitsProcessor : public LogitsProcessor {
 public:
  explicit WhisperTimeStampLogitsProcessor(const GenerationConfig& generate_config);
  std::string name() const override { return "WhisperTimeStampLogitsProcessor"; }
  void operator()(const TokenMatrix& input_ids, ScoresRef scores, const ProcessorContext&) const override;
  std::int64_t begin_index() const noexcept { return begin_index_; }

 private:
  std::int64_t eos_token_id_;
  std::int64_t no_timestamps_token_id_;
  std::int64_t timestamp_begin_;
  std::int64_t begin_index_;
  std::optional<std::int64_t> max_initial_timestamp_index_;
};

// ---- builders (processors/builder.cpp), as GenerationMixin._get_logits_processor / _get_logits_warper.
// `input_ids_seq_length`: the prompt length (decoder-only) or decoder start length (encoder-decoder);
// `encoder_input_ids`: the encoder's input_ids (encoder-decoder models; null otherwise); `extra`: the caller's
// processors, appended after transformers' own (before LogitNormalization), as _merge_criteria_processor_list.
LogitsProcessorList get_logits_processor(const GenerationConfig& config, std::int64_t input_ids_seq_length,
                                         const TokenMatrix* encoder_input_ids, bool is_encoder_decoder,
                                         const LogitsProcessorList& extra = {});
LogitsProcessorList get_logits_warper(const GenerationConfig& config);

// Numerics shared by processors and strategies (float32 in, float32 out, accumulated in double).
void softmax(const float* in, float* out, std::int64_t n);
void log_softmax(const float* in, float* out, std::int64_t n);

}  // namespace ortformers::generation
