#pragma once
// BeamHypotheses and BeamSearchScorer of transformers 4.31 (generation/beam_search.py): finished hypotheses scored
// sum_logprobs / length ** length_penalty (length = every token of the hypothesis, the prompt included for
// decoder-only models), early_stopping True / False / "never", num_beam_groups for group beam search.
#include <cstdint>
#include <optional>
#include <vector>

#include "ortformers/generation/generation_config.hpp"
#include "ortformers/generation/logits_processors.hpp"

namespace ortformers::generation {

struct BeamHypothesis {
  double score = 0;
  std::vector<std::int64_t> tokens;
  std::vector<std::int64_t> beam_indices;
};

class BeamHypotheses {
 public:
  BeamHypotheses(std::int64_t num_beams, double length_penalty, EarlyStopping early_stopping,
                 std::optional<std::int64_t> max_length);
  std::size_t size() const { return beams_.size(); }
  void add(std::vector<std::int64_t> hyp, double sum_logprobs, std::vector<std::int64_t> beam_indices);
  bool is_done(double best_sum_logprobs, std::int64_t cur_len) const;
  const std::vector<BeamHypothesis>& beams() const { return beams_; }

 private:
  std::int64_t num_beams_;
  double length_penalty_;
  EarlyStopping early_stopping_;
  std::optional<std::int64_t> max_length_;
  std::vector<BeamHypothesis> beams_;
  double worst_score_ = 1e9;
};

struct BeamStepOutput {
  std::vector<float> next_beam_scores;         // [batch * group_size]
  std::vector<std::int64_t> next_beam_tokens;  // [batch * group_size]
  std::vector<std::int64_t> next_beam_indices; // [batch * group_size] rows of the group's input_ids
};

struct BeamSearchOutput {
  TokenMatrix sequences;                // [batch * num_beam_hyps_to_keep, len]
  std::vector<float> sequence_scores;   // [batch * num_beam_hyps_to_keep]
  TokenMatrix beam_indices;             // same shape as sequences, -1 past each hypothesis (when tracked)
};

class BeamSearchScorer {
 public:
  BeamSearchScorer(std::int64_t batch_size, std::int64_t num_beams, double length_penalty,
                   EarlyStopping do_early_stopping, std::int64_t num_beam_hyps_to_keep = 1,
                   std::int64_t num_beam_groups = 1, std::optional<std::int64_t> max_length = std::nullopt);
  bool is_done() const;
  std::int64_t num_beams() const { return num_beams_; }
  std::int64_t group_size() const { return group_size_; }
  std::int64_t batch_size() const { return batch_size_; }

  // One step for one group: candidates [batch, k] sorted best first (scores, tokens, beam index within the group's
  // rows of that batch entry); `input_ids` are the group's rows [batch * group_size, cur_len]; `beam_indices` (may
  // be null) the beam index history of those rows.
  BeamStepOutput process(const TokenMatrix& input_ids, const std::vector<float>& next_scores,
                         const std::vector<std::int64_t>& next_tokens, const std::vector<std::int64_t>& next_indices,
                         std::int64_t candidates_per_batch, std::optional<std::int64_t> pad_token_id,
                         const std::vector<std::int64_t>& eos_token_id,
                         const std::vector<std::vector<std::int64_t>>* beam_indices, std::int64_t group_index = 0);

  BeamSearchOutput finalize(const TokenMatrix& input_ids, const std::vector<float>& final_beam_scores,
                            std::optional<std::int64_t> pad_token_id, const std::vector<std::int64_t>& eos_token_id,
                            std::optional<std::int64_t> max_length,
                            const std::vector<std::vector<std::int64_t>>* beam_indices);

 private:
  std::int64_t batch_size_;
  std::int64_t num_beams_;
  std::int64_t num_beam_groups_;
  std::int64_t group_size_;
  std::int64_t num_beam_hyps_to_keep_;
  std::vector<BeamHypotheses> beam_hyps_;  // [batch * num_beam_groups]
  std::vector<bool> done_;
};

}  // namespace ortformers::generation
