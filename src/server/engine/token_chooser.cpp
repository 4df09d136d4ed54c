#include "server/engine/token_chooser.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "ortformers/core/error.hpp"
#include "ortformers/generation/generation_config.hpp"

namespace ortformers::server {

TokenChooser::TokenChooser(const GenerationParams& params, std::vector<std::int64_t> prompt, std::int64_t vocab)
    : params_(params), sample_(params.do_sample), vocab_(vocab) {
  prompt_length_ = static_cast<std::int64_t>(prompt.size());
  ids_ = generation::TokenMatrix(std::move(prompt), 1, prompt_length_);
  generation::GenerationConfig c;
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
  processors_ = generation::get_logits_processor(c, prompt_length_, nullptr, false);
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
