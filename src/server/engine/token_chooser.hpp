#pragma once
// TGI's NextTokenChooser: the logits processing and the choice of one sequence's next token, with its own processors
// (transformers 4.31's, built by get_logits_processor / get_logits_warper from the request's parameters), OpenAI's
// presence / frequency penalties, and its own random generator (SamplingRng, seeded per request). Every row of a
// running batch has one, so rows never share sampling state.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "ortformers/generation/generation_config.hpp"
#include "ortformers/generation/logits_processors.hpp"
#include "ortformers/generation/sampling.hpp"
#include "server/engine/generation_request.hpp"

namespace ortformers::server {

class TokenChooser {
 public:
  // InvalidArgument (transformers' text) for parameters the processors refuse (temperature <= 0, top_p outside (0, 1]).
  // `prompt`: the ids the processors see as input_ids (decoder-only: the prompt; encoder-decoder: the decoder start
  // token). `model_config`: the model's generation_config, whose constraints generate() applies too (min_length /
  // min_new_tokens, no_repeat_ngram_size, bad_words_ids, forced BOS / EOS, forced_decoder_ids (Whisper's language /
  // task tokens), suppress_tokens, begin_suppress_tokens,
  // sequence_bias, the encoder_* processors with `encoder_ids`); its sampling defaults (do_sample, temperature,
  // top_k, top_p, repetition_penalty) are not taken: the request's parameters decide, as TGI's.
  TokenChooser(const GenerationParams& params, std::vector<std::int64_t> prompt, std::int64_t vocab,
               const generation::GenerationConfig& model_config = {}, bool is_encoder_decoder = false,
               const std::vector<std::int64_t>& encoder_ids = {});
  // Picks the next token from raw logits [vocab] (modified in place) and records it as generated.
  GeneratedToken choose(float* logits);
  bool sampling() const noexcept { return sample_; }
  std::uint64_t seed() const noexcept { return seed_; }
  std::int64_t generated() const noexcept { return static_cast<std::int64_t>(ids_.cols - prompt_length_); }

 private:
  GenerationParams params_;
  bool sample_;
  std::uint64_t seed_;
  std::int64_t vocab_;
  std::int64_t prompt_length_;
  generation::TokenMatrix ids_;          // [1, prompt + generated]
  generation::TokenMatrix encoder_ids_;  // [1, encoder tokens] (encoder-decoder processors), else empty
  generation::LogitsProcessorList processors_, warpers_;
  std::unique_ptr<generation::SamplingRng> rng_;
  std::vector<float> work_;           // log-softmax (when logprobs are wanted)
  std::vector<float> probs_;          // sampling probabilities
  std::vector<std::int32_t> counts_;  // generated occurrences per id (penalties)
};

}  // namespace ortformers::server
