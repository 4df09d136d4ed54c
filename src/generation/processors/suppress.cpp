// SuppressTokensLogitsProcessor (always), SuppressTokensAtBeginLogitsProcessor (at the first generated step).
#include "generation/processors/common.hpp"

namespace ortformers::generation {
namespace {

void suppress(ScoresRef scores, const std::vector<std::int64_t>& tokens, const char* what) {
  for (auto t : tokens) {
    detail::check_token(t, scores.vocab, what);
    for (std::int64_t r = 0; r < scores.rows; ++r) scores.row(r)[t] = detail::kNegInf;
  }
}

}  // namespace

void SuppressTokensLogitsProcessor::operator()(const TokenMatrix&, ScoresRef scores, const ProcessorContext&) const {
  suppress(scores, suppress_tokens_, "SuppressTokensLogitsProcessor");
}

void SuppressTokensAtBeginLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                                      const ProcessorContext&) const {
  if (input_ids.cols == begin_index_) suppress(scores, tokens_, "SuppressTokensAtBeginLogitsProcessor");
}

}  // namespace ortformers::generation
