// ForcedBOSTokenLogitsProcessor, ForcedEOSTokenLogitsProcessor, ForceTokensLogitsProcessor: at their step every
// token but the forced one(s) is -inf and the forced one is 0.
#include <algorithm>

#include "generation/processors/common.hpp"

namespace ortformers::generation {
namespace {

void force(ScoresRef scores, const std::vector<std::int64_t>& tokens, const char* what) {
  for (auto t : tokens) detail::check_token(t, scores.vocab, what);
  for (std::int64_t r = 0; r < scores.rows; ++r) {
    float* row = scores.row(r);
    std::fill(row, row + scores.vocab, detail::kNegInf);
    for (auto t : tokens) row[t] = 0.0f;
  }
}

}  // namespace

void ForcedBOSTokenLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                               const ProcessorContext&) const {
  if (input_ids.cols == 1) force(scores, {bos_token_id_}, "ForcedBOSTokenLogitsProcessor");
}

void ForcedEOSTokenLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                               const ProcessorContext&) const {
  if (input_ids.cols == max_length_ - 1) force(scores, eos_token_id_, "ForcedEOSTokenLogitsProcessor");
}

void ForceTokensLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                            const ProcessorContext&) const {
  // dict(forced_decoder_ids): the last pair of an index wins; a null token forces nothing.
  std::optional<std::int64_t> token;
  bool found = false;
  for (const auto& [index, t] : force_token_map_)
    if (index == input_ids.cols) {
      token = t;
      found = true;
    }
  if (found && token) force(scores, {*token}, "ForceTokensLogitsProcessor");
}

}  // namespace ortformers::generation
