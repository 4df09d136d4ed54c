// get_logits_processor / get_logits_warper: the lists transformers 4.31's GenerationMixin._get_logits_processor and
// _get_logits_warper build, in their order; and the LogitsProcessorList / TokenMatrix basics.
#include "generation/processors/common.hpp"

namespace ortformers::generation {

TokenMatrix::TokenMatrix(std::vector<std::int64_t> values, std::int64_t rows_, std::int64_t cols_)
    : data(std::move(values)), rows(rows_), cols(cols_) {
  if (rows < 0 || cols < 0 || static_cast<std::int64_t>(data.size()) != rows * cols)
    throw InvalidArgument("TokenMatrix: " + std::to_string(data.size()) + " values for [" + std::to_string(rows) +
                          ", " + std::to_string(cols) + "]");
}

TokenMatrix TokenMatrix::from_rows(const std::vector<std::vector<std::int64_t>>& rows) {
  TokenMatrix m;
  m.rows = static_cast<std::int64_t>(rows.size());
  m.cols = rows.empty() ? 0 : static_cast<std::int64_t>(rows[0].size());
  for (const auto& r : rows) {
    if (static_cast<std::int64_t>(r.size()) != m.cols) throw InvalidArgument("TokenMatrix: rows of different lengths");
    m.data.insert(m.data.end(), r.begin(), r.end());
  }
  return m;
}

std::vector<std::string> LogitsProcessorList::names() const {
  std::vector<std::string> out;
  for (const auto& p : items_) out.push_back(p->name());
  return out;
}

LogitsProcessorList get_logits_processor(const GenerationConfig& c, std::int64_t input_ids_seq_length,
                                         const TokenMatrix* encoder_input_ids, bool is_encoder_decoder,
                                         const LogitsProcessorList& extra) {
  LogitsProcessorList list;
  const auto& eos = c.eos_token_id;
  if (c.sequence_bias) list.push_back(std::make_shared<SequenceBiasLogitsProcessor>(*c.sequence_bias));
  if (c.diversity_penalty > 0.0)
    list.push_back(std::make_shared<HammingDiversityLogitsProcessor>(c.diversity_penalty, c.num_beams, c.num_beam_groups));
  if (c.encoder_repetition_penalty != 1.0)
    list.push_back(std::make_shared<EncoderRepetitionPenaltyLogitsProcessor>(
        c.encoder_repetition_penalty, encoder_input_ids ? *encoder_input_ids : TokenMatrix{}));
  if (c.repetition_penalty != 1.0) list.push_back(std::make_shared<RepetitionPenaltyLogitsProcessor>(c.repetition_penalty));
  if (c.no_repeat_ngram_size > 0) list.push_back(std::make_shared<NoRepeatNGramLogitsProcessor>(c.no_repeat_ngram_size));
  if (c.encoder_no_repeat_ngram_size > 0) {
    if (!is_encoder_decoder)
      throw InvalidArgument("It's impossible to use `encoder_no_repeat_ngram_size` with decoder-only architecture");
    list.push_back(std::make_shared<EncoderNoRepeatNGramLogitsProcessor>(
        c.encoder_no_repeat_ngram_size, encoder_input_ids ? *encoder_input_ids : TokenMatrix{}));
  }
  if (c.bad_words_ids) list.push_back(std::make_shared<NoBadWordsLogitsProcessor>(*c.bad_words_ids, eos));
  if (!eos.empty() && c.min_length > 0) list.push_back(std::make_shared<MinLengthLogitsProcessor>(c.min_length, eos));
  if (!eos.empty() && c.min_new_tokens && *c.min_new_tokens > 0)
    list.push_back(std::make_shared<MinNewTokensLengthLogitsProcessor>(input_ids_seq_length, *c.min_new_tokens, eos));
  if (c.forced_bos_token_id) list.push_back(std::make_shared<ForcedBOSTokenLogitsProcessor>(*c.forced_bos_token_id));
  if (!c.forced_eos_token_id.empty())
    list.push_back(std::make_shared<ForcedEOSTokenLogitsProcessor>(c.max_length, c.forced_eos_token_id));
  if (c.remove_invalid_values) list.push_back(std::make_shared<InfNanRemoveLogitsProcessor>());
  if (c.exponential_decay_length_penalty)
    list.push_back(std::make_shared<ExponentialDecayLengthPenalty>(*c.exponential_decay_length_penalty, eos,
                                                                   input_ids_seq_length));
  if (c.suppress_tokens) list.push_back(std::make_shared<SuppressTokensLogitsProcessor>(*c.suppress_tokens));
  if (c.begin_suppress_tokens) {
    auto begin_index = input_ids_seq_length;
    if (!(input_ids_seq_length > 1 || !c.forced_bos_token_id)) begin_index += 1;
    if (c.forced_decoder_ids && !c.forced_decoder_ids->empty()) begin_index += c.forced_decoder_ids->back().first;
    list.push_back(std::make_shared<SuppressTokensAtBeginLogitsProcessor>(*c.begin_suppress_tokens, begin_index));
  }
  if (c.forced_decoder_ids) list.push_back(std::make_shared<ForceTokensLogitsProcessor>(*c.forced_decoder_ids));
  for (const auto& p : extra.items()) list.push_back(p);
  if (c.renormalize_logits) list.push_back(std::make_shared<LogitNormalization>());
  return list;
}

LogitsProcessorList get_logits_warper(const GenerationConfig& c) {
  LogitsProcessorList list;
  const std::int64_t min_tokens_to_keep = c.num_beams > 1 ? 2 : 1;
  if (c.temperature != 1.0) list.push_back(std::make_shared<TemperatureLogitsWarper>(c.temperature));
  if (c.top_k && *c.top_k != 0) list.push_back(std::make_shared<TopKLogitsWarper>(*c.top_k, min_tokens_to_keep));
  if (c.top_p < 1.0) list.push_back(std::make_shared<TopPLogitsWarper>(c.top_p, min_tokens_to_keep));
  if (c.typical_p < 1.0) list.push_back(std::make_shared<TypicalLogitsWarper>(c.typical_p, min_tokens_to_keep));
  if (c.epsilon_cutoff > 0.0 && c.epsilon_cutoff < 1.0)
    list.push_back(std::make_shared<EpsilonLogitsWarper>(c.epsilon_cutoff, min_tokens_to_keep));
  if (c.eta_cutoff > 0.0 && c.eta_cutoff < 1.0)
    list.push_back(std::make_shared<EtaLogitsWarper>(c.eta_cutoff, min_tokens_to_keep));
  if (c.renormalize_logits) list.push_back(std::make_shared<LogitNormalization>());
  return list;
}

}  // namespace ortformers::generation
