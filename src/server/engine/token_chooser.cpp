#include "server/engine/token_chooser.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/generation_config.hpp"

namespace ortformers::server {

TokenChooser::TokenChooser(const GenerationParams& params, std::vector<std::int64_t> prompt, std::int64_t vocab,
                           const generation::GenerationConfig& m, bool is_encoder_decoder,
                           const std::vector<std::int64_t>& encoder_ids)
    : params_(params), sample_(params.do_sample), vocab_(vocab) {
  prompt_length_ = static_cast<std::int64_t>(prompt.size());
  ids_ = generation::TokenMatrix(std::move(prompt), 1, prompt_length_);
  generation::GenerationConfig c;
  c.min_length = m.min_length;
  c.min_new_tokens = m.min_new_tokens;
  c.no_repeat_ngram_size = m.no_repeat_ngram_size;
  c.bad_words_ids = m.bad_words_ids;
  c.forced_bos_token_id = m.forced_bos_token_id;
  c.forced_eos_token_id = m.forced_eos_token_id;
  c.suppress_tokens = m.suppress_tokens;
  c.begin_suppress_tokens = m.begin_suppress_tokens;
  c.sequence_bias = m.sequence_bias;
  c.eos_token_id = m.eos_token_id;
  c.pad_token_id = m.pad_token_id;
  c.bos_token_id = m.bos_token_id;
  c.decoder_start_token_id = m.decoder_start_token_id;
  c.forced_decoder_ids = m.forced_decoder_ids;  // Whisper's language / task / notimestamps tokens
  if (is_encoder_decoder && !encoder_ids.empty()) {
    c.encoder_no_repeat_ngram_size = m.encoder_no_repeat_ngram_size;
    c.encoder_repetition_penalty = m.encoder_repetition_penalty;
    encoder_ids_ = generation::TokenMatrix(encoder_ids, 1, static_cast<std::int64_t>(encoder_ids.size()));
  }
  c.max_length = prompt_length_ + params.max_new_tokens;
  c.do_sample = params.do_sample;
  c.temperature = params.temperature;
  c.top_k = params.top_k;
  c.top_p = params.top_p;
  c.typical_p = params.typical_p;
  c.repetition_penalty = params.repetition_penalty;
  if (params.repetition_penalty <= 0)
    throw InvalidArgument("`repetition_penalty` has to be a strictly positive float, but is " +
                          std::to_string(params.repetition_penalty));
  processors_ = generation::get_logits_processor(c, prompt_length_, encoder_ids_.data.empty() ? nullptr : &encoder_ids_,
                                                 is_encoder_decoder);
  if (sample_) warpers_ = generation::get_logits_warper(c);
  seed_ =
      params.seed ? *params.seed : (static_cast<std::uint64_t>(std::random_device{}()) << 32 | std::random_device{}());
  rng_ = std::make_unique<generation::SamplingRng>(seed_);
  work_.resize(static_cast<std::size_t>(vocab));
  if (params.presence_penalty != 0 || params.frequency_penalty != 0) counts_.assign(static_cast<std::size_t>(vocab), 0);
}

GeneratedToken TokenChooser::choose(float* logits) {
  generation::ScoresRef scores{logits, 1, vocab_};
  processors_(ids_, scores);
  if (!counts_.empty()) {
    for (std::int64_t i = 0; i < vocab_; ++i) {
      const auto n = counts_[static_cast<std::size_t>(i)];
      if (n > 0) logits[i] -= static_cast<float>(params_.frequency_penalty * n + params_.presence_penalty);
    }
  }
  if (sample_) warpers_(ids_, scores);
  GeneratedToken t;
  const bool logprobs = params_.logprobs || params_.top_n_tokens > 0;
  if (logprobs) generation::log_softmax(logits, work_.data(), vocab_);
  if (sample_) {
    probs_.resize(static_cast<std::size_t>(vocab_));
    generation::softmax(logits, probs_.data(), vocab_);
    t.id = rng_->categorical(probs_);
  } else {
    t.id = std::max_element(logits, logits + vocab_) - logits;
  }
  if (logprobs) t.logprob = work_[static_cast<std::size_t>(t.id)];
  if (params_.top_n_tokens > 0) {
    const std::int64_t k = std::min<std::int64_t>(params_.top_n_tokens, vocab_);
    std::vector<std::int64_t> idx(static_cast<std::size_t>(vocab_));
    std::iota(idx.begin(), idx.end(), 0);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](std::int64_t a, std::int64_t b) {
      const float va = work_[static_cast<std::size_t>(a)], vb = work_[static_cast<std::size_t>(b)];
      return va != vb ? va > vb : a < b;
    });
    for (std::int64_t i = 0; i < k; ++i)
      t.top.push_back(
          {idx[static_cast<std::size_t>(i)], work_[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)])]});
  }
  ids_.data.push_back(t.id);
  ids_.cols += 1;
  if (!counts_.empty()) counts_[static_cast<std::size_t>(t.id)] += 1;
  return t;
}

}  // namespace ortformers::server
