// MinLengthLogitsProcessor, MinNewTokensLengthLogitsProcessor: every end-of-sequence id is -inf until the length is
// reached.
#include "generation/processors/common.hpp"

namespace ortformers::generation {
namespace {

void mask_eos(ScoresRef scores, const std::vector<std::int64_t>& eos, const char* what) {
  for (auto e : eos) {
    detail::check_token(e, scores.vocab, what);
    for (std::int64_t r = 0; r < scores.rows; ++r) scores.row(r)[e] = detail::kNegInf;
  }
}

}  // namespace

MinLengthLogitsProcessor::MinLengthLogitsProcessor(std::int64_t min_length, std::vector<std::int64_t> eos_token_id)
    : min_length_(min_length), eos_token_id_(std::move(eos_token_id)) {
  if (min_length < 0)
    throw InvalidArgument("`min_length` has to be a non-negative integer, but is " + std::to_string(min_length));
  detail::check_eos_list(eos_token_id_);
}

void MinLengthLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                          const ProcessorContext&) const {
  if (input_ids.cols < min_length_) mask_eos(scores, eos_token_id_, "MinLengthLogitsProcessor");
}

MinNewTokensLengthLogitsProcessor::MinNewTokensLengthLogitsProcessor(std::int64_t prompt_length_to_skip,
                                                                     std::int64_t min_new_tokens,
                                                                     std::vector<std::int64_t> eos_token_id)
    : prompt_length_to_skip_(prompt_length_to_skip), min_new_tokens_(min_new_tokens),
      eos_token_id_(std::move(eos_token_id)) {
  if (min_new_tokens < 0)
    throw InvalidArgument("`min_new_tokens` has to be a positive integer, but is " + std::to_string(min_new_tokens));
  detail::check_eos_list(eos_token_id_);
}

void MinNewTokensLengthLogitsProcessor::operator()(const TokenMatrix& input_ids, ScoresRef scores,
                                                   const ProcessorContext&) const {
  if (input_ids.cols - prompt_length_to_skip_ < min_new_tokens_)
    mask_eos(scores, eos_token_id_, "MinNewTokensLengthLogitsProcessor");
}

}  // namespace ortformers::generation
