// RepetitionPenaltyLogitsProcessor, EncoderRepetitionPenaltyLogitsProcessor (CTRL's penalty: a seen token's score is
// divided by the penalty when positive, multiplied when negative).
#include <algorithm>
#include <unordered_set>

#include "generation/processors/common.hpp"

namespace ortformers::generation {
namespace {

void penalise(std::span<const std::int64_t> ids, float* row, std::int64_t vocab, float penalty, const char* what) {
  std::unordered_set<std::int64_t> seen;
  for (auto id : ids) {
    detail::check_token(id, vocab, what);
    if (!seen.insert(id).second) continue;
    float& s = row[id];
    s = s < 0 ? s * penalty : s / penalty;
  }
}

}  // namespace

RepetitionPenaltyLogitsProcessor::RepetitionPenaltyLogitsProcessor(double penalty) : penalty_(static_cast<float>(penalty)) {
  if (!(penalty > 0))
    throw InvalidArgument("`penalty` has to be a strictly positive float, but is " + detail::py_float(penalty));
}

void RepetitionPenaltyLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                                  const ProcessorContext&) const {
  for (std::int64_t r = 0; r < scores.rows; ++r)
    penalise(input_ids.row(r), scores.row(r), scores.vocab, penalty_, "RepetitionPenaltyLogitsProcessor");
}

EncoderRepetitionPenaltyLogitsProcessor::EncoderRepetitionPenaltyLogitsProcessor(double penalty,
                                                                                 TokenMatrix encoder_input_ids)
    : penalty_(static_cast<float>(1.0 / penalty)), encoder_input_ids_(std::move(encoder_input_ids)) {
  if (!(penalty > 0))
    throw InvalidArgument("`penalty` has to be a strictly positive float, but is " + detail::py_float(penalty));
}

void EncoderRepetitionPenaltyLogitsProcessor::operator()(const TokenMatrix&, ScoresRef scores,
                                                         const ProcessorContext&) const {
  const auto enc_rows = encoder_input_ids_.rows;
  if (enc_rows == 0) return;
  if (scores.rows % enc_rows != 0)
    throw InvalidArgument("EncoderRepetitionPenaltyLogitsProcessor: " + std::to_string(scores.rows) +
                          " score rows do not expand " + std::to_string(enc_rows) + " encoder rows");
  for (std::int64_t r = 0; r < scores.rows; ++r)
    penalise(encoder_input_ids_.row(r * enc_rows / scores.rows), scores.row(r), scores.vocab, penalty_,
             "EncoderRepetitionPenaltyLogitsProcessor");
}

}  // namespace ortformers::generation
