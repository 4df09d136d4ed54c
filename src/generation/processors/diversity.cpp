// HammingDiversityLogitsProcessor (diverse beam search): a group's scores lose diversity_penalty per use of a token by
// the earlier groups at this step.
#include "generation/processors/common.hpp"

namespace ortformers::generation {

HammingDiversityLogitsProcessor::HammingDiversityLogitsProcessor(double diversity_penalty, std::int64_t num_beams,
                                                                 std::int64_t num_beam_groups)
    : diversity_penalty_(static_cast<float>(diversity_penalty)), num_beams_(num_beams) {
  if (!(diversity_penalty > 0)) throw InvalidArgument("`diversity_penalty` should be a float strictly larger than 0.");
  if (num_beams < 2) throw InvalidArgument("`num_beams` should be an integer strictly larger than 1.");
  if (num_beam_groups < 2 || num_beam_groups > num_beams)
    throw InvalidArgument("`beam_groups` has to be an integer smaller or equal than `num_beams` and larger than 1.");
  num_sub_beams_ = num_beams / num_beam_groups;
}

void HammingDiversityLogitsProcessor::operator()(const TokenMatrix&, ScoresRef scores,
                                                 const ProcessorContext& context) const {
  const auto& current = context.current_tokens;
  const auto batch_size = static_cast<std::int64_t>(current.size()) / num_beams_;
  const auto group_start = context.beam_group_idx * num_sub_beams_;
  const auto group_end = std::min(group_start + num_sub_beams_, num_beams_);
  const auto group_size = group_end - group_start;
  if (group_start == 0) return;
  std::vector<float> frequency(static_cast<std::size_t>(scores.vocab));
  for (std::int64_t b = 0; b < batch_size; ++b) {
    std::fill(frequency.begin(), frequency.end(), 0.0f);
    for (std::int64_t i = 0; i < group_start; ++i) {
      const auto t = current[static_cast<std::size_t>(b * num_beams_ + i)];
      detail::check_token(t, scores.vocab, "HammingDiversityLogitsProcessor");
      frequency[static_cast<std::size_t>(t)] += 1.0f;
    }
    for (std::int64_t r = b * group_size; r < (b + 1) * group_size && r < scores.rows; ++r) {
      float* row = scores.row(r);
      for (std::int64_t v = 0; v < scores.vocab; ++v) row[v] -= diversity_penalty_ * frequency[static_cast<std::size_t>(v)];
    }
  }
}

}  // namespace ortformers::generation
