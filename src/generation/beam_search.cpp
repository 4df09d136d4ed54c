// BeamHypotheses / BeamSearchScorer as transformers 4.31's beam_search.py.
#include "ortformers/generation/beam_search.hpp"

#include <algorithm>
#include <cmath>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/stopping_criteria.hpp"

namespace ortformers::generation {

BeamHypotheses::BeamHypotheses(std::int64_t num_beams, double length_penalty, EarlyStopping early_stopping,
                               std::optional<std::int64_t> max_length)
    : num_beams_(num_beams), length_penalty_(length_penalty), early_stopping_(early_stopping), max_length_(max_length) {
  if (early_stopping == EarlyStopping::Never && !max_length)
    throw InvalidArgument("When `do_early_stopping` is set to a string, `max_length` must be defined. Ensure it is "
                          "passed to the BeamScorer class instance at initialization time.");
}

void BeamHypotheses::add(std::vector<std::int64_t> hyp, double sum_logprobs, std::vector<std::int64_t> beam_indices) {
  const double score = sum_logprobs / std::pow(static_cast<double>(hyp.size()), length_penalty_);
  if (static_cast<std::int64_t>(beams_.size()) < num_beams_ || score > worst_score_) {
    beams_.push_back({score, std::move(hyp), std::move(beam_indices)});
    if (static_cast<std::int64_t>(beams_.size()) > num_beams_) {
      // Drop the worst (the first of equal worst ones, as Python's sorted() of (score, index) pairs).
      std::vector<std::pair<double, std::size_t>> sorted;
      for (std::size_t i = 0; i < beams_.size(); ++i) sorted.emplace_back(beams_[i].score, i);
      std::sort(sorted.begin(), sorted.end());
      beams_.erase(beams_.begin() + static_cast<std::ptrdiff_t>(sorted[0].second));
      worst_score_ = sorted[1].first;
    } else {
      worst_score_ = std::min(score, worst_score_);
    }
  }
}

bool BeamHypotheses::is_done(double best_sum_logprobs, std::int64_t cur_len) const {
  if (static_cast<std::int64_t>(beams_.size()) < num_beams_) return false;
  if (early_stopping_ == EarlyStopping::True) return true;
  double highest_attainable;
  if (early_stopping_ == EarlyStopping::False || length_penalty_ <= 0.0)
    highest_attainable = best_sum_logprobs / std::pow(static_cast<double>(cur_len), length_penalty_);
  else
    highest_attainable = best_sum_logprobs / std::pow(static_cast<double>(*max_length_), length_penalty_);
  return worst_score_ >= highest_attainable;
}

BeamSearchScorer::BeamSearchScorer(std::int64_t batch_size, std::int64_t num_beams, double length_penalty,
                                   EarlyStopping do_early_stopping, std::int64_t num_beam_hyps_to_keep,
                                   std::int64_t num_beam_groups, std::optional<std::int64_t> max_length)
    : batch_size_(batch_size), num_beams_(num_beams), num_beam_groups_(num_beam_groups),
      num_beam_hyps_to_keep_(num_beam_hyps_to_keep) {
  if (num_beams <= 1)
    throw InvalidArgument("`num_beams` has to be an integer strictly greater than 1, but is " +
                          std::to_string(num_beams) + ". For `num_beams` == 1, one should make use of `greedy_search` "
                          "instead.");
  if (num_beam_groups < 1 || num_beam_groups > num_beams || num_beams % num_beam_groups != 0)
    throw InvalidArgument("`num_beam_groups` has to be an integer smaller or equal than `num_beams` and `num_beams` "
                          "has to be divisible by `num_beam_groups`, but is " + std::to_string(num_beam_groups) +
                          " with `num_beams` being " + std::to_string(num_beams) + ".");
  group_size_ = num_beams / num_beam_groups;
  for (std::int64_t i = 0; i < batch_size * num_beam_groups; ++i)
    beam_hyps_.emplace_back(group_size_, length_penalty, do_early_stopping, max_length);
  done_.assign(beam_hyps_.size(), false);
}

bool BeamSearchScorer::is_done() const {
  return std::all_of(done_.begin(), done_.end(), [](bool d) { return d; });
}

BeamStepOutput BeamSearchScorer::process(const TokenMatrix& input_ids, const std::vector<float>& next_scores,
                                         const std::vector<std::int64_t>& next_tokens,
                                         const std::vector<std::int64_t>& next_indices, std::int64_t k,
                                         std::optional<std::int64_t> pad_token_id,
                                         const std::vector<std::int64_t>& eos_token_id,
                                         const std::vector<std::vector<std::int64_t>>* beam_indices,
                                         std::int64_t group_index) {
  const auto cur_len = input_ids.cols + 1;  // the length next_scores were computed at
  BeamStepOutput out;
  const auto n = static_cast<std::size_t>(batch_size_ * group_size_);
  out.next_beam_scores.assign(n, 0.0f);
  out.next_beam_tokens.assign(n, 0);
  out.next_beam_indices.assign(n, 0);
  for (std::int64_t b = 0; b < batch_size_; ++b) {
    const auto bg = static_cast<std::size_t>(b * num_beam_groups_ + group_index);
    auto& hyps = beam_hyps_[bg];
    if (done_[bg]) {
      if (num_beams_ < static_cast<std::int64_t>(hyps.size()))
        throw RuntimeError("Batch can only be done if at least " + std::to_string(num_beams_) +
                           " beams have been generated");
      if (eos_token_id.empty() || !pad_token_id)
        throw InvalidArgument("Generated beams >= num_beams -> eos_token_id and pad_token have to be defined");
      for (std::int64_t j = 0; j < group_size_; ++j) {
        const auto o = static_cast<std::size_t>(b * group_size_ + j);
        out.next_beam_scores[o] = 0.0f;
        out.next_beam_tokens[o] = *pad_token_id;
        out.next_beam_indices[o] = 0;
      }
      continue;
    }
    std::int64_t beam_idx = 0;
    float best = -std::numeric_limits<float>::infinity();
    for (std::int64_t rank = 0; rank < k; ++rank) {
      const auto c = static_cast<std::size_t>(b * k + rank);
      best = std::max(best, next_scores[c]);
    }
    for (std::int64_t rank = 0; rank < k; ++rank) {
      const auto c = static_cast<std::size_t>(b * k + rank);
      const auto token = next_tokens[c];
      const float score = next_scores[c];
      const auto batch_beam_idx = b * group_size_ + next_indices[c];
      if (!eos_token_id.empty() && is_eos_token(token, eos_token_id)) {
        if (rank >= group_size_) continue;  // not among the top group_size candidates
        std::vector<std::int64_t> index;
        if (beam_indices) {
          index = (*beam_indices)[static_cast<std::size_t>(batch_beam_idx)];
          index.push_back(batch_beam_idx);
        }
        auto row = input_ids.row(batch_beam_idx);
        hyps.add(std::vector<std::int64_t>(row.begin(), row.end()), static_cast<double>(score), std::move(index));
      } else {
        const auto o = static_cast<std::size_t>(b * group_size_ + beam_idx);
        out.next_beam_scores[o] = score;
        out.next_beam_tokens[o] = token;
        out.next_beam_indices[o] = batch_beam_idx;
        ++beam_idx;
      }
      if (beam_idx == group_size_) break;
    }
    if (beam_idx < group_size_)
      throw RuntimeError("At most " + std::to_string(group_size_) + " tokens among the " + std::to_string(k) +
                         " candidates can be equal to `eos_token_id`. Make sure the candidates are corrected.");
    done_[bg] = done_[bg] || hyps.is_done(static_cast<double>(best), cur_len);
  }
  return out;
}

BeamSearchOutput BeamSearchScorer::finalize(const TokenMatrix& input_ids, const std::vector<float>& final_beam_scores,
                                            std::optional<std::int64_t> pad_token_id,
                                            const std::vector<std::int64_t>& eos_token_id,
                                            std::optional<std::int64_t> max_length,
                                            const std::vector<std::vector<std::int64_t>>* beam_indices) {
  // Open hypotheses of unfinished batch entries join the finished ones.
  for (std::size_t bg = 0; bg < beam_hyps_.size(); ++bg) {
    if (done_[bg]) continue;
    for (std::int64_t j = 0; j < group_size_; ++j) {
      const auto batch_beam_idx = static_cast<std::int64_t>(bg) * group_size_ + j;
      auto row = input_ids.row(batch_beam_idx);
      std::vector<std::int64_t> index;
      if (beam_indices) index = (*beam_indices)[static_cast<std::size_t>(batch_beam_idx)];
      beam_hyps_[bg].add(std::vector<std::int64_t>(row.begin(), row.end()),
                         static_cast<double>(final_beam_scores[static_cast<std::size_t>(batch_beam_idx)]),
                         std::move(index));
    }
  }
  // The best num_beam_hyps_to_keep of each batch entry, across its groups.
  std::vector<const BeamHypothesis*> best;
  std::vector<float> best_scores;
  for (std::int64_t b = 0; b < batch_size_; ++b) {
    std::vector<const BeamHypothesis*> candidates;
    for (std::int64_t g = 0; g < num_beam_groups_; ++g)
      for (const auto& h : beam_hyps_[static_cast<std::size_t>(b * num_beam_groups_ + g)].beams()) candidates.push_back(&h);
    // sorted(..., key=score) then pop(): the highest score, the last of equal ones first.
    std::stable_sort(candidates.begin(), candidates.end(), [](auto* a, auto* c) { return a->score < c->score; });
    for (std::int64_t j = 0; j < num_beam_hyps_to_keep_; ++j) {
      if (candidates.empty()) throw RuntimeError("beam search: fewer finished hypotheses than num_return_sequences");
      best.push_back(candidates.back());
      best_scores.push_back(static_cast<float>(candidates.back()->score));
      candidates.pop_back();
    }
  }
  std::int64_t min_len = INT64_MAX, max_len = 0;
  for (auto* h : best) {
    min_len = std::min<std::int64_t>(min_len, static_cast<std::int64_t>(h->tokens.size()));
    max_len = std::max<std::int64_t>(max_len, static_cast<std::int64_t>(h->tokens.size()));
  }
  std::int64_t sent_max_len = max_len + 1;
  if (max_length) sent_max_len = std::min(sent_max_len, *max_length);
  if (min_len != max_len && !pad_token_id) throw InvalidArgument("`pad_token_id` has to be defined");
  BeamSearchOutput out;
  const auto rows = static_cast<std::int64_t>(best.size());
  out.sequences = TokenMatrix(std::vector<std::int64_t>(static_cast<std::size_t>(rows * sent_max_len), pad_token_id.value_or(0)),
                              rows, sent_max_len);
  const bool track = beam_indices != nullptr;
  if (track) out.beam_indices = TokenMatrix(std::vector<std::int64_t>(static_cast<std::size_t>(rows * sent_max_len), -1), rows, sent_max_len);
  for (std::int64_t i = 0; i < rows; ++i) {
    const auto& h = *best[static_cast<std::size_t>(i)];
    const auto len = static_cast<std::int64_t>(h.tokens.size());
    for (std::int64_t t = 0; t < std::min(len, sent_max_len); ++t)
      out.sequences.data[static_cast<std::size_t>(i * sent_max_len + t)] = h.tokens[static_cast<std::size_t>(t)];
    if (track)
      for (std::size_t t = 0; t < h.beam_indices.size() && static_cast<std::int64_t>(t) < sent_max_len; ++t)
        out.beam_indices.data[static_cast<std::size_t>(i * sent_max_len) + t] = h.beam_indices[t];
    // Only the first end-of-sequence id is inserted, as transformers does.
    if (len < sent_max_len && !eos_token_id.empty())
      out.sequences.data[static_cast<std::size_t>(i * sent_max_len + len)] = eos_token_id[0];
  }
  out.sequence_scores = std::move(best_scores);
  return out;
}

}  // namespace ortformers::generation
