// ExponentialDecayLengthPenalty: past start_index generated tokens, the end-of-sequence scores grow by
// |score| * (factor ** steps - 1).
#include <cmath>

#include "generation/processors/common.hpp"

namespace ortformers::generation {

ExponentialDecayLengthPenalty::ExponentialDecayLengthPenalty(std::pair<std::int64_t, double> penalty,
                                                             std::vector<std::int64_t> eos_token_id,
                                                             std::int64_t input_ids_seq_length)
    : regulation_start_(penalty.first + input_ids_seq_length), regulation_factor_(penalty.second),
      eos_token_id_(std::move(eos_token_id)) {}

void ExponentialDecayLengthPenalty::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                               const ProcessorContext&) const {
  const auto cur_len = input_ids.cols;
  if (cur_len <= regulation_start_) return;
  const auto factor = static_cast<float>(std::pow(regulation_factor_, static_cast<double>(cur_len - regulation_start_)) - 1.0);
  for (auto e : eos_token_id_) {
    detail::check_token(e, scores.vocab, "ExponentialDecayLengthPenalty");
    for (std::int64_t r = 0; r < scores.rows; ++r) {
      float& s = scores.row(r)[e];
      s = s + std::fabs(s) * factor;
    }
  }
}

}  // namespace ortformers::generation
